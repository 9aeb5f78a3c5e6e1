package httpapi_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/servertest"
)

type mediaJSON struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	CreatedAt   string `json:"created_at"`
}

// uploadMultipart sends data as the part "file" of a multipart body, with
// the given part Content-Type, which the server must ignore.
func uploadMultipart(t *testing.T, s *servertest.Server, tok tokens, filename, partType string, data []byte) *servertest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header := make(map[string][]string)
	header["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename=%q`, filename)}
	header["Content-Type"] = []string{partType}
	part, err := mw.CreatePart(header)
	if err != nil {
		t.Fatalf("create multipart part: %v", err)
	}
	part.Write(data)
	mw.Close()
	return s.Do(t, "POST", "/api/v1/media", body.Bytes(),
		append(bearer(tok.AccessToken), "Content-Type", mw.FormDataContentType())...)
}

func mustUpload(t *testing.T, s *servertest.Server, tok tokens, filename string, data []byte) mediaJSON {
	t.Helper()
	resp := uploadMultipart(t, s, tok, filename, "application/octet-stream", data)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", filename, resp.StatusCode, resp.Body)
	}
	var m mediaJSON
	resp.JSON(t, &m)
	return m
}

func uploadRaw(t *testing.T, s *servertest.Server, tok tokens, filename, contentType string, data []byte) *servertest.Response {
	t.Helper()
	return s.Do(t, "POST", "/api/v1/media?filename="+filename, data,
		append(bearer(tok.AccessToken), "Content-Type", contentType)...)
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode PNG: %v", err)
	}
	return buf.Bytes()
}

// pngHeaderOnly is a PNG that declares w × h pixels and carries almost no
// pixel data: a few hundred bytes that claim gigabytes once decoded.
func pngHeaderOnly(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		buf.WriteString(kind)
		buf.Write(data)
		binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00})
	chunk("IEND", nil)
	return buf.Bytes()
}

// jpegWithExif is a JPEG whose APP1 segment holds Exif data: orientation
// 6 (stored turned a quarter, shown upright by turning it clockwise) and
// a recognisable location marker.
func jpegWithExif(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatalf("encode JPEG: %v", err)
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08" + // big-endian TIFF, first IFD at 8
		"\x00\x01" + "\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00" + // orientation 6
		"\x00\x00\x00\x00" + "GPS-LOCATION-MARKER")
	payload := append([]byte("Exif\x00\x00"), tiff...)
	segment := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(segment[2:], uint16(len(payload)+2))
	segment = append(segment, payload...)
	data := buf.Bytes()
	return append(append(append([]byte{}, data[:2]...), segment...), data[2:]...)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestMediaUploadAndVisibility(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		register(t, s, "outsider")
		outsider := login(t, s, "outsider", "d")
		data := testPNG(t, 120, 80)

		m := mustUpload(t, s, c.owner, "holiday.png", data)
		if m.ContentType != "image/png" || m.Size != int64(len(data)) || m.SHA256 != sha256Hex(data) ||
			m.Width != 120 || m.Height != 80 || m.Filename != "holiday.png" {
			t.Fatalf("upload = %+v", m)
		}

		path := "/api/v1/media/" + m.ID
		resp := s.Do(t, "GET", path, nil, bearer(c.owner.AccessToken)...)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(resp.Body, data) {
			t.Fatalf("uploader download: %d, %d bytes", resp.StatusCode, len(resp.Body))
		}
		wantHeaders := map[string]string{
			"Content-Type":            "image/png",
			"Content-Security-Policy": "default-src 'none'; sandbox",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "private, no-cache",
			"Etag":                    `"` + m.SHA256 + `"`,
			"Content-Disposition":     "inline; filename=holiday.png",
		}
		for name, want := range wantHeaders {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("header %s = %q, want %q", name, got, want)
			}
		}
		if resp := s.Do(t, "GET", path, nil, append(bearer(c.owner.AccessToken), "If-None-Match", `"`+m.SHA256+`"`)...); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
		}
		if resp := s.Do(t, "GET", path, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("no token: status %d, want 401", resp.StatusCode)
		}

		// Unattached media is the uploader's alone.
		expectStatus(t, "member before attach", s.Do(t, "GET", path, nil, bearer(c.member.AccessToken)...), 404, "not_found")

		sent := c.send(t, c.owner, map[string]any{"content": "look", "attachment_ids": []string{m.ID}})
		if sent.StatusCode != http.StatusCreated {
			t.Fatalf("send with attachment: %d %s", sent.StatusCode, sent.Body)
		}
		var msg struct {
			Attachments []mediaJSON `json:"attachments"`
		}
		sent.JSON(t, &msg)
		if len(msg.Attachments) != 1 || msg.Attachments[0] != m {
			t.Fatalf("message attachments = %+v, want [%+v]", msg.Attachments, m)
		}
		var history []struct {
			Attachments []mediaJSON `json:"attachments"`
		}
		s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/messages", nil, bearer(c.member.AccessToken)...).JSON(t, &history)
		if len(history) == 0 || len(history[len(history)-1].Attachments) != 1 {
			t.Errorf("history does not carry the attachment: %+v", history)
		}

		if resp := s.Do(t, "GET", path, nil, bearer(c.member.AccessToken)...); resp.StatusCode != http.StatusOK {
			t.Errorf("member after attach: status %d, want 200", resp.StatusCode)
		}
		expectStatus(t, "outsider", s.Do(t, "GET", path, nil, bearer(outsider.AccessToken)...), 404, "not_found")
		expectStatus(t, "unknown id", s.Do(t, "GET", "/api/v1/media/nope", nil, bearer(c.owner.AccessToken)...), 404, "not_found")

		// Attaching someone else's upload is refused as if it did not exist.
		resp = c.send(t, c.member, map[string]any{"content": "mine now", "attachment_ids": []string{m.ID}})
		expectStatus(t, "attach another user's media", resp, 400, "validation_error")
	})
}

