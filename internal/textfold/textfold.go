// Package textfold folds what people type for matching: case, accents,
// compatibility forms and spacing.
package textfold

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// special spells the Latin letters that Unicode does not decompose into a
// base letter and an accent with their base letters.
var special = strings.NewReplacer(
	"đ", "d", "Đ", "d", "ł", "l", "Ł", "l", "ø", "o", "Ø", "o",
	"æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe", "ı", "i", "ħ", "h", "Ħ", "h",
)

// Fold returns s for matching what people type: in compatibility form
// (full-width letters as letters), without accents and other combining
// marks, with the Latin letters that do not decompose spelled with their
// base letters (đ as d, æ as ae), runs of space as one space and no space
// at either end, and case-folded (ß is ss).
func Fold(s string) string {
	s = norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsSpace(r):
			space = b.Len() > 0
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return cases.Fold().String(special.Replace(b.String()))
}

// TrimPunct returns s without punctuation and space at either end.
func TrimPunct(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}
