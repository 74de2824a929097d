package flow

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/textfold"
)

// This file holds the built-in checks: the answers a conversation on
// WhatsApp or in a chat asks for most (free text, numbers, email addresses,
// phone numbers, one of a list, yes or no, dates, a pattern, a condition).
//
// Each refuses an answer with an *InvalidError whose Reason names what is
// wrong without quoting the answer (reasons are logged, message text never
// is) and whose Reask is an English text that says what is expected. Wrap a
// check in [Reask] to say it otherwise, in another language say. Every
// check is immutable and safe for concurrent use; the constructors panic,
// with a "flow: " prefix, on arguments that can never work (bounds the
// wrong way round, no choices), as registration misuse does elsewhere in
// Parley, and return an error for what may come from configuration
// (patterns, expressions).

// maxNumberLen bounds the answers the number and phone parsers look at, in
// bytes: far more than any number a person types.
const maxNumberLen = 64

// Reask returns a Check that accepts what c accepts, and asks again with
// text whenever c refuses an answer, instead of c's own re-ask: to reword
// or translate the English re-asks of the built-in checks,
//
//	Reask(Integer(1, 10), "Broj od 1 do 10, molim.")
//
// An empty text leaves the re-ask to the step (its Retry.Message, else its
// question). c's other errors pass through unchanged. It panics if c is
// nil.
func Reask(c Check, text string) Check {
	if c == nil {
		panic("flow: Reask of a nil Check")
	}
	return CheckFunc(func(ctx context.Context, a Answer) (any, error) {
		v, err := c.Check(ctx, a)
		var ie *InvalidError
		if errors.As(err, &ie) {
			return nil, Invalid(ie.Reason, text)
		}
		return v, err
	})
}

// All returns a Check that runs checks in order on the same answer and
// accepts it only if each of them does: the first refusal (or other
// error) is All's. The value saved is the last check's, so put the check
// that converts the answer last, after the conditions:
//
//	All(MustExpr(`Text != "0000"`, "Not 0000, please."), MustRegexp(`\d{4}`, "Four digits, please."))
//
// It panics if there are no checks or one is nil.
func All(checks ...Check) Check {
	if len(checks) == 0 {
		panic("flow: All of no checks")
	}
	for i, c := range checks {
		if c == nil {
			panic(fmt.Sprintf("flow: All: check %d is nil", i+1))
		}
	}
	checks = append([]Check(nil), checks...)
	return CheckFunc(func(ctx context.Context, a Answer) (any, error) {
		var v any
		for _, c := range checks {
			var err error
			if v, err = c.Check(ctx, a); err != nil {
				return nil, err
			}
		}
		return v, nil
	})
}

// FreeText returns a Check that accepts any text of minLen to maxLen
// characters (runes), once surrounding space is removed, and saves it as a
// string. An empty answer (say, a picture without a caption) is always
// refused; minLen ≤ 1 asks for nothing more, and maxLen ≤ 0 means no
// maximum. It panics if maxLen > 0 and minLen > maxLen.
//
// It is named FreeText, not Text, because [Text] makes prompts.
func FreeText(minLen, maxLen int) Check {
	if maxLen > 0 && minLen > maxLen {
		panic(fmt.Sprintf("flow: FreeText(%d, %d): minimum over maximum", minLen, maxLen))
	}
	return CheckFunc(func(_ context.Context, a Answer) (any, error) {
		s := strings.TrimSpace(a.Text)
		n := utf8.RuneCountInString(s)
		switch {
		case n == 0:
			return nil, Invalid("empty answer", "Please answer with some text.")
		case n < minLen:
			return nil, Invalid("too short: under "+characters(minLen),
				"Please write at least "+characters(minLen)+".")
		case maxLen > 0 && n > maxLen:
			return nil, Invalid("too long: over "+characters(maxLen),
				"Please keep it to "+characters(maxLen)+" at most.")
		}
		return s, nil
	})
}

// characters returns "1 character" or "n characters".
func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}

