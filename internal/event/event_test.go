package event

import (
	"encoding/json"
	"testing"
)

func TestCanonical(t *testing.T) {
	type inner struct {
		Zeta  int    `json:"zeta"`
		Alpha string `json:"alpha"`
	}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"struct fields sorted", inner{Zeta: 1, Alpha: "a"}, `{"alpha":"a","zeta":1}`},
		{"nested maps sorted", map[string]any{"b": map[string]int{"y": 2, "x": 1}, "a": []int{3, 1}}, `{"a":[3,1],"b":{"x":1,"y":2}}`},
		{"no HTML escaping", map[string]string{"content": "<b>&</b>"}, `{"content":"<b>&</b>"}`},
		{"large integers kept", map[string]any{"n": json.Number("12345678901234567890")}, `{"n":12345678901234567890}`},
		{"unicode kept as text", map[string]string{"name": "héllo 😀"}, `{"name":"héllo 😀"}`},
		{"null", nil, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(tt.in)
			if err != nil {
				t.Fatalf("Canonical: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCanonicalIsStable(t *testing.T) {
	first, err := Canonical(map[string]any{"b": 1, "a": map[string]any{"d": true, "c": nil}})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		again, err := Canonical(json.RawMessage(first))
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(first) {
			t.Fatalf("re-encoding changed the bytes: %s then %s", first, again)
		}
	}
}