func TestMediaAttachmentRules(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(generousLimits))
	c := newChat(t, s)
	m := mustUpload(t, s, c.owner, "a.txt", []byte("hello"))

	resp := c.send(t, c.owner, map[string]any{"attachment_ids": []string{m.ID}})
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("attachments without content: %d %s", resp.StatusCode, resp.Body)
	}
	expectStatus(t, "no content, no attachments", c.send(t, c.owner, map[string]any{"content": " "}), 400, "validation_error")
	expectStatus(t, "repeated id", c.send(t, c.owner, map[string]any{"content": "x", "attachment_ids": []string{m.ID, m.ID}}), 400, "validation_error")
	ids := make([]string, 11)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	expectStatus(t, "eleven ids", c.send(t, c.owner, map[string]any{"content": "x", "attachment_ids": ids}), 400, "validation_error")

	// Without ATTACH_FILES (the @everyone role loses it), files are refused.
	everyone := s.Do(t, "PATCH", "/api/v1/guilds/"+c.guild+"/roles/"+c.guild, map[string]string{"permissions": "7"}, bearer(c.owner.AccessToken)...)
	if everyone.StatusCode != http.StatusOK {
		t.Fatalf("restrict @everyone: %d %s", everyone.StatusCode, everyone.Body)
	}
	mm := mustUpload(t, s, c.member, "b.txt", []byte("member file"))
	expectStatus(t, "without ATTACH_FILES", c.send(t, c.member, map[string]any{"content": "x", "attachment_ids": []string{mm.ID}}), 403, "forbidden")
}

func TestMediaServedSafely(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")

	gifJS := func() []byte {
		var buf bytes.Buffer
		gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 2, 2), []color.Color{color.Black, color.White}), nil)
		return append(buf.Bytes(), []byte("/*\n*/=1;alert(document.cookie)//")...)
	}()
	tests := []struct {
		name, filename, claimed string
		data                    []byte
		wantType                string // sniffed, as the API reports it
		wantServed              string
		wantDisposition         string
	}{
		{"html claiming png", "page.png", "image/png", []byte("<html><script>alert(1)</script></html>"),
			"text/html; charset=utf-8", "application/octet-stream", "attachment; filename=page.png"},
		{"svg with script", "logo.svg", "image/svg+xml",
			[]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
			"text/xml; charset=utf-8", "application/octet-stream", "attachment; filename=logo.svg"},
		{"pdf", "doc.pdf", "application/pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
			"application/pdf", "application/octet-stream", "attachment; filename=doc.pdf"},
		{"polyglot gif and script", "cat.gif", "text/javascript", gifJS,
			"image/gif", "image/gif", "inline; filename=cat.gif"},
		{"empty file", "empty.bin", "text/plain", nil,
			"application/octet-stream", "application/octet-stream", "attachment; filename=empty.bin"},
		{"path in name", "../../etc/passwd", "text/plain", []byte("root:x:0:0"),
			"text/plain; charset=utf-8", "application/octet-stream", "attachment; filename=passwd"},
		{"nul and controls in name", "a\x00b\x07c.txt", "text/plain", []byte("x"),
			"text/plain; charset=utf-8", "application/octet-stream", "attachment; filename=abc.txt"},
		{"long name", strings.Repeat("n", 2000) + ".txt", "text/plain", []byte("y"),
			"text/plain; charset=utf-8", "application/octet-stream",
			"attachment; filename=" + strings.Repeat("n", 251) + ".txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := uploadMultipart(t, s, tok, tt.filename, tt.claimed, tt.data)
			if strings.ContainsFunc(tt.filename, unicode.IsControl) {
				// A multipart header cannot carry control characters.
				resp = uploadRaw(t, s, tok, url.QueryEscape(tt.filename), tt.claimed, tt.data)
			}
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %s", resp.StatusCode, resp.Body)
			}
			var m mediaJSON
			resp.JSON(t, &m)
			if m.ContentType != tt.wantType || m.Size != int64(len(tt.data)) {
				t.Errorf("upload = %+v, want type %q size %d", m, tt.wantType, len(tt.data))
			}
			got := s.Do(t, "GET", "/api/v1/media/"+m.ID, nil, bearer(tok.AccessToken)...)
			if got.StatusCode != http.StatusOK || !bytes.Equal(got.Body, tt.data) {
				t.Fatalf("download: %d, body %q", got.StatusCode, got.Body)
			}
			if v := got.Header.Get("Content-Type"); v != tt.wantServed {
				t.Errorf("Content-Type = %q, want %q", v, tt.wantServed)
			}
			if v := got.Header.Get("Content-Disposition"); v != tt.wantDisposition {
				t.Errorf("Content-Disposition = %q, want %q", v, tt.wantDisposition)
			}
			if v := got.Header.Get("X-Content-Type-Options"); v != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", v)
			}
		})
	}
}

