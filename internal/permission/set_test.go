package permission

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSetBitNumbers(t *testing.T) {
	tests := []struct {
		name string
		set  Set
		bit  int
	}{
		{"VIEW_CHANNEL", ViewChannel, 0},
		{"SEND_MESSAGES", SendMessages, 1},
		{"READ_MESSAGE_HISTORY", ReadMessageHistory, 2},
		{"MANAGE_MESSAGES", ManageMessages, 3},
		{"ADD_REACTIONS", AddReactions, 4},
		{"ATTACH_FILES", AttachFiles, 5},
		{"MENTION_EVERYONE", MentionEveryone, 6},
		{"CREATE_INVITE", CreateInvite, 7},
		{"MANAGE_CHANNELS", ManageChannels, 8},
		{"MANAGE_ROLES", ManageRoles, 9},
		{"MANAGE_GUILD", ManageGuild, 10},
		{"KICK_MEMBERS", KickMembers, 11},
		{"BAN_MEMBERS", BanMembers, 12},
		{"CONNECT", Connect, 13},
		{"SPEAK", Speak, 14},
		{"MUTE_MEMBERS", MuteMembers, 15},
		{"DEAFEN_MEMBERS", DeafenMembers, 16},
		{"MOVE_MEMBERS", MoveMembers, 17},
		{"CHANGE_NICKNAME", ChangeNickname, 18},
		{"MANAGE_NICKNAMES", ManageNicknames, 19},
		{"VIEW_AUDIT_LOG", ViewAuditLog, 20},
		{"MANAGE_WEBHOOKS", ManageWebhooks, 21},
		{"ADMINISTRATOR", Administrator, 40},
	}

	var union Set
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set != Set(1)<<tt.bit {
				t.Errorf("value = %d, want bit %d", uint64(tt.set), tt.bit)
			}
			if got := tt.set.Names(); !slices.Equal(got, []string{tt.name}) {
				t.Errorf("Names() = %v, want [%s]", got, tt.name)
			}
		})
		union |= tt.set
	}

	if All != union {
		t.Errorf("All = %d, want the union of every permission %d", uint64(All), uint64(union))
	}
}

func TestNamedSets(t *testing.T) {
	tests := []struct {
		name string
		set  Set
		want []string
	}{
		{"everyone default", EveryoneDefault, []string{
			"VIEW_CHANNEL", "SEND_MESSAGES", "READ_MESSAGE_HISTORY", "ADD_REACTIONS",
			"ATTACH_FILES", "CREATE_INVITE", "CONNECT", "SPEAK", "CHANGE_NICKNAME",
		}},
		{"DM participant", DMParticipant, []string{
			"VIEW_CHANNEL", "SEND_MESSAGES", "READ_MESSAGE_HISTORY", "ADD_REACTIONS", "ATTACH_FILES",
		}},
		{"empty", 0, []string{}},
		{"undefined bits left out", ViewChannel | 1<<22 | 1<<63, []string{"VIEW_CHANNEL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("Names() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetHas(t *testing.T) {
	tests := []struct {
		name string
		set  Set
		p    Set
		want bool
	}{
		{"single bit held", ViewChannel | SendMessages, SendMessages, true},
		{"every bit held", ViewChannel | SendMessages, ViewChannel | SendMessages, true},
		{"one of two bits missing", ViewChannel, ViewChannel | SendMessages, false},
		{"empty set always held", 0, 0, true},
		{"nothing held", 0, ViewChannel, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.Has(tt.p); got != tt.want {
				t.Errorf("Set(%d).Has(%d) = %v, want %v", uint64(tt.set), uint64(tt.p), got, tt.want)
			}
		})
	}
}

func TestSetString(t *testing.T) {
	tests := []struct {
		set  Set
		want string
	}{
		{0, "0"},
		{ViewChannel | SendMessages, "3"},
		{Administrator, "1099511627776"},
		{All, "1099515822079"},
		{1<<64 - 1, "18446744073709551615"},
	}
	for _, tt := range tests {
		if got := tt.set.String(); got != tt.want {
			t.Errorf("Set(%d).String() = %q, want %q", uint64(tt.set), got, tt.want)
		}
	}
}

func TestParseSetAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Set
	}{
		{"zero", "0", 0},
		{"everyone default", EveryoneDefault.String(), EveryoneDefault},
		{"all", "1099515822079", All},
		{"administrator alone", "1099511627776", Administrator},
		{"leading zeros", "0003", ViewChannel | SendMessages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSet(tt.in)
			if err != nil {
				t.Fatalf("ParseSet(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseSet(%q) = %d, want %d", tt.in, uint64(got), uint64(tt.want))
			}
		})
	}
}

func TestParseSetRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		message string // part of the expected error message
	}{
		{"empty", "", "empty string"},
		{"negative", "-1", "not a decimal digit"},
		{"leading plus", "+1", "not a decimal digit"},
		{"leading space", " 1", "not a decimal digit"},
		{"trailing newline", "1\n", "not a decimal digit"},
		{"underscore", "1_024", "not a decimal digit"},
		{"hexadecimal", "0x10", "not a decimal digit"},
		{"exponent", "1e3", "not a decimal digit"},
		{"fraction", "1.0", "not a decimal digit"},
		{"non-ASCII digit", "١", "not a decimal digit"},
		{"above uint64", "18446744073709551616", "exceeds the maximum"},
		{"far above uint64", strings.Repeat("9", 40), "exceeds the maximum"},
		{"bit 22 undefined", "4194304", "undefined bits 22"},
		{"several undefined bits", "2199027449857", "undefined bits 22, 41 ("},
		{"every bit", "18446744073709551615", "undefined bits 22, 23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSet(tt.in)
			if err == nil {
				t.Fatalf("ParseSet(%q) = %d, want an error", tt.in, uint64(got))
			}
			if !errors.Is(err, ErrInvalidSet) {
				t.Errorf("ParseSet(%q) error %v does not wrap ErrInvalidSet", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("ParseSet(%q) error %q does not contain %q", tt.in, err, tt.message)
			}
		})
	}
}

func TestParseSetErrorQuotesLongInputCut(t *testing.T) {
	in := strings.Repeat("x", 10_000)

	_, err := ParseSet(in)
	if err == nil {
		t.Fatal("ParseSet of 10,000 letters returned no error")
	}
	if len(err.Error()) > 200 {
		t.Errorf("error message is %d bytes long, want the input cut: %.80q...", len(err.Error()), err)
	}
}

func TestSetJSONRoundTrip(t *testing.T) {
	for _, set := range []Set{0, ViewChannel, EveryoneDefault, Administrator, All} {
		data, err := json.Marshal(set)
		if err != nil {
			t.Fatalf("marshal %d: %v", uint64(set), err)
		}
		if want := `"` + set.String() + `"`; string(data) != want {
			t.Errorf("marshal %d = %s, want %s", uint64(set), data, want)
		}

		var got Set
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("unmarshal %s: %v", data, err)
		}
		if got != set {
			t.Errorf("unmarshal %s = %d, want %d", data, uint64(got), uint64(set))
		}
	}
}

func TestSetJSONInStruct(t *testing.T) {
	type role struct {
		Name        string `json:"name"`
		Permissions Set    `json:"permissions"`
	}

	data, err := json.Marshal(role{Name: "mod", Permissions: ManageMessages | ViewChannel})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if want := `{"name":"mod","permissions":"9"}`; string(data) != want {
		t.Errorf("marshal = %s, want %s", data, want)
	}

	var decoded role
	if err := json.Unmarshal([]byte(`{"name":"mod","permissions":"1099511627776"}`), &decoded); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if decoded.Permissions != Administrator {
		t.Errorf("decoded permissions = %d, want Administrator", uint64(decoded.Permissions))
	}
}

func TestSetUnmarshalJSONRejects(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"JSON number", `{"permissions": 8}`},
		{"JSON boolean", `{"permissions": true}`},
		{"JSON array", `{"permissions": ["8"]}`},
		{"negative string", `{"permissions": "-8"}`},
		{"string with space", `{"permissions": " 8"}`},
		{"empty string", `{"permissions": ""}`},
		{"undefined bit", `{"permissions": "4194304"}`},
		{"above uint64", `{"permissions": "18446744073709551616"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct {
				Permissions Set `json:"permissions"`
			}
			err := json.Unmarshal([]byte(tt.body), &v)
			if err == nil {
				t.Fatalf("unmarshal %s = %d, want an error", tt.body, uint64(v.Permissions))
			}
			if !errors.Is(err, ErrInvalidSet) {
				t.Errorf("unmarshal %s error %v does not wrap ErrInvalidSet", tt.body, err)
			}
		})
	}
}

func TestSetUnmarshalJSONNullKeepsValue(t *testing.T) {
	set := ViewChannel

	if err := json.Unmarshal([]byte("null"), &set); err != nil {
		t.Fatalf("unmarshal null: %v", err)
	}
	if set != ViewChannel {
		t.Errorf("after null, set = %d, want it unchanged at %d", uint64(set), uint64(ViewChannel))
	}
}

func TestSetUnmarshalJSONEscapedDigits(t *testing.T) {
	var set Set

	if err := json.Unmarshal([]byte(`"\u0033"`), &set); err != nil {
		t.Fatalf("unmarshal escaped digit: %v", err)
	}
	if set != 3 {
		t.Errorf("set = %d, want 3", uint64(set))
	}
}
