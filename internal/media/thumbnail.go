package media

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"
	"time"

	"golang.org/x/image/draw"

	"github.com/openguild/openguild/internal/objectstore"
)

// ThumbnailSizes are the edges a thumbnail box may have, in pixels.
// Requested widths and heights snap to the nearest of them.
var ThumbnailSizes = []int{64, 256, 800}

// thumbnailTimeout bounds one thumbnail generation, waiting for the
// decode budget included.
const thumbnailTimeout = time.Minute

// collectAfterBytes is the decode share from which a thumbnail collects
// garbage once done, about a 16 megapixel image. Smaller decodes are left
// to the collector's own pacing, which they cannot push far past the
// budget.
const collectAfterBytes = 64 << 20

// DefaultThumbnailSize is the box edge used when a request names none.
const DefaultThumbnailSize = 256

// Thumbnail is an encoded thumbnail image.
type Thumbnail struct {
	Data        []byte
	ContentType string // image/png or image/jpeg
	ETag        string // unquoted; names the source's bytes and the box
}

// ClampThumbnailSize snaps a requested edge to the nearest allowed size,
// preferring the smaller of two equally near ones.
func ClampThumbnailSize(n int) int {
	best := ThumbnailSizes[0]
	for _, size := range ThumbnailSizes[1:] {
		if abs(n-size) < abs(n-best) {
			best = size
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Thumbnail returns a media image scaled down, never up, to fit a box of
// width × height (each clamped with ClampThumbnailSize) with its aspect
// ratio kept, re-encoded without metadata. Each thumbnail is generated
// once and cached in the object store.
//
// It returns ErrNotFound as Get does, and ErrInvalidImage for a file that
// is not an image, or is truncated, corrupt, over 50 megapixels or too
// large for the decode budget.
func (s *Service) Thumbnail(ctx context.Context, userID, id string, width, height int) (Thumbnail, error) {
	m, err := s.Get(ctx, userID, id)
	if err != nil {
		return Thumbnail{}, err
	}
	if !isDecodable(m.ContentType) || m.Width == 0 || int64(m.Width)*int64(m.Height) > maxPixels {
		return Thumbnail{}, ErrInvalidImage
	}
	box := image.Pt(ClampThumbnailSize(width), ClampThumbnailSize(height))
	contentType := "image/png"
	if m.ContentType == "image/jpeg" {
		contentType = "image/jpeg"
	}
	key := fmt.Sprintf("%s%dx%d", thumbnailPrefix(m.SHA256), box.X, box.Y)

	etag := fmt.Sprintf("%s-%dx%d", m.SHA256, box.X, box.Y)
	if data, err := s.cachedThumbnail(ctx, key); err != nil || data != nil {
		return Thumbnail{Data: data, ContentType: contentType, ETag: etag}, err
	}
	v, err, _ := s.thumbnails.Do(key, func() (any, error) {
		// Callers share this generation, so one leaving must not cancel
		// it for the others; the result is cached for later ones too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), thumbnailTimeout)
		defer cancel()
		return s.generateThumbnail(ctx, m, box, contentType, key)
	})
	if err != nil {
		return Thumbnail{}, err
	}
	return Thumbnail{Data: v.([]byte), ContentType: contentType, ETag: etag}, nil
}

// cachedThumbnail returns a stored thumbnail, or nil when there is none.
func (s *Service) cachedThumbnail(ctx context.Context, key string) ([]byte, error) {
	body, _, err := s.objects.Get(ctx, key)
	if errors.Is(err, objectstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read thumbnail %s: %w", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("read thumbnail %s: %w", key, err)
	}
	return data, nil
}

func (s *Service) generateThumbnail(ctx context.Context, m Media, box image.Point, contentType, key string) ([]byte, error) {
	start := time.Now()

	// Decoded pixels take at most 4 bytes each, in the source and in
	// the thumbnail, which is no larger than the box.
	weight := 4 * (int64(m.Width)*int64(m.Height) + int64(box.X)*int64(box.Y))
	if weight > s.opts.DecodeBudgetBytes {
		return nil, ErrInvalidImage
	}
	if err := s.decodes.Acquire(ctx, weight); err != nil {
		return nil, err
	}
	defer s.decodes.Release(weight)

	data, err := s.render(ctx, m, box, contentType)
	if weight >= collectAfterBytes {
		// The decoded pixels are garbage now. Collecting them before the
		// next decode takes this share keeps the heap near the budget,
		// where Go's collector alone lets several decodes' garbage pile up.
		runtime.GC()
	}
	if err != nil {
		return nil, err
	}

	if err := s.objects.Put(ctx, key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		// The thumbnail is still good to serve; the next request retries
		// the cache.
		s.logger.WarnContext(ctx, "cache thumbnail", "media_id", m.ID, "key", key, "err", err)
	}
	s.metrics.ThumbnailGenerated(time.Since(start))
	return data, nil
}

// render decodes a media image, scales it into box and encodes the
// result as contentType.
func (s *Service) render(ctx context.Context, m Media, box image.Point, contentType string) ([]byte, error) {
	src, orientation, err := s.decode(ctx, m)
	if err != nil {
		return nil, err
	}

	// The row has the upright dimensions. A stored picture turned a
	// quarter is scaled with its axes swapped, then turned upright.
	upright := fitInside(image.Pt(m.Width, m.Height), box)
	size := upright
	if swapsAxes(orientation) {
		size = image.Pt(upright.Y, upright.X)
	}
	dst := image.NewRGBA(image.Rectangle{Max: size})
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return encode(orient(dst, orientation), contentType)
}

// decode reads a media image whole, with the Exif orientation of a JPEG
// (1 for other images). The caller has checked its header dimensions,
// which the row recorded from the same bytes. Any failure, including a
// panic in a decoder, means the file is not a usable image.
func (s *Service) decode(ctx context.Context, m Media) (img image.Image, orientation int, err error) {
	body, err := s.Open(ctx, m, 0, -1)
	if err != nil {
		return nil, 0, err
	}
	defer body.Close()
	defer func() {
		if p := recover(); p != nil {
			s.logger.WarnContext(ctx, "image decoder panicked", "media_id", m.ID, "panic", p)
			img, err = nil, ErrInvalidImage
		}
	}()

	r := bufio.NewReaderSize(body, exifSearchBytes)
	orientation = 1
	if m.ContentType == "image/jpeg" {
		head, _ := r.Peek(exifSearchBytes) // a short file returns what it has
		orientation = jpegOrientation(head)
	}
	img, _, err = image.Decode(r)
	if err != nil {
		return nil, 0, ErrInvalidImage
	}
	return img, orientation, nil
}

// exifSearchBytes is how much of a JPEG's start is searched for Exif
// data, which cameras put in the first segments. An APP1 segment holds
// at most 64 KiB.
const exifSearchBytes = 128 << 10

// fitInside returns the size of src scaled down, never up, to fit box
// with its aspect ratio kept; no edge is below one pixel.
func fitInside(src, box image.Point) image.Point {
	if src.X <= box.X && src.Y <= box.Y {
		return src
	}
	// Compare src.X/box.X with src.Y/box.Y without floating point.
	if int64(src.X)*int64(box.Y) >= int64(src.Y)*int64(box.X) {
		return image.Pt(box.X, max(1, int(int64(src.Y)*int64(box.X)/int64(src.X))))
	}
	return image.Pt(max(1, int(int64(src.X)*int64(box.Y)/int64(src.Y))), box.Y)
}

// encode writes img as a new file that carries nothing but pixels.
func encode(img image.Image, contentType string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if contentType == "image/jpeg" {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	}
	if err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}
