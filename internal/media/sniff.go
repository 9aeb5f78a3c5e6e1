package media

import (
	"image"
	_ "image/gif" // register decoders for image.Decode and DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"strings"

	_ "golang.org/x/image/webp"
)

// sniffLen is how many leading bytes decide a file's type, as many as
// http.DetectContentType considers.
const sniffLen = 512

// maxPixels is the largest image, in pixels, that gets a thumbnail.
const maxPixels = 50_000_000

// sniff returns the type of a file from its leading bytes, never from
// what the client claimed.
func sniff(head []byte) string {
	if len(head) == 0 {
		return "application/octet-stream"
	}
	return http.DetectContentType(head)
}

// decodable lists the image types this package decodes.
var decodable = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
}

func isDecodable(contentType string) bool { return decodable[contentType] }

// inline lists the types a browser may show in place. Everything else,
// HTML, SVG, XML, PDF and unknown types among them, is served as an
// attachment of type application/octet-stream.
var inline = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"audio/mpeg": true, "audio/wave": true,
	"video/mp4": true, "video/webm": true,
}

// ServedType returns the Content-Type to serve a media file with and
// whether it may be shown inline.
func ServedType(contentType string) (string, bool) {
	base, _, _ := strings.Cut(contentType, ";")
	if inline[base] {
		return base, true
	}
	return "application/octet-stream", false
}

// dimensions reads only the header of an image and returns its size.
func dimensions(r io.Reader) (width, height int, ok bool) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}