// Number returns a Check that accepts a number from lo to hi inclusive and
// saves it as a float64. Either bound may be infinite.
//
// It reads numbers the way people type them: "12", " 12 ", "+3", "-3",
// "12.5", "12,5" (a decimal comma), "0,125", ".5", "1,234" and "1,234.5"
// (a thousands comma), "1.234.567" and "1.234,5" (thousands dots), and
// "1 234" or "1'234" (thousands spaces or apostrophes). Where both a dot
// and a comma appear the last one is the decimal separator; a single dot
// is always a decimal point; a single comma is a thousands separator only
// when it follows one to three digits (not a lone 0) and is followed by
// exactly three digits, so "1,234" is 1234 and "1,23" is 1.23. Groups of
// thousands must have three digits. Exponents, "Inf", "NaN", hexadecimal
// and units ("12 kg") are refused. It panics if a bound is NaN or lo > hi.
func Number(lo, hi float64) Check {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		panic(fmt.Sprintf("flow: Number(%v, %v): bounds must be numbers, the minimum not over the maximum", lo, hi))
	}
	reask := "Please send a number" + rangeText(
		!math.IsInf(lo, 0), formatFloat(lo), !math.IsInf(hi, 0), formatFloat(hi)) + "."
	return CheckFunc(func(_ context.Context, a Answer) (any, error) {
		d, ok := parseDecimal(a.Text)
		if !ok {
			return nil, Invalid("not a number", reask)
		}
		v, err := strconv.ParseFloat(d.int+"."+d.frac, 64)
		if err != nil || math.IsInf(v, 0) {
			return nil, Invalid("number out of range", reask)
		}
		if d.neg {
			v = -v
		}
		if v == 0 {
			v = 0 // no negative zero
		}
		if v < lo || v > hi {
			return nil, Invalid("number out of range", reask)
		}
		return v, nil
	})
}

// Integer returns a Check that accepts a whole number from lo to hi
// inclusive and saves it as an int64. It reads numbers as [Number] does,
// and takes "12.0" or "12,00" for 12; "12.5" is refused as not whole.
// math.MinInt64 and math.MaxInt64 as bounds mean no bound. It panics if
// lo > hi.
func Integer(lo, hi int64) Check {
	if lo > hi {
		panic(fmt.Sprintf("flow: Integer(%d, %d): minimum over maximum", lo, hi))
	}
	reask := "Please send a whole number" + rangeText(
		lo != math.MinInt64, strconv.FormatInt(lo, 10), hi != math.MaxInt64, strconv.FormatInt(hi, 10)) + "."
	return CheckFunc(func(_ context.Context, a Answer) (any, error) {
		d, ok := parseDecimal(a.Text)
		if !ok {
			return nil, Invalid("not a number", reask)
		}
		if strings.Trim(d.frac, "0") != "" {
			return nil, Invalid("not a whole number", reask)
		}
		s := d.int
		if d.neg {
			s = "-" + s
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < lo || v > hi {
			return nil, Invalid("number out of range", reask)
		}
		return v, nil
	})
}

// rangeText says which numbers are acceptable, after "a number".
func rangeText(hasLo bool, lo string, hasHi bool, hi string) string {
	switch {
	case hasLo && hasHi && lo == hi:
		return ": " + lo
	case hasLo && hasHi:
		return " from " + lo + " to " + hi
	case hasLo:
		return " of at least " + lo
	case hasHi:
		return " no greater than " + hi
	}
	return ""
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// A decimal is a number as typed, split into its parts: its sign, and the
// digits before and after its decimal separator (at least one of them not
// empty).
type decimal struct {
	neg       bool
	int, frac string
}

// parseDecimal parses s as a number typed by a person (see Number).
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	s = strings.TrimSpace(s)
	if len(s) == 0 || len(s) > maxNumberLen {
		return d, false
	}
	switch {
	case s[0] == '+':
		s = s[1:]
	case s[0] == '-':
		d.neg, s = true, s[1:]
	case strings.HasPrefix(s, "\u2212"): // minus sign
		d.neg, s = true, s[len("\u2212"):]
	}
	// Which separators are there, and where are the last dot and comma?
	dots, commas, spaces := 0, 0, 0
	lastDot, lastComma := -1, -1
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.':
			dots, lastDot = dots+1, i
		case r == ',':
			commas, lastComma = commas+1, i
		case isGroupSpace(r):
			spaces++
		default:
			return d, false
		}
	}
	// The decimal separator: its position in s, or -1.
	sep := -1
	switch {
	case dots > 0 && commas > 0:
		sep = max(lastDot, lastComma)
		if (sep == lastDot && dots > 1) || (sep == lastComma && commas > 1) {
			return d, false
		}
	case dots == 1:
		sep = lastDot
	case commas == 1:
		before, after := s[:lastComma], s[lastComma+1:]
		thousands := spaces == 0 && len(after) == 3 && isDigits(after) &&
			len(before) >= 1 && len(before) <= 3 && isDigits(before) && before[0] != '0'
		if !thousands {
			sep = lastComma
		}
	}
	intPart, fracPart := s, ""
	if sep >= 0 {
		intPart, fracPart = s[:sep], s[sep+1:]
		if !isDigits(fracPart) {
			return d, false
		}
	}
	digits, ok := ungroup(intPart)
	if !ok || digits == "" && fracPart == "" {
		return d, false
	}
	if digits == "" {
		digits = "0"
	}
	d.int, d.frac = digits, fracPart
	return d, true
}

