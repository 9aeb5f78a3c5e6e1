package message

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mention syntax limits.
const (
	// MentionsMax is the maximum number of distinct user ids, and
	// separately of distinct role ids, that one message mentions. Further
	// ids stay in the content as plain text.
	MentionsMax = 100

	// MentionIDMax is the longest id inside a mention tag, in bytes.
	MentionIDMax = 64
)

// everyoneMention is the text that mentions every member of a channel.
const everyoneMention = "@everyone"

// Mentions lists whom a message mentions. Users and Roles are in order of
// first appearance without repeats. In JSON, a nil Users or Roles is
// written as an empty array, never as null.
type Mentions struct {
	Users    []string `json:"users"`
	Roles    []string `json:"roles"`
	Everyone bool     `json:"everyone"`
}

// MarshalJSON encodes m with empty arrays in place of nil slices, because
// the client API defines mentions.users and mentions.roles as arrays.
func (m Mentions) MarshalJSON() ([]byte, error) {
	type plain Mentions // plain has no MarshalJSON, so this does not recurse
	p := plain(m)
	if p.Users == nil {
		p.Users = []string{}
	}
	if p.Roles == nil {
		p.Roles = []string{}
	}
	return json.Marshal(p)
}

// ParseMentions finds the mentions in message content. It reads syntax only,
// so the caller must drop ids that name no member or role of the channel.
//
//   - <@ID> mentions a user and <@&ID> mentions a role. ID is 1 to
//     MentionIDMax characters of A-Z a-z 0-9 and '-'. Any other text between
//     the brackets makes the tag plain text.
//   - Each list keeps the first MentionsMax distinct ids and ignores the rest.
//     Ids are compared exactly as written.
//   - @everyone sets Everyone when canMentionEveryone is true. It must be
//     lower case and stand as its own word, so no letter, digit, combining
//     mark or '_' may touch it on either side: "hi @everyone!" counts, but
//     "mail@everyone.example" and "@everyones" do not.
//
// Markdown is not parsed, so a mention inside a code span still counts.
// The returned Users and Roles are never nil.
func ParseMentions(content string, canMentionEveryone bool) Mentions {
	m := Mentions{Users: []string{}, Roles: []string{}}
	seenUsers := make(map[string]bool)
	seenRoles := make(map[string]bool)

	for i := 0; i < len(content); i++ {
		switch content[i] {
		case '<':
			id, isRole, end, ok := parseMentionTag(content, i)
			if !ok {
				continue
			}
			if isRole {
				m.Roles = appendDistinct(m.Roles, seenRoles, id)
			} else {
				m.Users = appendDistinct(m.Users, seenUsers, id)
			}
			i = end - 1 // the loop's i++ moves to the byte after '>'
		case '@':
			if canMentionEveryone && isEveryoneAt(content, i) {
				m.Everyone = true
			}
		}
	}
	return m
}

// parseMentionTag parses a <@ID> or <@&ID> tag that starts at content[start].
// end is the index just past its '>'.
func parseMentionTag(content string, start int) (id string, isRole bool, end int, ok bool) {
	i := start + 1
	if i >= len(content) || content[i] != '@' {
		return "", false, 0, false
	}
	i++
	if i < len(content) && content[i] == '&' {
		isRole = true
		i++
	}

	idStart := i
	for i < len(content) && i-idStart <= MentionIDMax && mentionIDByte(content[i]) {
		i++
	}
	idLen := i - idStart
	if idLen == 0 || idLen > MentionIDMax || i >= len(content) || content[i] != '>' {
		return "", false, 0, false
	}
	return content[idStart:i], isRole, i + 1, true
}

func mentionIDByte(c byte) bool {
	return c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func appendDistinct(ids []string, seen map[string]bool, id string) []string {
	if len(ids) >= MentionsMax || seen[id] {
		return ids
	}
	seen[id] = true
	return append(ids, id)
}

// isEveryoneAt reports whether content contains @everyone as a whole word at
// index i.
func isEveryoneAt(content string, i int) bool {
	if !strings.HasPrefix(content[i:], everyoneMention) {
		return false
	}
	if before, _ := utf8.DecodeLastRuneInString(content[:i]); i > 0 && isWordRune(before) {
		return false
	}
	after := i + len(everyoneMention)
	if next, _ := utf8.DecodeRuneInString(content[after:]); after < len(content) && isWordRune(next) {
		return false
	}
	return true
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
