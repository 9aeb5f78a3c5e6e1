package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// exifJPEG returns a JPEG whose Exif data gives the orientation, in the
// byte order named by order ("II" or "MM").
func exifJPEG(t *testing.T, orientation uint16, order string) []byte {
	t.Helper()
	var bo binary.AppendByteOrder = binary.BigEndian
	if order == "II" {
		bo = binary.LittleEndian
	}
	tiff := []byte(order)
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 1) // one entry
	tiff = bo.AppendUint16(tiff, exifOrientationTag)
	tiff = bo.AppendUint16(tiff, 3) // SHORT
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, orientation)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)
	payload := append([]byte("Exif\x00\x00"), tiff...)

	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatalf("encode JPEG: %v", err)
	}
	segment := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(payload)+2))
	data := buf.Bytes()
	return append(append(append([]byte{}, data[:2]...), append(segment, payload...)...), data[2:]...)
}

func TestJPEGOrientation(t *testing.T) {
	for _, order := range []string{"II", "MM"} {
		for _, o := range []uint16{1, 3, 6, 8} {
			if got := jpegOrientation(exifJPEG(t, o, order)); got != int(o) {
				t.Errorf("%s orientation %d read as %d", order, o, got)
			}
		}
	}
	cases := map[string][]byte{
		"no exif":       exifJPEG(t, 6, "XX"),
		"out of range":  exifJPEG(t, 9, "MM"),
		"not a jpeg":    []byte("GIF89a"),
		"empty":         nil,
		"cut in header": exifJPEG(t, 6, "MM")[:30],
	}
	for name, data := range cases {
		if got := jpegOrientation(data); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
}

func TestOrient(t *testing.T) {
	// A 3 x 2 picture with one red pixel at its top left corner.
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	red := color.RGBA{R: 255, A: 255}
	src.Set(0, 0, red)
	tests := []struct {
		orientation int
		size, red   image.Point
	}{
		{1, image.Pt(3, 2), image.Pt(0, 0)},
		{2, image.Pt(3, 2), image.Pt(2, 0)},
		{3, image.Pt(3, 2), image.Pt(2, 1)},
		{4, image.Pt(3, 2), image.Pt(0, 1)},
		{5, image.Pt(2, 3), image.Pt(0, 0)},
		{6, image.Pt(2, 3), image.Pt(1, 0)},
		{7, image.Pt(2, 3), image.Pt(1, 2)},
		{8, image.Pt(2, 3), image.Pt(0, 2)},
	}
	for _, tt := range tests {
		got := orient(src, tt.orientation)
		if size := got.Bounds().Size(); size != tt.size {
			t.Errorf("orientation %d: size %v, want %v", tt.orientation, size, tt.size)
			continue
		}
		if got.RGBAAt(tt.red.X, tt.red.Y) != red {
			t.Errorf("orientation %d: red pixel not at %v", tt.orientation, tt.red)
		}
	}
}
