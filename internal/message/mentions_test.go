package message

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseMentions(t *testing.T) {
	id64 := strings.Repeat("a", 64)
	id65 := strings.Repeat("a", 65)

	tests := []struct {
		name         string
		content      string
		canEveryone  bool
		wantUsers    []string
		wantRoles    []string
		wantEveryone bool
	}{
		{"no mentions", "hello there", true, nil, nil, false},
		{"one user", "hi <@u1>", false, []string{"u1"}, nil, false},
		{"one role", "hi <@&r1>", false, nil, []string{"r1"}, false},
		{"uuid ids", "<@0190c3e4-8a1b-7c2d-9e3f-405162738495> <@&0190C3E4-AAAA>", false,
			[]string{"0190c3e4-8a1b-7c2d-9e3f-405162738495"}, []string{"0190C3E4-AAAA"}, false},
		{"same id as user and role", "<@x> <@&x>", false, []string{"x"}, []string{"x"}, false},
		{"repeats kept once in first order", "<@b> <@a> <@b> <@&r> <@a> <@&r>", false, []string{"b", "a"}, []string{"r"}, false},
		{"ids compared exactly", "<@abc> <@ABC>", false, []string{"abc", "ABC"}, nil, false},
		{"adjacent tags", "<@a><@b><@&c>", false, []string{"a", "b"}, []string{"c"}, false},
		{"tag inside extra brackets", "<<@a>>", false, []string{"a"}, nil, false},
		{"tag inside code span still counts", "`<@a>`", false, []string{"a"}, nil, false},
		{"id of 64 characters", "<@" + id64 + ">", false, []string{id64}, nil, false},
		{"id of 65 characters", "<@" + id65 + ">", false, nil, nil, false},
		{"empty user id", "<@>", false, nil, nil, false},
		{"empty role id", "<@&>", false, nil, nil, false},
		{"underscore in id", "<@a_b>", false, nil, nil, false},
		{"space in id", "<@a b>", false, nil, nil, false},
		{"non-ASCII id", "<@é>", false, nil, nil, false},
		{"unclosed tag", "<@abc", false, nil, nil, false},
		{"double ampersand", "<@&&r>", false, nil, nil, false},
		{"nickname form is not a mention", "<@!u1>", false, nil, nil, false},
		{"bare at-sign id", "@u1", false, nil, nil, false},
		{"broken tag then good tag", "<@a <@b>", false, []string{"b"}, nil, false},

		{"everyone allowed", "hi @everyone", true, nil, nil, true},
		{"everyone not allowed", "hi @everyone", false, nil, nil, false},
		{"everyone alone", "@everyone", true, nil, nil, true},
		{"everyone before punctuation", "@everyone! look", true, nil, nil, true},
		{"everyone in parentheses", "(@everyone)", true, nil, nil, true},
		{"everyone after newline", "hi\n@everyone", true, nil, nil, true},
		{"everyone before hyphen", "@everyone-ish", true, nil, nil, true},
		{"everyone after at-sign", "@@everyone", true, nil, nil, true},
		{"everyone inside an address", "mail@everyone.example", true, nil, nil, false},
		{"everyone as a prefix", "@everyones", true, nil, nil, false},
		{"everyone before digit", "@everyone2", true, nil, nil, false},
		{"everyone before underscore", "@everyone_", true, nil, nil, false},
		{"everyone after non-ASCII letter", "é@everyone", true, nil, nil, false},
		{"everyone before combining mark", "@everyone\u0301", true, nil, nil, false},
		{"everyone capitalised", "@Everyone", true, nil, nil, false},
		{"everyone later after a non-match", "a@everyone @everyone", true, nil, nil, true},
		{"everyone in brackets is a user tag", "<@everyone>", true, []string{"everyone"}, nil, false},
		{"everyone with users and roles", "<@u> @everyone <@&r>", true, []string{"u"}, []string{"r"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseMentions(tt.content, tt.canEveryone)
			wantUsers := tt.wantUsers
			if wantUsers == nil {
				wantUsers = []string{}
			}
			wantRoles := tt.wantRoles
			if wantRoles == nil {
				wantRoles = []string{}
			}

			if !slices.Equal(got.Users, wantUsers) {
				t.Errorf("users %q, want %q", got.Users, wantUsers)
			}
			if !slices.Equal(got.Roles, wantRoles) {
				t.Errorf("roles %q, want %q", got.Roles, wantRoles)
			}
			if got.Everyone != tt.wantEveryone {
				t.Errorf("everyone %v, want %v", got.Everyone, tt.wantEveryone)
			}
		})
	}
}

