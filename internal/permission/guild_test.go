package permission

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseOverwriteKind(t *testing.T) {
	tests := []struct {
		in      string
		want    OverwriteKind
		wantErr bool
	}{
		{in: "role", want: OverwriteRole},
		{in: "member", want: OverwriteMember},
		{in: "Role", wantErr: true},
		{in: " role", wantErr: true},
		{in: "user", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseOverwriteKind(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidOverwriteKind) {
				t.Errorf("ParseOverwriteKind(%q) = %v, %v, want an error wrapping ErrInvalidOverwriteKind", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseOverwriteKind(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestOverwriteKindJSON(t *testing.T) {
	type body struct {
		Type OverwriteKind `json:"type"`
	}

	for _, kind := range []OverwriteKind{OverwriteRole, OverwriteMember} {
		data, err := json.Marshal(body{Type: kind})
		if err != nil {
			t.Fatalf("marshal %v: %v", kind, err)
		}
		if want := `{"type":"` + kind.String() + `"}`; string(data) != want {
			t.Errorf("marshal %v = %s, want %s", kind, data, want)
		}

		var decoded body
		if err := json.Unmarshal(data, &decoded); err != nil {
			t.Fatalf("unmarshal %s: %v", data, err)
		}
		if decoded.Type != kind {
			t.Errorf("unmarshal %s = %v, want %v", data, decoded.Type, kind)
		}
	}
}

func TestOverwriteKindJSONRejects(t *testing.T) {
	var decoded struct {
		Type OverwriteKind `json:"type"`
	}
	if err := json.Unmarshal([]byte(`{"type":"channel"}`), &decoded); !errors.Is(err, ErrInvalidOverwriteKind) {
		t.Errorf("unmarshal of type channel error = %v, want one wrapping ErrInvalidOverwriteKind", err)
	}

	if _, err := json.Marshal(struct{ Type OverwriteKind }{}); !errors.Is(err, ErrInvalidOverwriteKind) {
		t.Errorf("marshal of the zero kind error = %v, want one wrapping ErrInvalidOverwriteKind", err)
	}
}

func TestOverwriteKindString(t *testing.T) {
	tests := []struct {
		kind OverwriteKind
		want string
	}{
		{OverwriteRole, "role"},
		{OverwriteMember, "member"},
		{0, "OverwriteKind(0)"},
		{7, "OverwriteKind(7)"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("OverwriteKind(%d).String() = %q, want %q", int(tt.kind), got, tt.want)
		}
	}
}
