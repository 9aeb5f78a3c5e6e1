package validate

import (
	"errors"
	"strings"
	"testing"
)

func TestUsername(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantKey string
		wantErr bool
	}{
		{"mixed case lowered", "Alice_01", "alice_01", false},
		{"two characters", "ab", "ab", false},
		{"thirty-two characters", strings.Repeat("a", 32), strings.Repeat("a", 32), false},
		{"dots and dashes", "a.b-c", "a.b-c", false},
		{"one character", "a", "", true},
		{"thirty-three characters", strings.Repeat("a", 33), "", true},
		{"space", "al ice", "", true},
		{"at sign", "al@ice", "", true},
		{"non-ASCII letter", "alïce", "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := Username(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Username(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if key != tt.wantKey {
				t.Errorf("key %q, want %q", key, tt.wantKey)
			}
		})
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"trimmed", "  Alice  ", "Alice", false},
		{"sixty-four emoji", strings.Repeat("😀", 64), strings.Repeat("😀", 64), false},
		{"sixty-five characters", strings.Repeat("é", 65), "", true},
		{"only spaces", "   ", "", true},
		{"control character", "Al\x07ice", "", true},
		{"right-to-left override", "Al\u202Eice", "", true},
		{"isolate", "Al\u2068ice", "", true},
		{"zero width space", "Al\u200Bice", "", true},
		{"byte order mark", "\uFEFFAlice", "", true},
		{"newline inside", "Al\nice", "", true},
		{"invalid UTF-8", "Al\xffice", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DisplayName("display_name", tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("DisplayName(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			var vErr *Error
			if err != nil && (!errors.As(err, &vErr) || vErr.Field != "display_name") {
				t.Errorf("error %v does not name the field", err)
			}
		})
	}
}

func TestNameReasons(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantReason string
	}{
		{"empty after trimming", "  ", "name_empty"},
		{"too long", strings.Repeat("x", 65), "name_too_long"},
		{"sixty-four accepted", strings.Repeat("ж", 64), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Name("name", tt.in, 64)
			var vErr *Error
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.As(err, &vErr) || vErr.Reason != tt.wantReason {
				t.Errorf("error %v, want reason %s", err, tt.wantReason)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	if Password("password", "1234567") == nil {
		t.Error("7-byte password accepted")
	}
	if err := Password("password", "12345678"); err != nil {
		t.Errorf("8-byte password rejected: %v", err)
	}
	if err := Password("password", strings.Repeat("p", 1024)); err != nil {
		t.Errorf("1024-byte password rejected: %v", err)
	}
	if Password("password", strings.Repeat("p", 1025)) == nil {
		t.Error("1025-byte password accepted")
	}
}