func TestParseMentionsNeverNil(t *testing.T) {
	got := ParseMentions("", true)
	if got.Users == nil {
		t.Error("users is nil, want empty")
	}
	if got.Roles == nil {
		t.Error("roles is nil, want empty")
	}
}

func TestParseMentionsLimit(t *testing.T) {
	var b strings.Builder
	for i := range MentionsMax + 5 {
		fmt.Fprintf(&b, "<@u%d> <@&r%d> ", i, i)
	}
	// Repeating an id that is already listed must not be blocked by the cap.
	b.WriteString("<@u0> <@&r0>")

	got := ParseMentions(b.String(), false)

	if len(got.Users) != MentionsMax {
		t.Errorf("%d users, want %d", len(got.Users), MentionsMax)
	}
	if len(got.Roles) != MentionsMax {
		t.Errorf("%d roles, want %d", len(got.Roles), MentionsMax)
	}
	if got.Users[0] != "u0" {
		t.Errorf("first user %q, want u0", got.Users[0])
	}
	if last := got.Users[len(got.Users)-1]; last != fmt.Sprintf("u%d", MentionsMax-1) {
		t.Errorf("last user %q, want u%d", last, MentionsMax-1)
	}
	if last := got.Roles[len(got.Roles)-1]; last != fmt.Sprintf("r%d", MentionsMax-1) {
		t.Errorf("last role %q, want r%d", last, MentionsMax-1)
	}
}

func TestMentionsJSON(t *testing.T) {
	tests := []struct {
		name string
		in   Mentions
		want string
	}{
		{"zero value", Mentions{}, `{"users":[],"roles":[],"everyone":false}`},
		{"empty slices", Mentions{Users: []string{}, Roles: []string{}}, `{"users":[],"roles":[],"everyone":false}`},
		{"filled", Mentions{Users: []string{"u1", "u2"}, Roles: []string{"r1"}, Everyone: true},
			`{"users":["u1","u2"],"roles":["r1"],"everyone":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMentionsJSONInsideStruct(t *testing.T) {
	// The value receiver makes the empty arrays apply to fields and
	// pointers alike.
	body := struct {
		Mentions  Mentions  `json:"mentions"`
		PMentions *Mentions `json:"p_mentions"`
	}{PMentions: &Mentions{}}

	got, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	want := `{"mentions":{"users":[],"roles":[],"everyone":false},"p_mentions":{"users":[],"roles":[],"everyone":false}}`
	if string(got) != want {
		t.Errorf("JSON %s, want %s", got, want)
	}
}

func TestMentionsJSONRoundTrip(t *testing.T) {
	in := Mentions{Users: []string{"u1"}, Roles: []string{"r1", "r2"}, Everyone: true}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}

	var out Mentions
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !slices.Equal(out.Users, in.Users) {
		t.Errorf("users %q, want %q", out.Users, in.Users)
	}
	if !slices.Equal(out.Roles, in.Roles) {
		t.Errorf("roles %q, want %q", out.Roles, in.Roles)
	}
	if out.Everyone != in.Everyone {
		t.Errorf("everyone %v, want %v", out.Everyone, in.Everyone)
	}
}

func FuzzParseMentions(f *testing.F) {
	seeds := []string{"", "<@a>", "<@&b>", "<@a><@a>", "@everyone", "x@everyone", "<@everyone>", "<<@&>>", "<@" + strings.Repeat("a", 65) + ">"}
	for _, s := range seeds {
		f.Add(s, true)
	}

	f.Fuzz(func(t *testing.T, content string, canEveryone bool) {
		got := ParseMentions(content, canEveryone)
		checkMentionIDs(t, "user", got.Users, content, "<@")
		checkMentionIDs(t, "role", got.Roles, content, "<@&")
		if got.Everyone && !canEveryone {
			t.Fatal("everyone set without permission")
		}
		if got.Everyone && !strings.Contains(content, everyoneMention) {
			t.Fatalf("everyone set but %q does not contain %s", content, everyoneMention)
		}
	})
}

func checkMentionIDs(t *testing.T, kind string, ids []string, content, prefix string) {
	t.Helper()
	if ids == nil {
		t.Fatalf("%s ids are nil", kind)
	}
	if len(ids) > MentionsMax {
		t.Fatalf("%d %s ids, want at most %d", len(ids), kind, MentionsMax)
	}
	seen := make(map[string]bool)
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("%s id %q listed twice", kind, id)
		}
		seen[id] = true
		if len(id) < 1 || len(id) > MentionIDMax {
			t.Fatalf("%s id %q has %d bytes, want 1 to %d", kind, id, len(id), MentionIDMax)
		}
		if !strings.Contains(content, prefix+id+">") {
			t.Fatalf("%s id %q has no tag in %q", kind, id, content)
		}
	}
}