func TestMediaRanges(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")
	data := []byte("0123456789abcdefghij")
	m := mustUpload(t, s, tok, "r.bin", data)
	path := "/api/v1/media/" + m.ID
	etag := `"` + m.SHA256 + `"`

	tests := []struct {
		name         string
		headers      []string
		status       int
		body         string
		contentRange string
	}{
		{"first bytes", []string{"Range", "bytes=0-4"}, 206, "01234", "bytes 0-4/20"},
		{"open end", []string{"Range", "bytes=15-"}, 206, "fghij", "bytes 15-19/20"},
		{"suffix", []string{"Range", "bytes=-3"}, 206, "hij", "bytes 17-19/20"},
		{"end past the file", []string{"Range", "bytes=18-100"}, 206, "ij", "bytes 18-19/20"},
		{"start past the end", []string{"Range", "bytes=20-"}, 416, "", "bytes */20"},
		{"many ranges", []string{"Range", "bytes=0-1,3-4,6-7"}, 200, string(data), ""},
		{"malformed", []string{"Range", "bytes=x-y"}, 200, string(data), ""},
		{"stale If-Range", []string{"Range", "bytes=0-1", "If-Range", `"old"`}, 200, string(data), ""},
		{"matching If-Range", []string{"Range", "bytes=0-1", "If-Range", etag}, 206, "01", "bytes 0-1/20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.Do(t, "GET", path, nil, append(bearer(tok.AccessToken), tt.headers...)...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status != 416 && string(resp.Body) != tt.body {
				t.Errorf("body %q, want %q", resp.Body, tt.body)
			}
			if tt.status == 416 && resp.ErrorCode() != "range_not_satisfiable" {
				t.Errorf("416 code %q", resp.ErrorCode())
			}
			if got := resp.Header.Get("Content-Range"); got != tt.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tt.contentRange)
			}
		})
	}
}

