package message

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/openguild/openguild/internal/validate"
)

// Single grapheme clusters at and beyond EmojiMaxBytes.
// TestEmojiLengthFixtures checks their sizes.
var (
	// Five people joined by ZWJ: 5×4 bytes of emoji and 4×3 bytes of ZWJ.
	zwjChain32 = "👨\u200D👩\u200D👧\u200D👦\u200D👨"
	zwjChain39 = zwjChain32 + "\u200D👩"

	// Thumbs up (4 bytes) with combining acute accents (2 bytes each).
	markedThumb32 = "👍" + strings.Repeat("\u0301", 14)
	markedThumb33 = "👍\u200D" + strings.Repeat("\u0301", 13)

	// A recommended emoji sequence that the byte limit rejects.
	kissWithSkinTones35 = "👩🏻\u200D❤️\u200D💋\u200D👨🏼"
)

func TestCheckEmoji(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"thumbs up", "👍", false},
		{"heart with VS16", "❤️", false},
		{"heart without VS16", "❤", false},
		{"skin tone", "👍🏽", false},
		{"family ZWJ sequence", "👨\u200D👩\u200D👧", false},
		{"flag of France", "🇫🇷", false},
		{"lone regional indicator", "🇫", false},
		{"subdivision flag with tags", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", false},
		{"couple with heart and skin tones", "👩🏻\u200D❤️\u200D👨🏼", false},
		{"copyright sign", "©", false},
		{"ZWJ chain of exactly 32 bytes", zwjChain32, false},
		{"combining marks to exactly 32 bytes", markedThumb32, false},

		{"empty", "", true},
		{"one letter", "a", true},
		{"two letters", "ab", true},
		{"two emoji", "👍👍", true},
		{"three regional indicators", "🇫🇷🇫", true},
		{"two flags", "🇫🇷🇩🇪", true},
		{"shortcode", ":smile:", true},
		{"keycap one", "1\uFE0F\u20E3", true},
		{"keycap number sign", "#\uFE0F\u20E3", true},
		{"lone skin tone modifier", "🏽", true},
		{"lone ZWJ", "\u200D", true},
		{"leading space", " 👍", true},
		{"trailing newline", "👍\n", true},
		{"ZWJ chain of 39 bytes", zwjChain39, true},
		{"combining marks to 33 bytes", markedThumb33, true},
		{"kiss with skin tones is 35 bytes", kissWithSkinTones35, true},
		{"invalid UTF-8", "\xff", true},
		{"emoji then invalid UTF-8", "👍\xff", true},
		{"NUL", "\x00", true},
		{"emoji then NUL", "👍\x00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckEmoji(tt.in)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckEmoji(%q) error = %v, want nil", tt.in, err)
				}
				return
			}

			var verr *validate.Error
			if !errors.As(err, &verr) {
				t.Fatalf("CheckEmoji(%q) error = %v, want *validate.Error", tt.in, err)
			}
			if verr.Field != "emoji" {
				t.Errorf("field %q, want emoji", verr.Field)
			}
			if verr.Reason != "" {
				t.Errorf("reason %q, want none because emoji errors are not counted", verr.Reason)
			}
			if verr.Message == "" {
				t.Error("message is empty")
			}
		})
	}
}

func TestEmojiLengthFixtures(t *testing.T) {
	fixtures := []struct {
		name string
		in   string
		want int
	}{
		{"zwjChain32", zwjChain32, 32},
		{"zwjChain39", zwjChain39, 39},
		{"markedThumb32", markedThumb32, 32},
		{"markedThumb33", markedThumb33, 33},
		{"kissWithSkinTones35", kissWithSkinTones35, 35},
	}
	for _, f := range fixtures {
		if len(f.in) != f.want {
			t.Errorf("%s is %d bytes, want %d", f.name, len(f.in), f.want)
		}
		if n := uniseg.GraphemeClusterCount(f.in); n != 1 {
			t.Errorf("%s has %d grapheme clusters, want 1", f.name, n)
		}
	}
}

