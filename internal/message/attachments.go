package message

import (
	"fmt"
	"strings"

	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/validate"
)

// MaxAttachments is the most files one message may carry.
const MaxAttachments = 10

// CheckAttachments validates the attachment ids of a send: at most
// MaxAttachments distinct, well-formed ids, and ATTACH_FILES to send any.
func CheckAttachments(ids []string, perms permission.Set) error {
	if len(ids) == 0 {
		return nil
	}
	if !perms.Has(permission.AttachFiles) {
		return ErrForbidden
	}
	if len(ids) > MaxAttachments {
		return &validate.Error{Field: "attachment_ids", Message: fmt.Sprintf("must list at most %d media ids", MaxAttachments)}
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return &validate.Error{Field: "attachment_ids", Message: "must hold media ids as returned by an upload"}
		}
		if seen[id] {
			return &validate.Error{Field: "attachment_ids", Message: "must not list the same media twice"}
		}
		seen[id] = true
	}
	return nil
}

// checkSendContent applies CheckContent, except that a message with
// attachments may have no text.
func checkSendContent(content string, hasAttachments bool, max int) (string, error) {
	if hasAttachments && strings.TrimSpace(content) == "" {
		return "", nil
	}
	return CheckContent(content, max)
}