// ungroup returns the digits of s, an integer written with or without a
// separator between groups of three digits, the same separator throughout
// (the spaces count as one).
func ungroup(s string) (string, bool) {
	if isDigits(s) {
		return s, true
	}
	var b strings.Builder
	var sepKind rune
	group := 0 // digits in the current group
	first := true
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
			group++
			continue
		}
		kind := r
		if isGroupSpace(r) {
			kind = ' '
		}
		if sepKind == 0 {
			sepKind = kind
		}
		if kind != sepKind || group == 0 || group > 3 || !first && group != 3 {
			return "", false
		}
		first, group = false, 0
	}
	if group != 3 {
		return "", false
	}
	return b.String(), true
}

// isGroupSpace reports a thousands separator other than a dot or a comma:
// a space, a no-break space, a narrow no-break space or an apostrophe.
func isGroupSpace(r rune) bool {
	return r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\'' || r == '\u2019'
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Email returns a Check that accepts one email address, as net/mail reads
// addresses (RFC 5322), and saves it as a string with its domain in lower
// case (the local part, before the @, is kept as typed: only the receiving
// server may fold it). A display name, a comment, angle brackets, a quoted
// local part or a domain literal ([192.0.2.1]) is refused; the domain must
// have a dot, and its last label two characters or more, not all digits.
// One full stop at the end, as at the end of a sentence, is left out.
func Email() Check {
	const reask = "Please send your email address, like name@example.com."
	return CheckFunc(func(_ context.Context, a Answer) (any, error) {
		s := strings.TrimSuffix(strings.TrimSpace(a.Text), ".")
		if s == "" || len(s) > 254 {
			return nil, Invalid("not an email address", reask)
		}
		addr, err := mail.ParseAddress(s)
		if err != nil || addr.Name != "" || addr.Address != s {
			return nil, Invalid("not an email address", reask)
		}
		at := strings.LastIndexByte(s, '@')
		local, domain := s[:at], s[at+1:]
		labels := strings.Split(domain, ".")
		tld := labels[len(labels)-1]
		if len(labels) < 2 || strings.HasPrefix(domain, "[") ||
			utf8.RuneCountInString(tld) < 2 || isDigits(tld) {
			return nil, Invalid("email address without a domain name", reask)
		}
		return local + "@" + strings.ToLower(domain), nil
	})
}

// Phone returns a Check that accepts a phone number in international form
// and saves it in E.164 form: "+" and 8 to 15 digits, the first not 0, such
// as "+385911234567".
//
// The number may be written with spaces, dashes, dots and parentheses
// anywhere ("+385 91 123 4567", "+385-91-123-4567", "(+385) 91 123 4567"),
// with "(0)" after the country code ("+385 (0)91 123 4567", the 0 is left
// out) and with 00 instead of the + ("00385 91 123 4567"). A number
// without its country code is refused; see [PhoneIn] to accept it.
func Phone() Check { return phoneCheck("") }

// PhoneIn is like [Phone], but takes a number written without + or 00 to
// be a national number of the country whose calling code is country (such
// as "385" for Croatia, "1" for the United States): "091 123 4567" saves
// "+385911234567". The trunk prefix of a national number is left out: a
// leading 0 in most countries, a leading 1 in North America (1); Italy's
// numbers (39) keep their leading 0. A number with + or 00 is read as by
// Phone, whatever its country. It panics if country is not one to three
// digits, the first not 0 (a leading + is allowed).
func PhoneIn(country string) Check {
	country = strings.TrimPrefix(country, "+")
	if len(country) < 1 || len(country) > 3 || !isDigits(country) || country[0] == '0' {
		panic(fmt.Sprintf("flow: PhoneIn(%q): not a country calling code", country))
	}
	return phoneCheck(country)
}

func phoneCheck(country string) Check {
	reask := "Please send your phone number with its country code, like +385 91 123 4567."
	if country != "" {
		reask = "Please send your phone number, with its country code if it is not +" + country + "."
	}
	return CheckFunc(func(_ context.Context, a Answer) (any, error) {
		n, reason := parsePhone(a.Text, country)
		if reason != "" {
			return nil, Invalid(reason, reask)
		}
		return n, nil
	})
}

// trunkPrefix returns the prefix of a national number of country, left
// out of the number's international form: 0 in most countries, 1 in North
// America, none in Italy, whose numbers keep their leading 0.
func trunkPrefix(country string) string {
	switch country {
	case "1":
		return "1"
	case "39":
		return ""
	}
	return "0"
}

// parsePhone returns the E.164 form of s, or why s is not a phone number.
func parsePhone(s, country string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "empty answer"
	}
	if len(s) > maxNumberLen {
		return "", "not a phone number"
	}
	s = strings.ReplaceAll(s, "(0)", "")
	var b strings.Builder
	plus := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0 && !plus:
			plus = true
		case unicode.IsSpace(r) || r == '-' || r == '.' || r == '(' || r == ')' ||
			r == '\u2010' || r == '\u2011' || r == '\u2013' || r == '\u2014':
		default:
			return "", "not a phone number"
		}
	}
	digits := b.String()
	switch {
	case plus:
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
	case country != "":
		digits = country + strings.TrimPrefix(digits, trunkPrefix(country))
	default:
		return "", "phone number without a country code"
	}
	switch {
	case digits == "" || digits[0] == '0':
		return "", "not a phone number"
	case len(digits) < 8:
		return "", "phone number too short"
	case len(digits) > 15:
		return "", "phone number too long"
	}
	return "+" + digits, ""
}