func TestExtendedPictographicTable(t *testing.T) {
	tab := extendedPictographic
	total := 0
	var prevHi uint32
	for i, r := range tab.R16 {
		if r.Lo > r.Hi || r.Stride != 1 {
			t.Errorf("R16[%d] = %+v is malformed", i, r)
		}
		if i > 0 && uint32(r.Lo) <= prevHi+1 {
			t.Errorf("R16[%d] = %+v overlaps or touches the range before it", i, r)
		}
		prevHi = uint32(r.Hi)
		total += int(r.Hi-r.Lo) + 1
	}
	for i, r := range tab.R32 {
		if r.Lo > r.Hi || r.Stride != 1 || r.Lo <= 0xFFFF {
			t.Errorf("R32[%d] = %+v is malformed", i, r)
		}
		if r.Lo <= prevHi+1 {
			t.Errorf("R32[%d] = %+v overlaps or touches the range before it", i, r)
		}
		prevHi = r.Hi
		total += int(r.Hi-r.Lo) + 1
	}

	latin := 0
	for _, r := range tab.R16 {
		if r.Hi <= unicode.MaxLatin1 {
			latin++
		}
	}
	if tab.LatinOffset != latin {
		t.Errorf("LatinOffset = %d, want %d", tab.LatinOffset, latin)
	}

	// Unicode 15.0 emoji-data.txt lists 3,537 Extended_Pictographic code points.
	if total != 3537 {
		t.Errorf("table has %d code points, want 3537", total)
	}
}

// TestExtendedPictographicMatchesSegmenter checks the table against the
// segmenter's own property data for every code point. Rule GB11 of UAX #29
// keeps "👍 ZWJ r" together only when r is Extended_Pictographic, while
// rules GB9 and GB9a also keep Extend, ZWJ and SpacingMark code points after
// a ZWJ. So r is Extended_Pictographic exactly when it joins after
// "👍 ZWJ" but not after "a ZWJ".
func TestExtendedPictographicMatchesSegmenter(t *testing.T) {
	afterPictograph := []byte("👍\u200D")
	afterLetter := []byte("a\u200D")
	mismatches := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue // surrogates
		}
		joinsPictograph := isOneCluster(utf8.AppendRune(afterPictograph, r))
		joinsLetter := isOneCluster(utf8.AppendRune(afterLetter, r))
		inSegmenter := joinsPictograph && !joinsLetter

		if inTable := unicode.Is(extendedPictographic, r); inTable != inSegmenter {
			t.Errorf("U+%04X: Extended_Pictographic is %v in the table but %v in the segmenter", r, inTable, inSegmenter)
			mismatches++
			if mismatches >= 20 {
				t.Fatal("too many mismatches")
			}
		}
	}
}

func isOneCluster(b []byte) bool {
	_, rest, _, _ := uniseg.FirstGraphemeCluster(b, -1)
	return len(rest) == 0
}

func FuzzCheckEmoji(f *testing.F) {
	seeds := []string{
		"", "a", "ab", "👍", "❤️", "❤", "👍🏽", "👨\u200D👩\u200D👧", "🇫🇷", "🇫", "🇫🇷🇫",
		"1\uFE0F\u20E3", "🏽", ":smile:", "\x00", "\xff", "👍\x00", " 👍",
		kissWithSkinTones35, zwjChain39, markedThumb32, "👍" + strings.Repeat("\u0301", 20),
	}
	for _, s := range seeds {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, in string) {
		err := CheckEmoji(in)
		if err != nil {
			var verr *validate.Error
			if !errors.As(err, &verr) {
				t.Fatalf("error %v is not a *validate.Error", err)
			}
			if verr.Field != "emoji" {
				t.Fatalf("field %q, want emoji", verr.Field)
			}
			return
		}

		if !utf8.ValidString(in) {
			t.Fatalf("accepted emoji %q is not valid UTF-8", in)
		}
		if len(in) > EmojiMaxBytes {
			t.Fatalf("accepted emoji %q is %d bytes, want at most %d", in, len(in), EmojiMaxBytes)
		}
		if n := uniseg.GraphemeClusterCount(in); n != 1 {
			t.Fatalf("accepted emoji %q has %d grapheme clusters, want 1", in, n)
		}
		if strings.IndexByte(in, 0) >= 0 {
			t.Fatalf("accepted emoji %q contains NUL", in)
		}
	})
}
