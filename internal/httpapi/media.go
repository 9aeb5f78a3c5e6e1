package httpapi

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/ratelimit"
)

// multipartSlack is the room a multipart upload may take beyond the
// file's size, for boundaries, part headers and small fields.
const multipartSlack = 64 << 10

// mediaCSP sandboxes anything a browser renders from a media response.
const mediaCSP = "default-src 'none'; sandbox"

// mediaCacheControl lets a browser keep a copy but ask again each time,
// so a file is never shown from cache after its viewer lost access.
const mediaCacheControl = "private, no-cache"

// uncapped is the router's body cap for the upload route, which caps
// bodies itself because the cap depends on the body's form.
const uncapped int64 = math.MaxInt64

// handleUpload caps the body at the file size cap, plus multipartSlack
// for a multipart body. A declared Content-Length over it is refused
// before any byte is read.
func (a *API) handleUpload(svc *media.Service, limit *ratelimit.Window) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if d := limit.Allow(p.UserID); !d.Allowed {
			svc.Metrics().UploadRejected(media.RejectRateLimited)
			return rateLimited(d, ScopeUser, "You are uploading too fast.")
		}
		bodyCap := svc.MaxUploadBytes()
		if isMultipart(r) {
			bodyCap += multipartSlack
		}
		if r.ContentLength > bodyCap {
			svc.Metrics().UploadRejected(media.RejectTooLarge)
			return uploadTooLarge(svc)
		}
		r.Body = http.MaxBytesReader(w, r.Body, bodyCap)

		filename, body, err := uploadSource(r)
		if err != nil {
			return uploadError(svc, err)
		}
		m, err := svc.Upload(r.Context(), p.UserID, filename, body)
		if err != nil {
			return uploadError(svc, err)
		}
		writeJSON(w, http.StatusCreated, apijson.NewMedia(m))
		return nil
	}
}

func isMultipart(r *http.Request) bool {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mediaType == "multipart/form-data"
}

func uploadTooLarge(svc *media.Service) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodePayloadTooLarge, Message: fmt.Sprintf(
		"The file is larger than the upload size cap of %s.", config.FormatBytes(svc.MaxUploadBytes()))}
}

// uploadError maps a failed upload to its client error. A body that
// ended early is incomplete, and one that breaks the multipart format in
// another way is invalid. The media service counts the rejections it
// detects, and this counts those of the multipart parts before the file.
func uploadError(svc *media.Service, err error) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, media.ErrTooLarge):
		return uploadTooLarge(svc)
	case errors.As(err, &tooLarge):
		svc.Metrics().UploadRejected(media.RejectTooLarge)
		return uploadTooLarge(svc)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Code: "upload_incomplete",
			Message: "The upload ended before the whole body arrived.", Cause: err}
	case errors.Is(err, media.ErrIncomplete) || errors.Is(err, errMalformedMultipart):
		return invalidUpload("The multipart body is malformed.")
	}
	return err
}

// errMalformedMultipart marks a multipart body that could not be parsed.
var errMalformedMultipart = errors.New("malformed multipart body")

// uploadSource returns the file of an upload: the part named "file" of a
// multipart/form-data body, or else the whole body, named by the
// filename query parameter. The client's Content-Type never decides the
// file's type.
func uploadSource(r *http.Request) (string, io.Reader, error) {
	if !isMultipart(r) {
		return r.URL.Query().Get("filename"), r.Body, nil
	}
	parts, err := r.MultipartReader()
	if err != nil {
		return "", nil, invalidUpload("The multipart body has no valid boundary.")
	}
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, invalidUpload("The multipart body has no part named file.")
		}
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", errMalformedMultipart, err)
		}
		if part.FormName() == "file" {
			return part.FileName(), part, nil
		}
		if _, err := io.Copy(io.Discard, part); err != nil {
			return "", nil, fmt.Errorf("%w: %w", errMalformedMultipart, err)
		}
	}
}

func invalidUpload(message string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_upload", Message: message}
}