func TestMediaUploadLimits(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Media.MaxUploadBytes = 100 << 10
		c.Media.QuotaBytes = 250 << 10
		c.Media.UploadsPerUser = config.Rate{Requests: 8, Window: time.Minute}
	}))
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")
	filled := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

	overCap := uploadRaw(t, s, tok, "big", "application/octet-stream", filled('a', 100<<10+1))
	expectStatus(t, "over the cap", overCap, 413, "payload_too_large")
	if !strings.Contains(string(overCap.Body), "cap of 100KiB") {
		t.Errorf("over the cap: message %s does not name the cap as configured", overCap.Body)
	}
	expectStatus(t, "over the cap, multipart", uploadMultipart(t, s, tok, "big", "text/plain", filled('a', 100<<10+1)), 413, "payload_too_large")
	if resp := uploadRaw(t, s, tok, "exact", "application/octet-stream", filled('b', 100<<10)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload at the cap: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := uploadRaw(t, s, tok, "second", "application/octet-stream", filled('c', 100<<10)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("second upload: %d %s", resp.StatusCode, resp.Body)
	}
	expectStatus(t, "over quota", uploadRaw(t, s, tok, "third", "application/octet-stream", filled('d', 60<<10)), 413, "quota_exceeded")
	expectStatus(t, "no file part", s.Do(t, "POST", "/api/v1/media", "--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--x--\r\n",
		append(bearer(tok.AccessToken), "Content-Type", "multipart/form-data; boundary=x")...), 400, "invalid_upload")
	expectStatus(t, "multipart cut short", s.Do(t, "POST", "/api/v1/media", "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nhalf a fi",
		append(bearer(tok.AccessToken), "Content-Type", "multipart/form-data; boundary=x")...), 400, "upload_incomplete")

	// Eight uploads a minute: seven were admitted above, refused ones
	// included, so the next is the eighth and the one after is refused.
	uploadRaw(t, s, tok, "small", "text/plain", []byte("s"))
	resp := uploadRaw(t, s, tok, "small", "text/plain", []byte("t"))
	expectStatus(t, "upload rate", resp, 429, "rate_limited")

	// Nothing of the refused uploads was kept: two objects, no spool files.
	if n := countFiles(t, s.Config.DataDir+"/media/sha256"); n != 3 {
		t.Errorf("%d stored objects, want 3", n)
	}
	if n := countFiles(t, s.Config.DataDir+"/spool"); n != 0 {
		t.Errorf("%d spool files left", n)
	}
	metrics := string(s.DoMetrics(t, "GET", "/metrics").Body)
	for _, want := range []string{
		`openguild_media_upload_rejections_total{reason="too_large"} 2`,
		`openguild_media_upload_rejections_total{reason="quota"} 1`,
		`openguild_media_upload_rejections_total{reason="rate_limited"} 1`,
		`openguild_media_uploads_total 3`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestThumbnails(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")
	thumb := func(id, query string) *servertest.Response {
		return s.Do(t, "GET", "/api/v1/media/"+id+"/thumbnail"+query, nil, bearer(tok.AccessToken)...)
	}
	decode := func(resp *servertest.Response) image.Image {
		t.Helper()
		img, _, err := image.Decode(bytes.NewReader(resp.Body))
		if err != nil {
			t.Fatalf("decode thumbnail: %v (status %d, %s)", err, resp.StatusCode, resp.Body)
		}
		return img
	}

	wide := mustUpload(t, s, tok, "wide.png", testPNG(t, 1000, 500))
	tests := []struct {
		query string
		w, h  int
	}{
		{"?width=256&height=256", 256, 128},
		{"?width=300&height=300", 256, 128}, // clamped to 256
		{"?width=64&height=800", 64, 32},
		{"", 256, 128},
		{"?width=5000&height=5000", 800, 400},
	}
	for _, tt := range tests {
		resp := thumb(wide.ID, tt.query)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("thumbnail%s: %d %s", tt.query, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if b := decode(resp).Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("thumbnail%s is %dx%d, want %dx%d", tt.query, b.Dx(), b.Dy(), tt.w, tt.h)
		}
	}

	small := mustUpload(t, s, tok, "small.png", testPNG(t, 40, 20))
	if b := decode(thumb(small.ID, "?width=800&height=800")).Bounds(); b.Dx() != 40 || b.Dy() != 20 {
		t.Errorf("small image thumbnail is %v, want it never scaled up", b)
	}

	photo := mustUpload(t, s, tok, "photo.jpg", jpegWithExif(t, 300, 200))
	if photo.Width != 200 || photo.Height != 300 {
		t.Errorf("photo turned by its Exif data recorded as %dx%d, want 200x300 as displayed", photo.Width, photo.Height)
	}
	resp := thumb(photo.ID, "?width=64&height=64")
	if resp.Header.Get("Content-Type") != "image/jpeg" || bytes.Contains(resp.Body, []byte("GPS-LOCATION-MARKER")) || bytes.Contains(resp.Body, []byte("Exif")) {
		t.Errorf("JPEG thumbnail: type %q, carries Exif: %v", resp.Header.Get("Content-Type"), bytes.Contains(resp.Body, []byte("Exif")))
	}
	if b := decode(resp).Bounds(); b.Dx() != 42 || b.Dy() != 64 {
		t.Errorf("thumbnail of a 300x200 photo with orientation 6 is %dx%d, want it upright at 42x64", b.Dx(), b.Dy())
	}

	full := testPNG(t, 50, 50)
	bad := map[string][]byte{
		"text":        []byte("just words"),
		"truncated":   full[:len(full)/2],
		"corrupt":     append(append([]byte{}, full[:40]...), bytes.Repeat([]byte{0xEE}, 200)...),
		"bomb":        pngHeaderOnly(20000, 20000),
		"corrupt gif": []byte("GIF89a\x10\x00\x10\x00\x00\x00\x00garbage"),
	}
	for name, data := range bad {
		m := mustUpload(t, s, tok, name, data)
		expectStatus(t, "thumbnail of "+name, thumb(m.ID, "?width=64&height=64"), 422, "invalid_image")
		if resp := s.Do(t, "GET", "/api/v1/media/"+m.ID, nil, bearer(tok.AccessToken)...); resp.StatusCode != 200 || !bytes.Equal(resp.Body, data) {
			t.Errorf("%s: download after a refused thumbnail: %d", name, resp.StatusCode)
		}
		if name == "bomb" && (m.Width != 20000 || m.Height != 20000) {
			t.Errorf("bomb recorded as %dx%d", m.Width, m.Height)
		}
	}
	expectStatus(t, "bad width", thumb(wide.ID, "?width=abc"), 400, "validation_error")
}

func TestDeleteMedia(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		m := mustUpload(t, s, c.owner, "f.txt", []byte("file"))
		path := "/api/v1/media/" + m.ID

		expectStatus(t, "delete by a user who cannot see it", s.Do(t, "DELETE", path, nil, bearer(c.member.AccessToken)...), 404, "not_found")
		sent := c.send(t, c.owner, map[string]any{"content": "f", "attachment_ids": []string{m.ID}})
		var msg messageJSON
		sent.JSON(t, &msg)
		expectStatus(t, "delete by a viewer", s.Do(t, "DELETE", path, nil, bearer(c.member.AccessToken)...), 403, "forbidden")
		expectStatus(t, "delete while attached", s.Do(t, "DELETE", path, nil, bearer(c.owner.AccessToken)...), 409, "media_in_use")

		if resp := s.Do(t, "DELETE", "/api/v1/channels/"+c.channel+"/messages/"+msg.ID, nil, bearer(c.owner.AccessToken)...); resp.StatusCode != 204 {
			t.Fatalf("delete message: %d", resp.StatusCode)
		}
		expectStatus(t, "member after the message went", s.Do(t, "GET", path, nil, bearer(c.member.AccessToken)...), 404, "not_found")
		if resp := s.Do(t, "DELETE", path, nil, bearer(c.owner.AccessToken)...); resp.StatusCode != 204 {
			t.Fatalf("delete after the message went: %d %s", resp.StatusCode, resp.Body)
		}
		expectStatus(t, "get deleted", s.Do(t, "GET", path, nil, bearer(c.owner.AccessToken)...), 404, "not_found")
	})
}

