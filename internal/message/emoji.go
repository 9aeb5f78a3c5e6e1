package message

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/openguild/openguild/internal/validate"
)

// EmojiMaxBytes is the longest reaction emoji, in UTF-8 bytes.
//
// NOTE: a few recommended emoji sequences are longer and are rejected. The
// kiss with two skin tones (U+1F469 U+1F3FB ZWJ U+2764 U+FE0F ZWJ U+1F48B
// ZWJ U+1F468 U+1F3FC) takes 35 bytes.
const EmojiMaxBytes = 32

// Regional indicator symbols A to Z. A flag is a pair of them.
const (
	regionalIndicatorFirst = 0x1F1E6
	regionalIndicatorLast  = 0x1F1FF
)

// CheckEmoji checks a Unicode reaction emoji: valid UTF-8, at most
// EmojiMaxBytes bytes, exactly one extended grapheme cluster (UAX #29,
// Unicode 15.0) and at least one Extended_Pictographic or regional
// indicator code point inside that cluster. It returns a *validate.Error
// for the field emoji, with no Reason because emoji rejections are not
// counted as messaging rejections.
//
// The check follows the code point properties, not the list of recommended
// emoji, so a few results may surprise:
//   - A text-style pictograph such as "❤" without U+FE0F, "©" or "‼" is
//     accepted, and it is a different reaction from "❤️".
//   - A lone regional indicator such as "🇫" is accepted.
//   - A keycap such as "1️⃣" or "#️⃣" is rejected, because neither the digit
//     nor U+20E3 is Extended_Pictographic.
//   - A lone skin tone modifier such as "🏽" is rejected, because modifiers
//     have the Extend property and are not Extended_Pictographic.
//
// Only Unicode emoji are accepted. Custom guild emoji have no syntax yet, so
// a name such as ":smile:" is rejected.
func CheckEmoji(s string) error {
	if !utf8.ValidString(s) {
		return emojiError("must be valid UTF-8")
	}
	if s == "" {
		return emojiError("must not be empty")
	}

	// Checking the length first bounds the segmentation work below.
	if len(s) > EmojiMaxBytes {
		return emojiError(fmt.Sprintf("must be at most %d bytes of UTF-8", EmojiMaxBytes))
	}

	cluster, rest, _, _ := uniseg.FirstGraphemeClusterInString(s, -1)
	if rest != "" {
		return emojiError("must be exactly one emoji (one grapheme cluster)")
	}

	if !hasPictographOrRegionalIndicator(cluster) {
		return emojiError("must be a Unicode emoji (custom emoji are not supported)")
	}
	return nil
}

func hasPictographOrRegionalIndicator(s string) bool {
	for _, r := range s {
		if r >= regionalIndicatorFirst && r <= regionalIndicatorLast {
			return true
		}
		if unicode.Is(extendedPictographic, r) {
			return true
		}
	}
	return false
}

func emojiError(message string) error {
	return &validate.Error{Field: "emoji", Message: message}
}
