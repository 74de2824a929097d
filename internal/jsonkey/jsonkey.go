// Package jsonkey answers questions about the keys of a JSON text without
// decoding it.
package jsonkey

import "bytes"

// AtMostOnce reports whether the JSON text raw holds at most one string
// that encoding/json could match to a struct field named key: key in any
// ASCII case, spelled with or without \u escapes or with letters outside
// ASCII that fold to its letters. It counts every string, keys and values
// alike, at any depth, and counts each string it cannot rule out, so that
// true is certain and false may be too cautious. key must be ASCII
// letters, and raw valid JSON for the answer to hold.
func AtMostOnce(raw []byte, key string) bool {
	n := 0
	for i := 0; i < len(raw); i++ {
		q := bytes.IndexByte(raw[i:], '"')
		if q < 0 {
			break
		}
		var may bool
		may, i = mayMatch(raw, i+q+1, key)
		if may {
			if n++; n > 1 {
				return false
			}
		}
	}
	return true
}

// mayMatch scans the string of raw that starts at i, after its opening
// quote, and returns whether it could decode to a match of key, and the
// index of its closing quote (len(raw) if it has none). A match decodes to
// len(key) letters, each the letter of key at its place in any ASCII case,
// or a rune written as a \u escape or in more than one byte, which could
// decode or fold to it; any other escape decodes to a character that is
// not a letter.
func mayMatch(raw []byte, i int, key string) (bool, int) {
	pos := 0 // the runes of the string so far
	for ; i < len(raw); i++ {
		if pos > len(key) {
			return false, closingQuote(raw, i)
		}
		c := raw[i]
		switch {
		case c == '"':
			return pos == len(key), i
		case c == '\\':
			if i+1 < len(raw) && raw[i+1] == 'u' {
				i += 5 // \uXXXX
			} else {
				return false, closingQuote(raw, i)
			}
		case c < 0x80:
			if pos >= len(key) || c|0x20 != key[pos]|0x20 || c|0x20 < 'a' || c|0x20 > 'z' {
				return false, closingQuote(raw, i)
			}
		case c < 0xC0: // a continuation byte: part of the rune counted at its first byte
			continue
		}
		pos++
	}
	return false, len(raw)
}

// closingQuote returns the index of the quote that closes the string of raw
// in which i is, at the start of a character or escape, or len(raw).
func closingQuote(raw []byte, i int) int {
	for {
		q := bytes.IndexByte(raw[i:], '"')
		if q < 0 {
			return len(raw)
		}
		j := i + q
		k := j
		for k > i && raw[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 0 { // not escaped
			return j
		}
		i = j + 1
	}
}
