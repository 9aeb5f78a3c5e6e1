package media

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/objectstore"
	"github.com/openguild/openguild/internal/permission"
)

// ErrForbidden is returned when a user who may see a media file tries to
// delete it without being its uploader.
var ErrForbidden = errors.New("only the uploader may change this media")

// Get returns a media file that userID may see: one they uploaded, or one
// attached to a live message in a channel where they may read history.
// It returns ErrNotFound for every other id.
func (s *Service) Get(ctx context.Context, userID, id string) (Media, error) {
	m, err := s.store.Media(ctx, id)
	if err != nil {
		return Media{}, err
	}
	ok, err := s.visible(ctx, userID, m)
	if err != nil {
		return Media{}, err
	}
	if !ok {
		return Media{}, ErrNotFound
	}
	return m, nil
}

func (s *Service) visible(ctx context.Context, userID string, m Media) (bool, error) {
	if m.UploaderID == userID {
		return true, nil
	}
	channels, err := s.store.AttachedChannels(ctx, m.ID)
	if err != nil {
		return false, err
	}
	for _, channelID := range channels {
		_, perms, err := s.channels.ChannelAccess(ctx, userID, channelID)
		if errors.Is(err, guild.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if perms.Has(permission.ReadMessageHistory) {
			return true, nil
		}
	}
	return false, nil
}

// Open returns a reader of a media file's bytes: the whole file when
// length is negative, else length bytes from offset. The caller has
// checked visibility with Get and must close the reader.
func (s *Service) Open(ctx context.Context, m Media, offset, length int64) (io.ReadCloser, error) {
	var body io.ReadCloser
	var err error
	if length < 0 {
		body, _, err = s.objects.Get(ctx, objectKey(m.SHA256))
	} else {
		body, err = s.objects.GetRange(ctx, objectKey(m.SHA256), offset, length)
	}
	if errors.Is(err, objectstore.ErrNotFound) {
		// The row promises the object; its absence is a storage fault.
		return nil, fmt.Errorf("open media %s: object %s is missing from the store", m.ID, m.SHA256)
	}
	if err != nil {
		return nil, fmt.Errorf("open media %s: %w", m.ID, err)
	}
	return body, nil
}

// Delete removes a media file that userID uploaded and no live message
// has attached. It returns ErrNotFound, ErrForbidden when userID may see
// it but did not upload it, or ErrInUse. The object goes at the next
// collection after the grace period, unless another upload shares it.
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	m, err := s.Get(ctx, userID, id)
	if err != nil {
		return err
	}
	if m.UploaderID != userID {
		return ErrForbidden
	}
	return s.store.Delete(ctx, id, s.clock.Now())
}
