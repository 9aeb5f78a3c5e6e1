package media

import (
	"encoding/binary"
	"image"
)

// exifOrientationTag is the TIFF Orientation tag, which records how a
// camera held the picture: 1 is upright, 2 to 8 mirror and turn it.
const exifOrientationTag = 0x0112

// jpegOrientation returns the Exif orientation (1 to 8) found in the
// leading bytes of a JPEG file, or 1 when there is none or the data is
// malformed.
func jpegOrientation(head []byte) int {
	if len(head) < 4 || head[0] != 0xFF || head[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(head); {
		if head[i] != 0xFF {
			return 1
		}
		marker := head[i+1]
		length := int(binary.BigEndian.Uint16(head[i+2:]))
		if marker == 0xDA || length < 2 || i+2+length > len(head) {
			return 1 // pixel data starts, or the segment runs past what was read
		}
		segment := head[i+4 : i+2+length]
		if marker == 0xE1 && len(segment) > 6 && string(segment[:6]) == "Exif\x00\x00" {
			return tiffOrientation(segment[6:])
		}
		i += 2 + length
	}
	return 1
}

// tiffOrientation reads the orientation tag of the first IFD of a TIFF
// structure, as Exif embeds it.
func tiffOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	ifd := int(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 1
	}
	count := int(order.Uint16(tiff[ifd:]))
	for e := 0; e < count; e++ {
		entry := ifd + 2 + 12*e
		if entry+12 > len(tiff) {
			return 1
		}
		if order.Uint16(tiff[entry:]) == exifOrientationTag {
			if o := int(order.Uint16(tiff[entry+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// swapsAxes reports whether an orientation turns the picture by 90 or
// 270 degrees, so that its width and height trade places.
func swapsAxes(orientation int) bool { return orientation >= 5 }

// orient returns src turned upright for an Exif orientation.
func orient(src *image.RGBA, orientation int) *image.RGBA {
	if orientation <= 1 || orientation > 8 {
		return src
	}
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dw, dh := w, h
	if swapsAxes(orientation) {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			dx, dy := orientedPoint(orientation, x, y, w, h)
			si, di := src.PixOffset(x, y), dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}

// orientedPoint maps a pixel of a w x h stored picture to its place in
// the upright one.
func orientedPoint(orientation, x, y, w, h int) (int, int) {
	switch orientation {
	case 2: // mirrored left to right
		return w - 1 - x, y
	case 3: // turned 180 degrees
		return w - 1 - x, h - 1 - y
	case 4: // mirrored top to bottom
		return x, h - 1 - y
	case 5: // mirrored along the main diagonal
		return y, x
	case 6: // stored turned 90 degrees counterclockwise
		return h - 1 - y, x
	case 7: // mirrored along the other diagonal
		return h - 1 - y, w - 1 - x
	case 8: // stored turned 90 degrees clockwise
		return y, w - 1 - x
	}
	return x, y
}