// A Choice is one of the answers [OneOfChoices] accepts.
type Choice struct {
	// Value is what is saved when the choice is picked. An answer may name
	// it too.
	Value string
	// Label is how [ChoiceCheck.List] shows the choice; empty means Value.
	Label string
	// Synonyms are other answers that pick the choice, such as "y" and
	// "yeah" for "yes".
	Synonyms []string
}

// A ChoiceCheck is a Check that accepts one of a list of choices; [OneOf],
// [OneOfChoices] and [YesNo] make one. It is immutable and safe for
// concurrent use.
//
// An answer picks a choice, ignoring case, accents (Zürich is zurich, Čakovec
// is cakovec, Đakovo is dakovo), repeated spaces and punctuation at either
// end ("Yes!", "#2", "2)"), in this order:
//
//  1. by a choice's value, label or one of its synonyms;
//  2. by its number in the list, from 1 ("2" picks the second choice);
//  3. by the beginning, three characters or more, of a value, label or
//     synonym of one choice only ("zag" picks Zagreb).
//
// So a choice whose label is a number is picked by that number first, and
// by its place in the list only when no label says otherwise. An unknown
// answer, or a beginning that several choices share, is refused, and the
// re-ask lists the choices with their numbers.
type ChoiceCheck struct {
	labels []string
	values []any
	exact  map[string]int // folded value, label or synonym → choice
	loose  map[string]int // the same without punctuation at either end → choice, -1 for several
	keys   []choiceKey    // the loose forms, for prefixes
	reask  string
}

type choiceKey struct {
	key string
	i   int
}

// OneOf returns a ChoiceCheck that accepts one of values (each its own
// label, without synonyms), and saves it as the string given here, not as
// typed: OneOf("Zürich", "Genève") saves "Zürich" for "zurich" and for "1".
// It panics if there are no values, or if a value is empty or names another
// choice once folded.
func OneOf(values ...string) *ChoiceCheck {
	choices := make([]Choice, len(values))
	for i, v := range values {
		choices[i] = Choice{Value: v}
	}
	return OneOfChoices(choices...)
}

