package message

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/validate"
)

func TestCheckContent(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		max        int
		want       string
		wantReason string // empty when the content is accepted
	}{
		{"plain text", "hello", 10, "hello", ""},
		{"surrounding spaces trimmed", "  hello \t\n", 10, "hello", ""},
		{"inner white space kept", "a  b\nc", 10, "a  b\nc", ""},
		{"no-break space trimmed", "\u00A0hi\u3000", 10, "hi", ""},
		{"exactly max characters", strings.Repeat("a", 10), 10, strings.Repeat("a", 10), ""},
		{"max counted in scalar values", strings.Repeat("😀", 10), 10, strings.Repeat("😀", 10), ""},
		{"spaces do not count toward max", "  " + strings.Repeat("é", 10) + "  ", 10, strings.Repeat("é", 10), ""},
		{"default max accepted", strings.Repeat("x", DefaultContentMax), DefaultContentMax, strings.Repeat("x", DefaultContentMax), ""},
		{"other control characters kept", "a\x07b", 10, "a\x07b", ""},
		{"empty", "", 10, "", "content_empty"},
		{"only white space", " \t\r\n\u2003 ", 10, "", "content_empty"},
		{"one over max", strings.Repeat("a", 11), 10, "", "content_too_long"},
		{"default max plus one", strings.Repeat("x", DefaultContentMax+1), DefaultContentMax, "", "content_too_long"},
		{"invalid UTF-8", "ab\xffcd", 10, "", "invalid_encoding"},
		{"truncated multibyte sequence", "ab\xe2\x82", 10, "", "invalid_encoding"},
		{"encoded surrogate", "\xed\xa0\x80", 10, "", "invalid_encoding"},
		{"NUL inside", "ab\x00cd", 10, "", "invalid_encoding"},
		{"NUL at the edge is not trimmed away", "\x00hello", 10, "", "invalid_encoding"},
		{"NUL alone", "\x00", 10, "", "invalid_encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckContent(tt.in, tt.max)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("CheckContent(%q, %d) error = %v, want nil", tt.in, tt.max, err)
				}
				if got != tt.want {
					t.Errorf("content %q, want %q", got, tt.want)
				}
				return
			}

			var verr *validate.Error
			if !errors.As(err, &verr) {
				t.Fatalf("CheckContent(%q, %d) error = %v, want *validate.Error", tt.in, tt.max, err)
			}
			if verr.Field != "content" {
				t.Errorf("field %q, want content", verr.Field)
			}
			if verr.Reason != tt.wantReason {
				t.Errorf("reason %q, want %q", verr.Reason, tt.wantReason)
			}
			if verr.Message == "" {
				t.Error("message is empty")
			}
			if got != "" {
				t.Errorf("content %q on rejection, want empty", got)
			}
		})
	}
}

func TestCheckContentReasonsAreCounted(t *testing.T) {
	inputs := []string{"", strings.Repeat("a", 11), "\xff", "\x00"}
	for _, in := range inputs {
		_, err := CheckContent(in, 10)
		var verr *validate.Error
		if !errors.As(err, &verr) {
			t.Fatalf("CheckContent(%q) error = %v, want *validate.Error", in, err)
		}
		if !slices.Contains(metrics.RejectionReasons(), verr.Reason) {
			t.Errorf("CheckContent(%q) reason %q is not a messaging rejection reason", in, verr.Reason)
		}
	}
}

func TestCheckNonce(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"empty means no nonce", "", false},
		{"uuid", "0190c3e4-8a1b-7c2d-9e3f-405162738495", false},
		{"digits", "1234567890", false},
		{"punctuation and space", "a b~!{}", false},
		{"sixty-four characters", strings.Repeat("n", 64), false},
		{"sixty-five characters", strings.Repeat("n", 65), true},
		{"tab", "a\tb", true},
		{"newline", "a\n", true},
		{"NUL", "a\x00", true},
		{"DEL", "a\x7f", true},
		{"non-ASCII letter", "nonç", true},
		{"invalid UTF-8", "\xff", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNonce(tt.in)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckNonce(%q) error = %v, want nil", tt.in, err)
				}
				return
			}

			var verr *validate.Error
			if !errors.As(err, &verr) {
				t.Fatalf("CheckNonce(%q) error = %v, want *validate.Error", tt.in, err)
			}
			if verr.Field != "nonce" {
				t.Errorf("field %q, want nonce", verr.Field)
			}
			if verr.Reason != "" {
				t.Errorf("reason %q, want none because nonce errors are not counted", verr.Reason)
			}
		})
	}
}

func FuzzCheckContent(f *testing.F) {
	seeds := []string{
		"", " ", "hello", "  hello  ", "\x00", "a\x00b", "\xff", "\xed\xa0\x80",
		"😀", "\u00A0x\u00A0", "\u3000", strings.Repeat("é", 64), "<@abc> hi @everyone",
	}
	for _, s := range seeds {
		f.Add(s, uint16(10))
	}
	f.Add(strings.Repeat("a", 100), uint16(99))

	f.Fuzz(func(t *testing.T, in string, maxSeed uint16) {
		max := int(maxSeed)%DefaultContentMax + 1
		got, err := CheckContent(in, max)
		if err != nil {
			var verr *validate.Error
			if !errors.As(err, &verr) {
				t.Fatalf("error %v is not a *validate.Error", err)
			}
			if verr.Field != "content" {
				t.Fatalf("field %q, want content", verr.Field)
			}
			if !slices.Contains([]string{"content_empty", "content_too_long", "invalid_encoding"}, verr.Reason) {
				t.Fatalf("reason %q is not a content reason", verr.Reason)
			}
			return
		}

		if !utf8.ValidString(got) {
			t.Fatalf("accepted content %q is not valid UTF-8", got)
		}
		if strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("accepted content %q contains NUL", got)
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > max {
			t.Fatalf("accepted content has %d characters, want 1 to %d", n, max)
		}
		if strings.TrimSpace(got) != got {
			t.Fatalf("accepted content %q is not trimmed", got)
		}
		if !strings.Contains(in, got) {
			t.Fatalf("accepted content %q is not part of the input %q", got, in)
		}
	})
}