func TestPrivateDMAttachment(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(generousLimits))
	a, b := register(t, s, "alice"), register(t, s, "bob")
	_ = a
	register(t, s, "carol")
	alice, bob, carol := login(t, s, "alice", "d"), login(t, s, "bob", "d"), login(t, s, "carol", "d")

	var dm struct {
		ID string `json:"id"`
	}
	s.Do(t, "POST", "/api/v1/dms", map[string]any{"recipient_ids": []string{b}}, bearer(alice.AccessToken)...).JSON(t, &dm)
	m := mustUpload(t, s, alice, "secret.png", testPNG(t, 10, 10))
	resp := s.Do(t, "POST", "/api/v1/channels/"+dm.ID+"/messages", map[string]any{"attachment_ids": []string{m.ID}}, bearer(alice.AccessToken)...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("send in DM: %d %s", resp.StatusCode, resp.Body)
	}
	for _, path := range []string{"/api/v1/media/" + m.ID, "/api/v1/media/" + m.ID + "/thumbnail?width=64&height=64"} {
		if resp := s.Do(t, "GET", path, nil, bearer(bob.AccessToken)...); resp.StatusCode != 200 {
			t.Errorf("recipient %s: %d", path, resp.StatusCode)
		}
		expectStatus(t, "third user "+path, s.Do(t, "GET", path, nil, bearer(carol.AccessToken)...), 404, "not_found")
	}
}

// countFiles counts the regular files under dir; a missing dir has none.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return n
}