// OneOfChoices returns a ChoiceCheck that accepts one of choices, and saves
// the Value of the choice picked, as a string. It panics if there are no
// choices, if a choice has no Value or an empty synonym, or if a value,
// label or synonym names two choices once folded.
func OneOfChoices(choices ...Choice) *ChoiceCheck {
	if len(choices) == 0 {
		panic("flow: OneOf with no choices")
	}
	labels := make([]string, len(choices))
	values := make([]any, len(choices))
	names := make([][]string, len(choices))
	for i, ch := range choices {
		if ch.Value == "" {
			panic(fmt.Sprintf("flow: OneOf: choice %d has no value", i+1))
		}
		labels[i] = ch.Label
		if labels[i] == "" {
			labels[i] = ch.Value
		}
		values[i] = ch.Value
		names[i] = append([]string{ch.Value, ch.Label}, ch.Synonyms...)
		for _, s := range ch.Synonyms {
			if textfold.Fold(s) == "" {
				panic(fmt.Sprintf("flow: OneOf: choice %d has an empty synonym", i+1))
			}
		}
	}
	c := newChoiceCheck(labels, values, names)
	c.reask = "Please reply with the number or the name of one of these:\n" + c.List()
	return c
}

// YesNo returns a ChoiceCheck that accepts yes or no, and saves true or
// false. Besides 1 (yes) and 2 (no) it understands, ignoring case and
// accents:
//
//	yes: yes y yeah yep yup sure ok okay 👍 ✅ (en), da može naravno (hr),
//	     ja jawohl jo (de), sí (es), oui ouais (fr), sì certo (it)
//	no:  no n nope nah 👎 ❌ (en), ne nije (hr), nein nö (de),
//	     no (es, it), non (fr)
//
// and, as any ChoiceCheck, the beginning of one of these words ("nei",
// "yea"). Its List is "1. Yes" and "2. No".
func YesNo() *ChoiceCheck {
	c := newChoiceCheck([]string{"Yes", "No"}, []any{true, false}, [][]string{
		{"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "👍", "✅",
			"da", "može", "naravno",
			"ja", "jawohl", "jo",
			"sí",
			"oui", "ouais",
			"sì", "certo"},
		{"no", "n", "nope", "nah", "👎", "❌",
			"ne", "nije",
			"nein", "nö",
			"non"},
	})
	c.reask = "Please answer yes or no."
	return c
}

func newChoiceCheck(labels []string, values []any, names [][]string) *ChoiceCheck {
	c := &ChoiceCheck{labels: labels, values: values, exact: map[string]int{}, loose: map[string]int{}}
	for i, ns := range names {
		for _, n := range ns {
			k := textfold.Fold(n)
			if k == "" {
				continue
			}
			if j, ok := c.exact[k]; ok && j != i {
				panic(fmt.Sprintf("flow: OneOf: %q names choices %d and %d", n, j+1, i+1))
			}
			c.exact[k] = i
			l := textfold.TrimPunct(k)
			if l == "" {
				continue
			}
			j, ok := c.loose[l]
			switch {
			case !ok:
				c.loose[l] = i
			case j != i:
				c.loose[l] = -1
			}
			if k := (choiceKey{l, i}); !slices.Contains(c.keys, k) {
				c.keys = append(c.keys, k)
			}
		}
	}
	return c
}

// Check picks the choice a.Text names; see [ChoiceCheck].
func (c *ChoiceCheck) Check(_ context.Context, a Answer) (any, error) {
	s := textfold.Fold(a.Text)
	if s == "" {
		return nil, Invalid("empty answer", c.reask)
	}
	if i, ok := c.exact[s]; ok {
		return c.values[i], nil
	}
	t := textfold.TrimPunct(s)
	if i, ok := c.loose[t]; ok && i >= 0 {
		return c.values[i], nil
	}
	if t != "" && isDigits(t) {
		if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= len(c.values) {
			return c.values[n-1], nil
		}
		return nil, Invalid("no choice with that number", c.reask)
	}
	if utf8.RuneCountInString(t) >= 3 {
		found := -1
		for _, k := range c.keys {
			if !strings.HasPrefix(k.key, t) || k.i == found {
				continue
			}
			if found >= 0 {
				return nil, Invalid("answer names several choices", c.reask)
			}
			found = k.i
		}
		if found >= 0 {
			return c.values[found], nil
		}
	}
	return nil, Invalid("not one of the choices", c.reask)
}

// List returns the choices as a numbered list, one a line, for a prompt:
//
//  1. Zagreb
//  2. Split
//
// It has no line break at the end.
func (c *ChoiceCheck) List() string { return NumberedList(c.labels...) }

// NumberedList returns items as a numbered list, one a line, with no line
// break at the end: "1. Zagreb\n2. Split".
func NumberedList(items ...string) string {
	var b strings.Builder
	for i, s := range items {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(". ")
		b.WriteString(s)
	}
	return b.String()
}

