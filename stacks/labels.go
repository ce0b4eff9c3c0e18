package stacks

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Label forms in goroutine headers.
//
// Go 1.26 under GODEBUG=tracebacklabels=1 prints the labels inside the
// brackets, every key and value quoted by the runtime's printquoted:
//
//	goroutine 8 [chan receive labels:{"role": "api", "k": "a\"b"}]:
//
// Go 1.27 prints them by default in modules declaring go 1.27 (off with
// tracebacklabels=0) after the closing bracket; a key or value is bare when
// it has only [A-Za-z0-9./_] (the empty string too) and printquoted
// otherwise:
//
//	goroutine 19 [chan receive] {job: sync, "tenant id": "a, b"}:
//
// Both print the labels in the order of the runtime's label set (sorted by
// key).
const (
	labelsNone     = 0 // no labels or form unknown: written in the Go 1.27 form
	labelsBracket  = 1 // Go 1.26: " labels:{…}" inside the brackets
	labelsAfterHdr = 2 // Go 1.27: " {…}" after the brackets
)

// parseHeaderLabels parses the body of Go 1.27's header labels,
// `k: v, "k 2": "v\"2"`. It reports false unless the whole body is read.
func parseHeaderLabels(b []byte) (map[string]string, bool) {
	m := map[string]string{}
	for len(b) > 0 {
		k, rest, ok := cutLabelToken(b)
		if !ok || len(rest) < 2 || rest[0] != ':' || rest[1] != ' ' {
			return nil, false
		}
		v, rest, ok := cutLabelToken(rest[2:])
		if !ok {
			return nil, false
		}
		m[k] = v
		if len(rest) == 0 {
			break
		}
		if len(rest) < 3 || rest[0] != ',' || rest[1] != ' ' {
			return nil, false
		}
		b = rest[2:]
	}
	if len(m) == 0 {
		return nil, true
	}
	return m, true
}

// cutLabelToken cuts one bare or quoted label key or value from b.
func cutLabelToken(b []byte) (string, []byte, bool) {
	if len(b) > 0 && b[0] == '"' {
		return cutQuoted(b)
	}
	i := 0
	for i < len(b) && bareByte(b[i]) {
		i++
	}
	return string(b[:i]), b[i:], true
}

// bareByte reports whether the runtime prints c in a label without quotes.
func bareByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/' || c == '_'
}

// parseBracketLabels parses Go 1.26's {"k": "v", "k2": "v2"} (sep ": ")
// and the debug=1 profile's {"k":"v", "k2":"v2"} (sep ":"). It reports
// false unless the whole text is read.
func parseBracketLabels(b []byte, sep string) (map[string]string, bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	b = b[1 : len(b)-1]
	m := map[string]string{}
	for len(b) > 0 {
		k, rest, ok := cutQuoted(b)
		if !ok || !bytes.HasPrefix(rest, []byte(sep)) {
			return nil, false
		}
		v, rest, ok := cutQuoted(rest[len(sep):])
		if !ok {
			return nil, false
		}
		m[k] = v
		if len(rest) == 0 {
			break
		}
		if len(rest) < 3 || rest[0] != ',' || rest[1] != ' ' {
			return nil, false
		}
		b = rest[2:]
	}
	if len(m) == 0 {
		return nil, true
	}
	return m, true
}

// cutQuoted unquotes the Go string literal at the start of b.
func cutQuoted(b []byte) (string, []byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", b, false
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(string(b[:i+1]))
			if err != nil {
				return "", b, false
			}
			return v, b[i+1:], true
		}
	}
	return "", b, false
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runtimeQuote quotes s as the runtime's printquoted does: printable ASCII
// as is, \n \r \t \\ \" escaped, other bytes below 0x7f as \xNN, invalid
// UTF-8 bytes as \xNN, other runes as \uNNNN or \UNNNNNNNN. The result
// holds only printable ASCII, so it is safe on a terminal too.
func runtimeQuote(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r >= ' ' && r <= '~':
			b.WriteByte(byte(r))
		case r < 127:
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&15])
		case r < 0x10000:
			b.WriteString(`\u`)
			for sh := 12; sh >= 0; sh -= 4 {
				b.WriteByte(hex[(r>>sh)&15])
			}
		default:
			b.WriteString(`\U`)
			for sh := 28; sh >= 0; sh -= 4 {
				b.WriteByte(hex[(r>>sh)&15])
			}
		}
		i += size
	}
	b.WriteByte('"')
}

// headerLabels formats labels as the runtime prints them in a goroutine
// header: `{k: v, "a b": "c"}` (Go 1.27, bare where the runtime leaves a
// string bare) or `{"k": "v"}` (Go 1.26, quoted bool).
func headerLabels(m map[string]string, quoteAll bool) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteString(", ")
		}
		labelToken(&b, k, quoteAll)
		b.WriteString(": ")
		labelToken(&b, m[k], quoteAll)
	}
	b.WriteByte('}')
	return b.String()
}

func labelToken(b *strings.Builder, s string, quote bool) {
	if !quote {
		bare := true
		for i := 0; i < len(s); i++ {
			if !bareByte(s[i]) {
				bare = false
				break
			}
		}
		if bare {
			b.WriteString(s)
			return
		}
	}
	runtimeQuote(b, s)
}

// profileLabels formats labels as runtime/pprof's debug=1 profile does:
// `{"k":"v", "k2":"v2"}`, each pair %q-quoted and the pairs sorted as text.
func profileLabels(m map[string]string) string {
	pairs := make([]string, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, strconv.Quote(k)+":"+strconv.Quote(v))
	}
	sort.Strings(pairs)
	return "{" + strings.Join(pairs, ", ") + "}"
}

// termSafe returns s with every byte or rune that could act on a terminal
// escaped: C0 controls (ESC, BEL, NUL, CR, …, and tab), DEL, C1 controls,
// the Unicode bidirectional controls (U+061C, U+200E–U+200F,
// U+202A–U+202E, U+2066–U+2069), line and paragraph separators, and
// invalid UTF-8, each as \xNN or \uNNNN. The common case (nothing to
// escape) does not allocate.
func termSafe(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < 0x80 {
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if termUnsafeRune(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case size == 1 && (r < 0x20 || r == 0x7f || r == utf8.RuneError):
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		case size > 1 && termUnsafeRune(r, size):
			b.WriteString(`\u`)
			for sh := 12; sh >= 0; sh -= 4 {
				b.WriteByte(hex[(r>>sh)&15])
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func termUnsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f: // C1 controls, CSI among them
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}