func TestMediaCollection(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		sendWith := func(tok tokens, id string) messageJSON {
			t.Helper()
			resp := c.send(t, tok, map[string]any{"attachment_ids": []string{id}})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("send: %d %s", resp.StatusCode, resp.Body)
			}
			var m messageJSON
			resp.JSON(t, &m)
			return m
		}

		abandoned := mustUpload(t, s, c.owner, "abandoned.txt", []byte("nobody attached me"))
		kept := mustUpload(t, s, c.owner, "kept.txt", []byte("attached to a live message"))
		sendWith(c.owner, kept.ID)
		gone := mustUpload(t, s, c.owner, "gone.png", testPNG(t, 30, 30))
		if resp := s.Do(t, "GET", "/api/v1/media/"+gone.ID+"/thumbnail", nil, bearer(c.owner.AccessToken)...); resp.StatusCode != 200 {
			t.Fatalf("thumbnail: %d", resp.StatusCode)
		}
		goneMsg := sendWith(c.owner, gone.ID)
		s.Do(t, "DELETE", "/api/v1/channels/"+c.channel+"/messages/"+goneMsg.ID, nil, bearer(c.owner.AccessToken)...)

		// The same bytes from two users are stored once; one deleting its
		// copy leaves the other's.
		shared := []byte("the same bytes twice")
		ownerCopy := mustUpload(t, s, c.owner, "a.txt", shared)
		sendWith(c.owner, ownerCopy.ID)
		memberCopy := mustUpload(t, s, c.member, "b.txt", shared)
		if resp := s.Do(t, "DELETE", "/api/v1/media/"+memberCopy.ID, nil, bearer(c.member.AccessToken)...); resp.StatusCode != 204 {
			t.Fatalf("delete member copy: %d", resp.StatusCode)
		}

		objects := s.Config.DataDir + "/media/sha256"
		if n := countFiles(t, objects); n != 4 {
			t.Fatalf("%d objects before collection, want 4", n)
		}
		orphan := filepath.Join(objects, "00", strings.Repeat("0", 64))
		os.MkdirAll(filepath.Dir(orphan), 0o700)
		os.WriteFile(orphan, []byte("left by a failed upload"), 0o600)

		// Within the grace period nothing goes.
		report, err := s.Server().Media().Collect(t.Context())
		if err != nil || report.Media != 0 || report.Objects != 0 {
			t.Fatalf("collection within grace: %+v, %v", report, err)
		}

		s.Clock.Advance(25 * time.Hour)
		c.owner, c.member = login(t, s, "owner", "d"), login(t, s, "member", "d")
		report, err = s.Server().Media().Collect(t.Context())
		if err != nil {
			t.Fatalf("collect: %v", err)
		}
		if report.Media != 2 || report.Objects != 3 || report.Thumbnails != 1 {
			t.Errorf("report %+v, want 2 media, 3 objects (2 released, 1 orphan), 1 thumbnail", report)
		}
		for _, m := range []mediaJSON{abandoned, gone} {
			expectStatus(t, "collected "+m.Filename, s.Do(t, "GET", "/api/v1/media/"+m.ID, nil, bearer(c.owner.AccessToken)...), 404, "not_found")
		}
		for _, m := range []mediaJSON{kept, ownerCopy} {
			if resp := s.Do(t, "GET", "/api/v1/media/"+m.ID, nil, bearer(c.member.AccessToken)...); resp.StatusCode != 200 {
				t.Errorf("kept %s: %d", m.Filename, resp.StatusCode)
			}
		}
		if n := countFiles(t, objects); n != 2 {
			t.Errorf("%d objects after collection, want 2", n)
		}
		if n := countFiles(t, s.Config.DataDir+"/media/thumbnails"); n != 0 {
			t.Errorf("%d thumbnails after collection, want 0", n)
		}

		// Bytes whose object was collected can be uploaded again.
		again := mustUpload(t, s, c.owner, "again.txt", []byte("nobody attached me"))
		if resp := s.Do(t, "GET", "/api/v1/media/"+again.ID, nil, bearer(c.owner.AccessToken)...); string(resp.Body) != "nobody attached me" {
			t.Errorf("re-upload after collection: %d %q", resp.StatusCode, resp.Body)
		}
	})
}

// Concurrent uploads all pass the quota check made before storing. The
// ones the database then rejects leave no bytes behind.
func TestMediaConcurrentUploadsOverQuota(t *testing.T) {
	quota := servertest.WithConfig(func(c *config.Config) {
		c.Media.MaxUploadBytes = 100 << 10
		c.Media.QuotaBytes = 250 << 10
	})
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		register(t, s, "uploader")
		tok := login(t, s, "uploader", "d")

		const uploads = 6
		statuses := make([]int, uploads)
		var wg sync.WaitGroup
		for i := range uploads {
			wg.Go(func() {
				data := bytes.Repeat([]byte{byte('a' + i)}, 100<<10)
				statuses[i] = uploadRaw(t, s, tok, fmt.Sprintf("part-%d", i), "application/octet-stream", data).StatusCode
			})
		}
		wg.Wait()

		created := 0
		for i, status := range statuses {
			switch status {
			case http.StatusCreated:
				created++
			case http.StatusRequestEntityTooLarge:
			default:
				t.Errorf("upload %d: status %d, want 201 or 413", i, status)
			}
		}
		if created != 2 {
			t.Errorf("%d uploads stored, want the 2 that fit the quota", created)
		}
		if n := countFiles(t, s.Config.DataDir+"/media/sha256"); n != created {
			t.Errorf("%d objects in the store for %d uploads", n, created)
		}
	}, quota)
}