// defaultDateLayouts are the layouts of Date without layouts, tried in
// order on the answer without its spaces and without one full stop at the
// end: ISO 8601, then day first, with a four- or two-digit year or none.
var defaultDateLayouts = []string{
	"2006-1-2",
	"2.1.2006", "2/1/2006", "2-1-2006",
	"2.1.06", "2/1/06",
	"2.1", "2/1",
}

// dateWords are the words for today (0 days from now) and tomorrow (1),
// folded.
var dateWords = map[string]int{
	"today": 0, "danas": 0, "heute": 0, "hoy": 0, "aujourd'hui": 0, "aujourd\u2019hui": 0, "aujourdhui": 0, "oggi": 0,
	"tomorrow": 1, "sutra": 1, "morgen": 1, "manana": 1, "demain": 1, "domani": 1,
}

// Date returns a Check that accepts a date and saves it as a time.Time at
// midnight UTC; see [DateIn] for another time zone.
//
// Without layouts, it reads "2026-12-24" (ISO 8601), "24.12.2026",
// "24/12/2026", "24-12-2026", "24.12.26", "24/12/26" and the Croatian
// "24. 12. 2026." — the day always before the month, so "01/02/2026" is
// the first of February — as well as a day and month without a year,
// "24.12.", "24.12" or "24/12", which is the next 24 December: this year's
// if it is today or later, else next year's (and 29 February the next one
// there is). With layouts (Go time layouts, see time.Parse), it tries
// those in order on the answer as typed instead; a layout without a year
// reads as above, and a time of day in a layout is dropped.
//
// Either way it also takes the words for today and tomorrow, ignoring case
// and accents: "today", "tomorrow" (en), "danas", "sutra" (hr), "heute",
// "morgen" (de), "hoy", "mañana" (es), "aujourd'hui", "demain" (fr),
// "oggi", "domani" (it). Today is the day of the message's Time, or of
// time.Now when the message has no time, in the check's time zone.
func Date(layouts ...string) Check { return DateIn(time.UTC, layouts...) }

// DateIn is like [Date], but saves midnight in loc, and takes today in loc:
// usually the bot's time zone (see bot.WithLocation and [bot.Bot.Location]),
// the customers' if they are elsewhere. It panics if loc is nil.
func DateIn(loc *time.Location, layouts ...string) Check {
	if loc == nil {
		panic("flow: DateIn with a nil location")
	}
	example := "24.12.2026"
	custom := len(layouts) > 0
	if custom {
		layouts = append([]string(nil), layouts...)
		example = time.Date(2026, 12, 24, 9, 30, 0, 0, loc).Format(layouts[0])
	} else {
		layouts = defaultDateLayouts
	}
	reask := "Please send a date, like " + example + "."
	return CheckFunc(func(_ context.Context, a Answer) (any, error) {
		now := time.Now()
		if a.Message != nil && !a.Message.Time.IsZero() {
			now = a.Message.Time
		}
		y, m, d := now.In(loc).Date()
		today := time.Date(y, m, d, 0, 0, 0, 0, loc)
		s := strings.TrimSpace(a.Text)
		if s == "" {
			return nil, Invalid("empty answer", reask)
		}
		if n, ok := dateWords[textfold.TrimPunct(textfold.Fold(s))]; ok {
			return today.AddDate(0, 0, n), nil
		}
		if len(s) > maxNumberLen {
			return nil, Invalid("not a date", reask)
		}
		if !custom {
			s = strings.TrimSuffix(strings.Join(strings.Fields(s), ""), ".")
		}
		for _, l := range layouts {
			t, err := time.ParseInLocation(l, s, loc)
			if err != nil {
				continue
			}
			if strings.Contains(l, "06") {
				return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), nil
			}
			return nextDate(today, t.Month(), t.Day()), nil
		}
		return nil, Invalid("not a date", reask)
	})
}

// nextDate returns the first day month/day on or after today; 29 February
// exists one year in four.
func nextDate(today time.Time, month time.Month, day int) time.Time {
	for y := today.Year(); ; y++ {
		t := time.Date(y, month, day, 0, 0, 0, 0, today.Location())
		if t.Day() == day && !t.Before(today) {
			return t
		}
	}
}