func handleGetMedia(svc *media.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		m, err := svc.Get(r.Context(), p.UserID, r.PathValue("media_id"))
		if err != nil {
			return err
		}
		etag := `"` + m.SHA256 + `"`
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			setMediaHeaders(w, etag)
			w.WriteHeader(http.StatusNotModified)
			return nil
		}

		rng := parseRange(r, m.Size, etag)
		if rng.unsatisfiable {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", m.Size))
			return &Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "range_not_satisfiable",
				Message: fmt.Sprintf("The range selects no bytes of the %d-byte file: it starts past the end, or asks for none.", m.Size)}
		}
		length := int64(-1)
		if rng.partial {
			length = rng.length
		}
		body, err := svc.Open(r.Context(), m, rng.start, length)
		if err != nil {
			return err
		}
		defer body.Close()

		servedType, inline := media.ServedType(m.ContentType)
		setMediaHeaders(w, etag)
		h := w.Header()
		h.Set("Content-Type", servedType)
		h.Set("Content-Disposition", contentDisposition(inline, m.Filename))
		h.Set("Accept-Ranges", "bytes")
		status := http.StatusOK
		if rng.partial {
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.start, rng.start+rng.length-1, m.Size))
			h.Set("Content-Length", strconv.FormatInt(rng.length, 10))
		} else {
			h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			io.Copy(w, body) // a failure here is the client's connection; the status is sent
		}
		return nil
	}
}

func handleThumbnail(svc *media.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		width, err := thumbnailEdge(r, "width")
		if err != nil {
			return err
		}
		height, err := thumbnailEdge(r, "height")
		if err != nil {
			return err
		}
		thumb, err := svc.Thumbnail(r.Context(), p.UserID, r.PathValue("media_id"), width, height)
		if err != nil {
			return err
		}
		etag := `"` + thumb.ETag + `"`
		setMediaHeaders(w, etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		h := w.Header()
		h.Set("Content-Type", thumb.ContentType)
		h.Set("Content-Disposition", "inline")
		h.Set("Content-Length", strconv.Itoa(len(thumb.Data)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(thumb.Data)
		}
		return nil
	}
}

// thumbnailEdge reads a thumbnail box edge from the query; absent means
// the default size, and any number is clamped to an allowed size.
func thumbnailEdge(r *http.Request, name string) (int, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return media.DefaultThumbnailSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, validationError(FieldError{Field: name, Message: "must be a whole number of pixels"})
	}
	return n, nil
}

func handleDeleteMedia(svc *media.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := svc.Delete(r.Context(), p.UserID, r.PathValue("media_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// etagMatches reports whether an If-None-Match header names etag: "*",
// or a comma-separated list holding it, weak (W/) or strong. The bytes
// behind a media ETag never change, so a weak match is as good.
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}

// setMediaHeaders sets the headers every media response carries.
func setMediaHeaders(w http.ResponseWriter, etag string) {
	h := w.Header()
	h.Set("Content-Security-Policy", mediaCSP)
	h.Set("Cache-Control", mediaCacheControl)
	if etag != "" {
		h.Set("ETag", etag)
	}
}

// contentDisposition offers the sanitised file name, inline only for the
// types a browser may show in place.
func contentDisposition(inline bool, filename string) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": filename}); v != "" {
		return v
	}
	return kind
}

// byteRange is the part of a file a GET asked for.
type byteRange struct {
	partial       bool // a single satisfiable range
	unsatisfiable bool // a single range that starts past the end
	start, length int64
}

// parseRange reads a Range header of one byte range: "bytes=a-b",
// "bytes=a-" or "bytes=-n". A header that is malformed, lists several
// ranges, or carries an If-Range that does not match etag is ignored, so
// the whole file is sent. A start too large for int64 is past the end.
func parseRange(r *http.Request, size int64, etag string) byteRange {
	header := r.Header.Get("Range")
	if header == "" || (r.Header.Get("If-Range") != "" && r.Header.Get("If-Range") != etag) {
		return byteRange{}
	}

	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok || strings.ContainsAny(spec, ", ") {
		return byteRange{}
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return byteRange{}
	}
	if first == "" { // suffix: the last n bytes
		n, err := parseRangeNumber(last)
		if err != nil {
			return byteRange{}
		}
		if n == 0 || size == 0 {
			return byteRange{unsatisfiable: true}
		}
		n = min(n, size)
		return byteRange{partial: true, start: size - n, length: n}
	}

	start, err := parseRangeNumber(first)
	if errors.Is(err, strconv.ErrRange) {
		return byteRange{unsatisfiable: true} // starts past any file's end
	}
	if err != nil {
		return byteRange{}
	}
	end := size - 1
	if last != "" {
		end, err = parseRangeNumber(last)
		if errors.Is(err, strconv.ErrRange) {
			end, err = size-1, nil // ends past any file's end
		}
		if err != nil || end < start {
			return byteRange{}
		}
		end = min(end, size-1)
	}
	if start >= size {
		return byteRange{unsatisfiable: true}
	}
	return byteRange{partial: true, start: start, length: end - start + 1}
}

// parseRangeNumber parses a byte position of a Range header: digits only,
// no sign. A number too large for int64 returns strconv.ErrRange.
func parseRangeNumber(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}
