package media

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFilenameBytes caps a stored file name, the common file-system limit.
const maxFilenameBytes = 255

// fallbackFilename names a file whose name sanitises to nothing.
const fallbackFilename = "file"

// SanitizeFilename returns a file name that is safe to offer in a
// Content-Disposition header: the last path element, without control,
// format or invalid characters, trimmed of spaces and dots at either end,
// and cut to 255 bytes keeping the extension.
func SanitizeFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base("/" + name)

	var b strings.Builder
	for _, r := range name {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '/' {
			continue
		}
		b.WriteRune(r)
	}
	name = strings.Trim(b.String(), " .")
	if name == "" {
		return fallbackFilename
	}
	return truncateName(name)
}

// truncateName cuts name to maxFilenameBytes on a character boundary,
// keeping a short extension.
func truncateName(name string) string {
	if len(name) <= maxFilenameBytes {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	limit := maxFilenameBytes - len(ext)
	for limit > 0 && !utf8.RuneStart(stem[limit]) {
		limit--
	}
	return strings.TrimRight(stem[:limit], " .") + ext
}