// The limits of a Regexp pattern, which may come from configuration: its
// length in bytes, its capturing groups and the instructions of its program
// (the memory of a match grows with the last two). Ample for any pattern
// written by hand; the same as those of expression rules.
const (
	maxPatternLen    = 64 << 10
	maxPatternGroups = 100
	maxPatternInsts  = 5000
)

// Regexp returns a Check that accepts an answer the regular expression
// pattern (RE2 syntax, see regexp/syntax) matches as a whole, as if it were
// written \A(?:pattern)\z: "\d{4}" accepts "1234", not "12345" nor "my pin
// is 1234". Without capturing groups it saves the answer, as a string;
// with groups it saves their texts, a []string with one item per group
// (empty for a group that matched nothing), without the whole match. It
// refuses any other answer with reask (empty asks the step's own question
// again).
//
// Regexp compiles pattern once, now, and returns an error for a pattern
// that does not compile or is over its limits: 64 KiB, 100 capturing
// groups, 5,000 instructions compiled.
func Regexp(pattern, reask string) (Check, error) {
	if len(pattern) > maxPatternLen {
		return nil, fmt.Errorf("flow: regexp: pattern of %d bytes, the limit is %d", len(pattern), maxPatternLen)
	}
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("flow: regexp: %w", err)
	}
	if n := parsed.MaxCap(); n > maxPatternGroups {
		return nil, fmt.Errorf("flow: regexp: %d capturing groups, the limit is %d", n, maxPatternGroups)
	}
	if prog, err := syntax.Compile(parsed.Simplify()); err == nil && len(prog.Inst) > maxPatternInsts {
		return nil, fmt.Errorf("flow: regexp: %d instructions compiled, the limit is %d", len(prog.Inst), maxPatternInsts)
	}
	re, err := regexp.Compile(`\A(?:` + pattern + `)\z`)
	if err != nil {
		return nil, fmt.Errorf("flow: regexp: %w", err)
	}
	return CheckFunc(func(_ context.Context, a Answer) (any, error) {
		s := strings.TrimSpace(a.Text)
		m := re.FindStringSubmatch(s)
		switch {
		case m == nil:
			return nil, Invalid("answer does not match the pattern", reask)
		case len(m) == 1:
			return s, nil
		}
		return m[1:], nil
	}), nil
}

// MustRegexp is like [Regexp] but panics if pattern does not compile. It is
// meant for patterns written in the program.
func MustRegexp(pattern, reask string) Check {
	c, err := Regexp(pattern, reask)
	if err != nil {
		panic(err)
	}
	return c
}

// Expr returns a Check that accepts an answer for which condition, an
// expression rule (see [bot.Expr]), holds, and saves it as a string. The
// condition sees the answer as Text (without surrounding space) and the
// other fields of the message (Platform, Author, Tags, Time, …) and helpers
// of [bot.Env]; it does not see the values saved so far. The condition
// `int(Text) >= 18 && int(Text) < 120` holds for "42"; when int fails on
// "abc", the evaluation fails, and the answer is refused as when the
// condition does not hold. reask is the re-ask (empty asks the step's own
// question again); opts are the expression's limits.
//
// Expr compiles condition once, now, and returns a bad expression as a
// *bot.ExprError with its position. Each evaluation is bounded like an
// expression rule's, and stopped by ctx: one over a limit, or stopped by
// ctx, is returned as the check's error (an *bot.ExprError wrapping
// bot.ErrExprLimit or ctx's error), not as a refusal.
func Expr(condition, reask string, opts ...bot.ExprOption) (Check, error) {
	rule, err := bot.Expr(condition, opts...)
	if err != nil {
		return nil, err
	}
	return CheckFunc(func(ctx context.Context, a Answer) (any, error) {
		var m bot.Message
		if a.Message != nil {
			m = *a.Message
		}
		m.Text = strings.TrimSpace(a.Text)
		ok, err := rule.Match(ctx, &m)
		switch {
		case err != nil && (errors.Is(err, bot.ErrExprLimit) || ctx.Err() != nil):
			return nil, err
		case err != nil:
			return nil, Invalid("condition could not be evaluated", reask)
		case !ok:
			return nil, Invalid("condition does not hold", reask)
		}
		return m.Text, nil
	}), nil
}

// MustExpr is like [Expr] but panics if condition does not compile. It is
// meant for conditions written in the program.
func MustExpr(condition, reask string, opts ...bot.ExprOption) Check {
	c, err := Expr(condition, reask, opts...)
	if err != nil {
		panic(err)
	}
	return c
}