// Deleting a channel or a whole guild releases the attachments of its
// messages as deleting each message would.
func TestMediaCollectionAfterChannelDeletion(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		attach := func(channelID, filename string) mediaJSON {
			t.Helper()
			m := mustUpload(t, s, c.owner, filename, []byte("attached in "+filename))
			path := "/api/v1/channels/" + channelID + "/messages"
			body := map[string]any{"content": "see attached", "attachment_ids": []string{m.ID}}
			if resp := s.Do(t, "POST", path, body, bearer(c.owner.AccessToken)...); resp.StatusCode != http.StatusCreated {
				t.Fatalf("send %s: %d %s", filename, resp.StatusCode, resp.Body)
			}
			return m
		}

		var extra struct {
			ID string `json:"id"`
		}
		s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/channels", map[string]string{"name": "scratch", "kind": "text"},
			bearer(c.owner.AccessToken)...).JSON(t, &extra)
		inChannel := attach(extra.ID, "channel.txt")
		inGuild := attach(c.channel, "guild.txt")

		mediaPath := "/api/v1/media/" + inChannel.ID
		expectStatus(t, "delete while attached", s.Do(t, "DELETE", mediaPath, nil, bearer(c.owner.AccessToken)...), 409, "media_in_use")
		if resp := s.Do(t, "DELETE", "/api/v1/channels/"+extra.ID, nil, bearer(c.owner.AccessToken)...); resp.StatusCode != 204 {
			t.Fatalf("delete channel: %d %s", resp.StatusCode, resp.Body)
		}
		expectStatus(t, "member reads media of a deleted channel", s.Do(t, "GET", mediaPath, nil, bearer(c.member.AccessToken)...), 404, "not_found")
		if resp := s.Do(t, "DELETE", "/api/v1/guilds/"+c.guild, nil, bearer(c.owner.AccessToken)...); resp.StatusCode != 204 {
			t.Fatalf("delete guild: %d %s", resp.StatusCode, resp.Body)
		}

		s.Clock.Advance(25 * time.Hour)
		c.owner = login(t, s, "owner", "d")
		report, err := s.Server().Media().Collect(t.Context())
		if err != nil || report.Media != 2 || report.Objects != 2 {
			t.Fatalf("collection: %+v, %v; want both attachments and their objects removed", report, err)
		}
		for _, m := range []mediaJSON{inChannel, inGuild} {
			expectStatus(t, "collected "+m.Filename, s.Do(t, "GET", "/api/v1/media/"+m.ID, nil, bearer(c.owner.AccessToken)...), 404, "not_found")
		}
	})
}

func TestMediaOnS3(t *testing.T) {
	s := servertest.Start(t, servertest.WithS3Media(t))
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")
	data := testPNG(t, 400, 100)

	m := mustUpload(t, s, tok, "wide.png", data)
	path := "/api/v1/media/" + m.ID
	if resp := s.Do(t, "GET", path, nil, bearer(tok.AccessToken)...); !bytes.Equal(resp.Body, data) {
		t.Fatalf("download from S3: %d, %d bytes", resp.StatusCode, len(resp.Body))
	}
	if resp := s.Do(t, "GET", path, nil, append(bearer(tok.AccessToken), "Range", "bytes=1-3")...); resp.StatusCode != 206 || !bytes.Equal(resp.Body, data[1:4]) {
		t.Errorf("range from S3: %d %q", resp.StatusCode, resp.Body)
	}
	resp := s.Do(t, "GET", path+"/thumbnail?width=64&height=64", nil, bearer(tok.AccessToken)...)
	if img, _, err := image.Decode(bytes.NewReader(resp.Body)); err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 16 {
		t.Errorf("thumbnail from S3: %d, %v", resp.StatusCode, err)
	}

	if resp := s.Do(t, "DELETE", path, nil, bearer(tok.AccessToken)...); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	s.Clock.Advance(25 * time.Hour)
	report, err := s.Server().Media().Collect(t.Context())
	if err != nil || report.Objects != 1 || report.Thumbnails != 1 {
		t.Errorf("collection on S3: %+v, %v; want the object and its thumbnail removed", report, err)
	}
	again := mustUpload(t, s, login(t, s, "uploader", "d"), "again.png", data)
	if again.SHA256 != m.SHA256 {
		t.Errorf("re-upload digest %s, want %s", again.SHA256, m.SHA256)
	}
}

func TestAdminMediaGC(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")
	fresh := mustUpload(t, s, tok, "fresh.txt", []byte("uploaded just now"))

	orphan := filepath.Join(s.Config.DataDir, "media", "sha256", "00", strings.Repeat("0", 64))
	os.MkdirAll(filepath.Dir(orphan), 0o700)
	os.WriteFile(orphan, []byte("left by a failed upload"), 0o600)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(orphan, old, old)

	out := adminCommand(t, s, "", "admin", "media", "gc")
	if !strings.Contains(out, "removed 0 unreferenced media (0 bytes), 1 stored objects") {
		t.Errorf("media gc printed %q", out)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("orphan object still there: %v", err)
	}
	if resp := s.Do(t, "GET", "/api/v1/media/"+fresh.ID, nil, bearer(tok.AccessToken)...); resp.StatusCode != 200 {
		t.Errorf("fresh upload after gc: %d", resp.StatusCode)
	}
}

