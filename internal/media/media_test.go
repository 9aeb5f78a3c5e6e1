package media

import (
	"image"
	"strings"
	"testing"
)

func TestSanitizeFilename(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "photo.jpg", "photo.jpg"},
		{"unix path", "../../etc/passwd", "passwd"},
		{"windows path", `C:\Users\me\report.pdf`, "report.pdf"},
		{"trailing slash", "dir/", "dir"},
		{"control characters", "a\x00b\x1fc\x7f.txt", "abc.txt"},
		{"bidi override", "invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"zero width", "a\u200Bb", "ab"},
		{"dots and spaces", " ..hidden.. ", "hidden"},
		{"only dots", "..", "file"},
		{"empty", "", "file"},
		{"invalid utf-8", "bad\xffname", "badname"},
		{"unicode kept", "résumé 履歴書.txt", "résumé 履歴書.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SanitizeFilename(tt.in); got != tt.want {
				t.Errorf("SanitizeFilename(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSanitizeFilenameLength(t *testing.T) {
	long := SanitizeFilename(strings.Repeat("é", 300) + ".png")
	if len(long) > maxFilenameBytes || !strings.HasSuffix(long, ".png") || !strings.HasPrefix(long, "éé") {
		t.Errorf("long name became %d bytes: %q", len(long), long)
	}
	if !strings.HasPrefix(strings.TrimSuffix(long, ".png"), "é") || strings.ContainsRune(long, '\uFFFD') {
		t.Errorf("long name was cut inside a character: %q", long)
	}
	noExt := SanitizeFilename(strings.Repeat("x", 2000))
	if len(noExt) != maxFilenameBytes {
		t.Errorf("name without extension is %d bytes, want %d", len(noExt), maxFilenameBytes)
	}
}

func TestClampThumbnailSize(t *testing.T) {
	tests := map[int]int{-5: 64, 0: 64, 64: 64, 159: 64, 160: 64, 161: 256, 256: 256, 528: 256, 529: 800, 800: 800, 100000: 800}
	for in, want := range tests {
		if got := ClampThumbnailSize(in); got != want {
			t.Errorf("ClampThumbnailSize(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestFitInside(t *testing.T) {
	tests := []struct{ src, box, want image.Point }{
		{image.Pt(1000, 500), image.Pt(256, 256), image.Pt(256, 128)},
		{image.Pt(500, 1000), image.Pt(256, 256), image.Pt(128, 256)},
		{image.Pt(100, 50), image.Pt(256, 256), image.Pt(100, 50)},
		{image.Pt(20000, 1), image.Pt(64, 64), image.Pt(64, 1)},
		{image.Pt(1000, 1000), image.Pt(800, 64), image.Pt(64, 64)},
	}
	for _, tt := range tests {
		if got := fitInside(tt.src, tt.box); got != tt.want {
			t.Errorf("fitInside(%v, %v) = %v, want %v", tt.src, tt.box, got, tt.want)
		}
	}
}

func TestServedType(t *testing.T) {
	tests := []struct {
		sniffed, want string
		inline        bool
	}{
		{"image/png", "image/png", true},
		{"image/webp", "image/webp", true},
		{"video/mp4", "video/mp4", true},
		{"text/html; charset=utf-8", "application/octet-stream", false},
		{"text/xml; charset=utf-8", "application/octet-stream", false},
		{"application/pdf", "application/octet-stream", false},
		{"image/svg+xml", "application/octet-stream", false},
		{"application/octet-stream", "application/octet-stream", false},
	}
	for _, tt := range tests {
		got, inline := ServedType(tt.sniffed)
		if got != tt.want || inline != tt.inline {
			t.Errorf("ServedType(%q) = %q, %v; want %q, %v", tt.sniffed, got, inline, tt.want, tt.inline)
		}
	}
}