func TestUploadCapBeforeReading(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.Media.MaxUploadBytes = 1 << 20 }))
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")

	// A declared length one byte over the cap is refused before the body
	// is sent: the request below never sends one.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/media?filename=big HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", tok.AccessToken, 1<<20+1)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(body), "cap of 1MiB") {
		t.Errorf("declared length over the cap: %d %s", resp.StatusCode, body)
	}
	metrics := string(s.DoMetrics(t, "GET", "/metrics").Body)
	if !strings.Contains(metrics, `openguild_media_upload_rejections_total{reason="too_large"} 1`) {
		t.Errorf("refusal by Content-Length not counted")
	}
}

func TestUploadEdgeCases(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Media.MaxUploadBytes = 100
		c.Media.QuotaBytes = 100
	}))
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")

	malformed := "--BB\r\n--BB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nDATA\r\n--BB--\r\n"
	expectStatus(t, "malformed multipart", s.Do(t, "POST", "/api/v1/media", malformed,
		append(bearer(tok.AccessToken), "Content-Type", "multipart/form-data; boundary=BB")...), 400, "invalid_upload")

	full := mustUpload(t, s, tok, "full.bin", bytes.Repeat([]byte{1}, 100))
	if resp := uploadRaw(t, s, tok, "empty", "text/plain", nil); resp.StatusCode != http.StatusCreated {
		t.Errorf("empty upload at a full quota: %d %s", resp.StatusCode, resp.Body)
	}

	path := "/api/v1/media/" + full.ID
	resp := s.Do(t, "GET", path, nil, append(bearer(tok.AccessToken), "Range", "bytes=99999999999999999999999-")...)
	expectStatus(t, "range start beyond int64", resp, 416, "range_not_satisfiable")
	for _, header := range []string{`W/"` + full.SHA256 + `"`, `"other", "` + full.SHA256 + `"`, "*"} {
		if resp := s.Do(t, "GET", path, nil, append(bearer(tok.AccessToken), "If-None-Match", header)...); resp.StatusCode != 304 {
			t.Errorf("If-None-Match %s: %d, want 304", header, resp.StatusCode)
		}
	}
}

func TestThumbnailCaching(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")
	m := mustUpload(t, s, tok, "p.png", testPNG(t, 300, 300))
	path := "/api/v1/media/" + m.ID + "/thumbnail?width=64&height=64"

	resp := s.Do(t, "GET", path, nil, bearer(tok.AccessToken)...)
	etag := resp.Header.Get("Etag")
	if etag == "" || resp.Header.Get("Content-Disposition") != "inline" || resp.Header.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
		t.Errorf("thumbnail headers: %v", resp.Header)
	}
	if resp := s.Do(t, "GET", path, nil, append(bearer(tok.AccessToken), "If-None-Match", etag)...); resp.StatusCode != 304 {
		t.Errorf("thumbnail If-None-Match: %d, want 304", resp.StatusCode)
	}
	other := s.Do(t, "GET", "/api/v1/media/"+m.ID+"/thumbnail?width=256&height=256", nil, bearer(tok.AccessToken)...)
	if other.Header.Get("Etag") == etag {
		t.Errorf("two thumbnail sizes share the ETag %s", etag)
	}
}

func TestReuploadRepairsMissingObject(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "uploader")
	tok := login(t, s, "uploader", "d")
	data := []byte("bytes that go missing")
	first := mustUpload(t, s, tok, "a.txt", data)

	object := filepath.Join(s.Config.DataDir, "media", "sha256", first.SHA256[:2], first.SHA256)
	if err := os.Remove(object); err != nil {
		t.Fatalf("remove object: %v", err)
	}
	if resp := s.Do(t, "GET", "/api/v1/media/"+first.ID, nil, bearer(tok.AccessToken)...); resp.StatusCode != 500 {
		t.Errorf("download of a lost object: %d, want 500", resp.StatusCode)
	}

	mustUpload(t, s, tok, "b.txt", data)
	if resp := s.Do(t, "GET", "/api/v1/media/"+first.ID, nil, bearer(tok.AccessToken)...); !bytes.Equal(resp.Body, data) {
		t.Errorf("download after the same bytes were uploaded again: %d %q", resp.StatusCode, resp.Body)
	}

	// The repaired object was counted once, when first stored.
	want := fmt.Sprintf("openguild_media_stored_bytes %d\n", len(data))
	if metrics := string(s.DoMetrics(t, "GET", "/metrics").Body); !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %q", want)
	}
}
