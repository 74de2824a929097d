package flow_test

import (
	"context"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// sent is when the answers of these tests were sent: Monday 15 June 2026,
// 10:00 UTC.
var sent = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

// answerAt returns the answer text sent at t, as the engine builds it.
func answerAt(text string, t time.Time) flow.Answer {
	return flow.Answer{
		Message: &bot.Message{Platform: "sendbee", Conversation: "c1", Text: text, Time: t},
		Text:    strings.TrimSpace(text),
	}
}

// accepted is an answer a check accepts, and the value it saves.
type accepted struct {
	in   string
	want any
}

// refused is an answer a check refuses, and the reason it gives.
type refused struct {
	in, reason string
}

// testCheck checks that c accepts and refuses as told, each answer sent at
// the time sent; when reask is not empty, every refusal re-asks with it.
func testCheck(t *testing.T, c flow.Check, accepts []accepted, refuses []refused, reask string) {
	t.Helper()
	for _, tt := range accepts {
		t.Run("accept/"+tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := c.Check(t.Context(), answerAt(tt.in, sent))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, tt := range refuses {
		t.Run("refuse/"+tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := c.Check(t.Context(), answerAt(tt.in, sent))
			assert.Nil(t, got)
			var ie *flow.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.reason, ie.Reason)
			if reask != "" {
				assert.Equal(t, reask, ie.Reask)
			}
			if in := strings.TrimSpace(tt.in); len(in) >= 4 {
				assert.NotContains(t, ie.Reason, in, "the reason quotes the answer")
			}
		})
	}
}

func TestCheck_FreeText(t *testing.T) {
	t.Parallel()
	testCheck(t, flow.FreeText(2, 10), []accepted{
		{"hi", "hi"},
		{"  hello  ", "hello"},
		{"ćevapčići", "ćevapčići"}, // 9 runes, 13 bytes
		{"0123456789", "0123456789"},
	}, []refused{
		{"", "empty answer"},
		{"   ", "empty answer"},
		{"h", "too short: under 2 characters"},
		{"01234567890", "too long: over 10 characters"},
	}, "")

	t.Run("reasks", func(t *testing.T) {
		t.Parallel()
		c := flow.FreeText(2, 10)
		for in, want := range map[string]string{
			"":            "Please answer with some text.",
			"h":           "Please write at least 2 characters.",
			"01234567890": "Please keep it to 10 characters at most.",
		} {
			_, err := c.Check(t.Context(), answerAt(in, sent))
			var ie *flow.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, want, ie.Reask)
		}
	})
	t.Run("one character", func(t *testing.T) {
		t.Parallel()
		_, err := flow.FreeText(0, 1).Check(t.Context(), answerAt("ab", sent))
		var ie *flow.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "too long: over 1 character", ie.Reason)
		assert.Equal(t, "Please keep it to 1 character at most.", ie.Reask)
	})
	t.Run("no maximum", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("x", 10000)
		got, err := flow.FreeText(0, 0).Check(t.Context(), answerAt(long, sent))
		require.NoError(t, err)
		assert.Equal(t, long, got)
	})
	t.Run("minimum over maximum panics", func(t *testing.T) {
		t.Parallel()
		assert.PanicsWithValue(t, "flow: FreeText(5, 2): minimum over maximum", func() { flow.FreeText(5, 2) })
	})
}

func TestCheck_Number(t *testing.T) {
	t.Parallel()
	testCheck(t, flow.Number(-10000, 10000), []accepted{
		{"12", 12.0},
		{" 12 ", 12.0},
		{"+3", 3.0},
		{"-3", -3.0},
		{"\u22123", -3.0}, // minus sign
		{"-0", 0.0},
		{"12.5", 12.5},
		{"12,5", 12.5},
		{"0,125", 0.125},
		{"1,23", 1.23},
		{".5", 0.5},
		{"12.", 12.0},
		{"007", 7.0},
		{"1,234", 1234.0},
		{"1,234.5", 1234.5},
		{"1.234,5", 1234.5},
		{"1.234", 1.234},
		{"1 234", 1234.0},
		{"1\u00a0234,5", 1234.5},
		{"1'234", 1234.0},
		{"-1,234.25", -1234.25},
		{"10000", 10000.0},
		{"-10000", -10000.0},
	}, []refused{
		{"", "not a number"},
		{"abc", "not a number"},
		{"1e5", "not a number"},
		{"Inf", "not a number"},
		{"NaN", "not a number"},
		{"0x10", "not a number"},
		{"12 kg", "not a number"},
		{"€12", "not a number"},
		{"++3", "not a number"},
		{"- 3", "not a number"},
		{"+", "not a number"},
		{".", "not a number"},
		{",", "not a number"},
		{"1..2", "not a number"},
		{"1.2.3", "not a number"},
		{"1,2,3", "not a number"},
		{"1,23,456", "not a number"},
		{"12,34.5", "not a number"},
		{"1.234.5", "not a number"},
		{"1 23", "not a number"},
		{"1 234,5 6", "not a number"},
		{"1.234 567", "not a number"},
		{strings.Repeat("1", 65), "not a number"},
		{"10000.5", "number out of range"},
		{"-10,001", "number out of range"},
	}, "Please send a number from -10000 to 10000.")

	t.Run("reasks", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name   string
			lo, hi float64
			want   string
		}{
			{"range", 0.5, 2.5, "Please send a number from 0.5 to 2.5."},
			{"one", 3, 3, "Please send a number: 3."},
			{"at least", 18, math.Inf(1), "Please send a number of at least 18."},
			{"at most", math.Inf(-1), 0, "Please send a number no greater than 0."},
			{"any", math.Inf(-1), math.Inf(1), "Please send a number."},
		} {
			_, err := flow.Number(tt.lo, tt.hi).Check(t.Context(), answerAt("x", sent))
			var ie *flow.InvalidError
			require.ErrorAs(t, err, &ie, tt.name)
			assert.Equal(t, tt.want, ie.Reask, tt.name)
		}
	})
	t.Run("bad bounds panic", func(t *testing.T) {
		t.Parallel()
		assert.Panics(t, func() { flow.Number(2, 1) })
		assert.Panics(t, func() { flow.Number(math.NaN(), 1) })
		assert.Panics(t, func() { flow.Number(0, math.NaN()) })
	})
}

func TestCheck_Integer(t *testing.T) {
	t.Parallel()
	testCheck(t, flow.Integer(1, 100000), []accepted{
		{"12", int64(12)},
		{" +12 ", int64(12)},
		{"12.0", int64(12)},
		{"12,00", int64(12)},
		{"1,234", int64(1234)},
		{"1.000", int64(1)}, // a single dot is a decimal point
		{"100 000", int64(100000)},
	}, []refused{
		{"", "not a number"},
		{"twelve", "not a number"},
		{"12.5", "not a whole number"},
		{"1,5", "not a whole number"},
		{"0", "number out of range"},
		{"-3", "number out of range"},
		{"100001", "number out of range"},
		{"99999999999999999999", "number out of range"},
	}, "Please send a whole number from 1 to 100000.")

	t.Run("no bounds", func(t *testing.T) {
		t.Parallel()
		c := flow.Integer(math.MinInt64, math.MaxInt64)
		got, err := c.Check(t.Context(), answerAt("-9223372036854775808", sent))
		require.NoError(t, err)
		assert.Equal(t, int64(math.MinInt64), got)
		got, err = c.Check(t.Context(), answerAt("9,223,372,036,854,775,807", sent))
		require.NoError(t, err)
		assert.Equal(t, int64(math.MaxInt64), got)
		_, err = c.Check(t.Context(), answerAt("9223372036854775808", sent))
		var ie *flow.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "number out of range", ie.Reason)
		assert.Equal(t, "Please send a whole number.", ie.Reask)
	})
	t.Run("at least", func(t *testing.T) {
		t.Parallel()
		_, err := flow.Integer(18, math.MaxInt64).Check(t.Context(), answerAt("17", sent))
		var ie *flow.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "Please send a whole number of at least 18.", ie.Reask)
	})
	t.Run("bad bounds panic", func(t *testing.T) {
		t.Parallel()
		assert.PanicsWithValue(t, "flow: Integer(2, 1): minimum over maximum", func() { flow.Integer(2, 1) })
	})
}

func TestCheck_Email(t *testing.T) {
	t.Parallel()
	testCheck(t, flow.Email(), []accepted{
		{"ana@example.com", "ana@example.com"},
		{" ana@example.com ", "ana@example.com"},
		{"Ana.Horvat@Example.COM", "Ana.Horvat@example.com"},
		{"ana+flow@mail.example.hr", "ana+flow@mail.example.hr"},
		{"ana@example.com.", "ana@example.com"},
		{"željka@primjer.hr", "željka@primjer.hr"},
	}, []refused{
		{"", "not an email address"},
		{"ana", "not an email address"},
		{"Ana <ana@example.com>", "not an email address"},
		{"<ana@example.com>", "not an email address"},
		{"ana@example.com (home)", "not an email address"},
		{`"ana"@example.com`, "not an email address"},
		{"ana @example.com", "not an email address"},
		{"ana@@example.com", "not an email address"},
		{"@example.com", "not an email address"},
		{"ana@example..com", "not an email address"},
		{"ana@example.com, ivo@example.com", "not an email address"},
		{"ana@localhost", "email address without a domain name"},
		{"ana@example.c", "email address without a domain name"},
		{"ana@192.0.2.1", "email address without a domain name"},
		{"ana@[192.0.2.1]", "email address without a domain name"},
	}, "Please send your email address, like name@example.com.")
}

func TestCheck_Phone(t *testing.T) {
	t.Parallel()
	const zagreb = "+385911234567"
	testCheck(t, flow.Phone(), []accepted{
		{"+385911234567", zagreb},
		{"+385 91 123 4567", zagreb},
		{"+385-91-123-4567", zagreb},
		{"+385.91.123.4567", zagreb},
		{"(+385) 91 123 4567", zagreb},
		{"+385 (91) 123-4567", zagreb},
		{"+385 (0)91 123 4567", zagreb},
		{"00385 91 123 4567", zagreb},
		{"+385\u00a091\u2013123\u20134567", zagreb},
		{"+1 (415) 555-2671", "+14155552671"},
		{"+44 20 7946 0958", "+442079460958"},
		{"+12345678", "+12345678"},
		{"+123456789012345", "+123456789012345"},
	}, []refused{
		{"", "empty answer"},
		{"091 123 4567", "phone number without a country code"},
		{"385 91 123 4567", "phone number without a country code"},
		{"+0385 91 123 4567", "not a phone number"},
		{"000385 91 123 4567", "not a phone number"},
		{"+", "not a phone number"},
		{"++385 91 123 4567", "not a phone number"},
		{"+385 91 +123 4567", "not a phone number"},
		{"+385 91 123 4567 ext 2", "not a phone number"},
		{"+385/91/123/4567", "not a phone number"},
		{"call me", "not a phone number"},
		{"+1234567", "phone number too short"},
		{"+1234567890123456", "phone number too long"},
		{"+" + strings.Repeat("1", 64), "not a phone number"},
	}, "Please send your phone number with its country code, like +385 91 123 4567.")
}

func TestCheck_PhoneIn(t *testing.T) {
	t.Parallel()
	t.Run("Croatia", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.PhoneIn("385"), []accepted{
			{"091 123 4567", "+385911234567"},
			{"91 123 4567", "+385911234567"},
			{"(0)91 123 4567", "+385911234567"},
			{"+385 91 123 4567", "+385911234567"},
			{"00385 91 123 4567", "+385911234567"},
			{"+44 20 7946 0958", "+442079460958"},
		}, []refused{
			{"", "empty answer"},
			{"123", "phone number too short"},
			{"091 123 4567 1234 5678", "phone number too long"},
		}, "Please send your phone number, with its country code if it is not +385.")
	})
	t.Run("Italy keeps its 0", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.PhoneIn("+39"), []accepted{
			{"06 1234 5678", "+390612345678"},
			{"333 123 4567", "+393331234567"},
		}, nil, "")
	})
	t.Run("North America drops its 1", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.PhoneIn("1"), []accepted{
			{"(415) 555-2671", "+14155552671"},
			{"1 415 555 2671", "+14155552671"},
			{"415.555.2671", "+14155552671"},
		}, nil, "")
	})
	t.Run("bad country panics", func(t *testing.T) {
		t.Parallel()
		for _, c := range []string{"", "+", "0385", "1234", "38a"} {
			assert.Panics(t, func() { flow.PhoneIn(c) }, c)
		}
	})
}

func TestCheck_OneOf(t *testing.T) {
	t.Parallel()
	cities := flow.OneOf("Zürich", "Genève", "Zagreb", "Split", "Đakovo", "Čakovec")
	reask := "Please reply with the number or the name of one of these:\n" +
		"1. Zürich\n2. Genève\n3. Zagreb\n4. Split\n5. Đakovo\n6. Čakovec"
	testCheck(t, cities, []accepted{
		{"Zürich", "Zürich"},
		{"zurich", "Zürich"},
		{"ZÜRICH", "Zürich"},
		{"  zürich  ", "Zürich"},
		{"Zürich!", "Zürich"},
		{"zu\u0308rich", "Zürich"}, // decomposed ü
		{"ＺＵＲＩＣＨ", "Zürich"},       // full-width
		{"geneve", "Genève"},
		{"dakovo", "Đakovo"},
		{"cakovec", "Čakovec"},
		{"1", "Zürich"},
		{"#2", "Genève"},
		{"3)", "Zagreb"},
		{"(4)", "Split"},
		{"4.", "Split"},
		{" 5 ", "Đakovo"},
		{"zur", "Zürich"},
		{"zag", "Zagreb"},
		{"gen", "Genève"},
		{"spl", "Split"},
		{"Čak", "Čakovec"},
	}, []refused{
		{"", "empty answer"},
		{"?", "not one of the choices"},
		{"0", "no choice with that number"},
		{"7", "no choice with that number"},
		{"#12", "no choice with that number"},
		{"z", "not one of the choices"},
		{"za", "not one of the choices"},
		{"Basel", "not one of the choices"},
		{"Zagreb Split", "not one of the choices"},
		{"zagrebb", "not one of the choices"},
	}, reask)

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "1. Zürich\n2. Genève\n3. Zagreb\n4. Split\n5. Đakovo\n6. Čakovec", cities.List())
	})
	t.Run("shared beginning", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.OneOf("Karlovac", "Karlobag"), []accepted{
			{"karlov", "Karlovac"},
		}, []refused{
			{"kar", "answer names several choices"},
			{"karlo", "answer names several choices"},
		}, "")
	})
	t.Run("a label that is a number wins over the numbering", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.OneOf("3", "2", "1"), []accepted{
			{"1", "1"},
			{"3", "3"},
		}, nil, "")
		testCheck(t, flow.OneOf("10", "20", "30"), []accepted{
			{"2", "20"},
			{"30", "30"},
		}, []refused{{"4", "no choice with that number"}}, "")
	})
	t.Run("labels keep their punctuation", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.OneOf("C", "C#", "C++"), []accepted{
			{"c", "C"},
			{"c#", "C#"},
			{"C++", "C++"},
		}, []refused{
			{"C!", "not one of the choices"}, // without punctuation, all three are c
		}, "")
		testCheck(t, flow.OneOf("Split!", "Split?"), []accepted{
			{"split!", "Split!"},
		}, []refused{
			{"split", "answer names several choices"},
			{"spl", "answer names several choices"},
		}, "")
	})
	t.Run("ß is ss", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.OneOf("Hauptstraße"), []accepted{{"HAUPTSTRASSE", "Hauptstraße"}}, nil, "")
	})
	t.Run("misuse panics", func(t *testing.T) {
		t.Parallel()
		assert.PanicsWithValue(t, "flow: OneOf with no choices", func() { flow.OneOf() })
		assert.PanicsWithValue(t, "flow: OneOf: choice 2 has no value", func() { flow.OneOf("a", "") })
		assert.PanicsWithValue(t, `flow: OneOf: "Zurich" names choices 1 and 2`, func() { flow.OneOf("Zürich", "Zurich") })
		assert.PanicsWithValue(t, "flow: OneOf: choice 1 has an empty synonym", func() {
			flow.OneOfChoices(flow.Choice{Value: "a", Synonyms: []string{" "}})
		})
		assert.Panics(t, func() {
			flow.OneOfChoices(flow.Choice{Value: "yes", Synonyms: []string{"da"}}, flow.Choice{Value: "no", Synonyms: []string{"DA"}})
		})
	})
}

func TestCheck_OneOfChoices(t *testing.T) {
	t.Parallel()
	pay := flow.OneOfChoices(
		flow.Choice{Value: "card", Label: "Credit card", Synonyms: []string{"visa", "mastercard", "kartica"}},
		flow.Choice{Value: "cash", Label: "Cash on delivery", Synonyms: []string{"gotovina", "pouzeće"}},
	)
	testCheck(t, pay, []accepted{
		{"card", "card"},
		{"Credit card", "card"},
		{"credit  CARD", "card"},
		{"VISA", "card"},
		{"cred", "card"},
		{"master", "card"},
		{"1", "card"},
		{"cash", "cash"},
		{"cash on", "cash"},
		{"pouzece", "cash"},
		{"gotov", "cash"},
		{"2", "cash"},
	}, []refused{
		{"cheque", "not one of the choices"},
		{"ca", "not one of the choices"},
	}, "Please reply with the number or the name of one of these:\n1. Credit card\n2. Cash on delivery")
	assert.Equal(t, "1. Credit card\n2. Cash on delivery", pay.List())
}

func TestCheck_YesNo(t *testing.T) {
	t.Parallel()
	var accepts []accepted
	for _, s := range []string{"yes", "Yes!", "YES.", "y", "yeah", "yea", "yep", "sure", "ok", "Okay", "oka", "👍", "✅", "1",
		"da", "Da.", "može", "moze", "naravno", "nar", "ja", "Jawohl", "jo", "si", "sí", "Sì", "oui", "ouais", "certo"} {
		accepts = append(accepts, accepted{s, true})
	}
	for _, s := range []string{"no", "NO!", "n", "nope", "nah", "👎", "❌", "2", "ne", "nije", "nein", "nei", "nö", "non", "Non."} {
		accepts = append(accepts, accepted{s, false})
	}
	testCheck(t, flow.YesNo(), accepts, []refused{
		{"", "empty answer"},
		{"maybe", "not one of the choices"},
		{"ne znam", "not one of the choices"},
		{"na", "not one of the choices"},
		{"3", "no choice with that number"},
	}, "Please answer yes or no.")
	assert.Equal(t, "1. Yes\n2. No", flow.YesNo().List())
}

func TestCheck_NumberedList(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "", flow.NumberedList())
	assert.Equal(t, "1. a", flow.NumberedList("a"))
	assert.Equal(t, "1. a\n2. b", flow.NumberedList("a", "b"))
}

func day(y int, m time.Month, d int, loc *time.Location) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func TestCheck_Date(t *testing.T) {
	t.Parallel()
	utc := time.UTC
	testCheck(t, flow.Date(), []accepted{
		{"2026-12-24", day(2026, 12, 24, utc)},
		{"2027-1-5", day(2027, 1, 5, utc)},
		{"24.12.2026", day(2026, 12, 24, utc)},
		{"24/12/2026", day(2026, 12, 24, utc)},
		{"24-12-2026", day(2026, 12, 24, utc)},
		{"24.12.26", day(2026, 12, 24, utc)},
		{"24/12/26", day(2026, 12, 24, utc)},
		{"24. 12. 2026.", day(2026, 12, 24, utc)},
		{"01/02/2026", day(2026, 2, 1, utc)}, // day first, and in the past
		{"1.2.2027", day(2027, 2, 1, utc)},
		{"24.12.", day(2026, 12, 24, utc)},
		{"24.12", day(2026, 12, 24, utc)},
		{"24/12", day(2026, 12, 24, utc)},
		{"15.6.", day(2026, 6, 15, utc)}, // today
		{"14.6.", day(2027, 6, 14, utc)}, // passed this year
		{"1.3.", day(2027, 3, 1, utc)},
		{"29.2.", day(2028, 2, 29, utc)}, // the next 29 February
		{"today", day(2026, 6, 15, utc)},
		{"Today!", day(2026, 6, 15, utc)},
		{"tomorrow", day(2026, 6, 16, utc)},
		{"danas", day(2026, 6, 15, utc)},
		{"Sutra", day(2026, 6, 16, utc)},
		{"heute", day(2026, 6, 15, utc)},
		{"morgen", day(2026, 6, 16, utc)},
		{"hoy", day(2026, 6, 15, utc)},
		{"mañana", day(2026, 6, 16, utc)},
		{"manana", day(2026, 6, 16, utc)},
		{"aujourd'hui", day(2026, 6, 15, utc)},
		{"Aujourd\u2019hui", day(2026, 6, 15, utc)},
		{"demain", day(2026, 6, 16, utc)},
		{"oggi", day(2026, 6, 15, utc)},
		{"domani", day(2026, 6, 16, utc)},
	}, []refused{
		{"", "empty answer"},
		{"next week", "not a date"},
		{"31.2.2026", "not a date"},
		{"2026-13-01", "not a date"},
		{"12/24/2026", "not a date"}, // month first
		{"24.12.2026 10:00", "not a date"},
		{"24.", "not a date"},
		{"30.2.", "not a date"},
		{strings.Repeat("1", 65), "not a date"},
	}, "Please send a date, like 24.12.2026.")

	t.Run("in a time zone", func(t *testing.T) {
		t.Parallel()
		cest := time.FixedZone("CEST", 2*60*60)
		c := flow.DateIn(cest)
		late := time.Date(2026, 6, 15, 23, 30, 0, 0, time.UTC) // 16 June 01:30 CEST
		for in, want := range map[string]time.Time{
			"today":      day(2026, 6, 16, cest),
			"tomorrow":   day(2026, 6, 17, cest),
			"16.6.":      day(2026, 6, 16, cest),
			"15.6.":      day(2027, 6, 15, cest),
			"2026-12-24": day(2026, 12, 24, cest),
		} {
			got, err := c.Check(t.Context(), answerAt(in, late))
			require.NoError(t, err, in)
			assert.Equal(t, want, got, in)
		}
	})
	t.Run("without a message time, today is now", func(t *testing.T) {
		t.Parallel()
		before := time.Now().UTC().Truncate(24 * time.Hour)
		got, err := flow.Date().Check(t.Context(), flow.Answer{Text: "today"})
		after := time.Now().UTC().Truncate(24 * time.Hour)
		require.NoError(t, err)
		assert.Contains(t, []time.Time{before, after}, got)
	})
	t.Run("layouts", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.Date("2006-01-02 15:04", "Jan 2"), []accepted{
			{"2026-12-24 09:30", day(2026, 12, 24, utc)},
			{"Dec 24", day(2026, 12, 24, utc)},
			{"Jun 14", day(2027, 6, 14, utc)},
			{"tomorrow", day(2026, 6, 16, utc)},
		}, []refused{
			{"24.12.2026", "not a date"},
			{"2026-12-24", "not a date"},
		}, "Please send a date, like 2026-12-24 09:30.")
	})
	t.Run("nil location panics", func(t *testing.T) {
		t.Parallel()
		assert.PanicsWithValue(t, "flow: DateIn with a nil location", func() { flow.DateIn(nil) })
	})
}

func TestCheck_Regexp(t *testing.T) {
	t.Parallel()
	t.Run("whole answer", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.MustRegexp(`\d{4}`, "Four digits, please."), []accepted{
			{"1234", "1234"},
			{" 1234 ", "1234"},
		}, []refused{
			{"", "answer does not match the pattern"},
			{"12345", "answer does not match the pattern"},
			{"my pin is 1234", "answer does not match the pattern"},
			{"123", "answer does not match the pattern"},
		}, "Four digits, please.")
	})
	t.Run("alternatives are anchored as a whole", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.MustRegexp(`a|b`, ""), []accepted{{"a", "a"}, {"b", "b"}},
			[]refused{{"ab", "answer does not match the pattern"}}, "")
	})
	t.Run("groups", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.MustRegexp(`(?i)([A-Z]{2})-?(\d+)(?:/(\d+))?`, ""), []accepted{
			{"AB-123", []string{"AB", "123", ""}},
			{"ab123/4", []string{"ab", "123", "4"}},
		}, []refused{{"AB-", "answer does not match the pattern"}}, "")
	})
	t.Run("no reask leaves it to the step", func(t *testing.T) {
		t.Parallel()
		_, err := flow.MustRegexp(`x`, "").Check(t.Context(), answerAt("y", sent))
		var ie *flow.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Empty(t, ie.Reask)
	})
	t.Run("bad patterns", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct{ name, pattern, err string }{
			{"syntax", `(`, "flow: regexp: error parsing regexp: missing closing ): `(`"},
			{"length", strings.Repeat("a", 64<<10+1), "flow: regexp: pattern of 65537 bytes, the limit is 65536"},
			{"groups", strings.Repeat("(a)", 101), "flow: regexp: 101 capturing groups, the limit is 100"},
			{"instructions", strings.Repeat("[a-z]{1000}", 6), "flow: regexp: 6002 instructions compiled, the limit is 5000"},
		} {
			c, err := flow.Regexp(tt.pattern, "")
			assert.Nil(t, c, tt.name)
			assert.EqualError(t, err, tt.err, tt.name)
		}
		assert.Panics(t, func() { flow.MustRegexp(`(`, "") })
	})
}

func TestCheck_Expr(t *testing.T) {
	t.Parallel()
	adult := flow.MustExpr(`int(Text) >= 18 && int(Text) < 120`, "How old are you, in years?")
	testCheck(t, adult, []accepted{
		{"42", "42"},
		{" 18 ", "18"},
	}, []refused{
		{"17", "condition does not hold"},
		{"abc", "condition could not be evaluated"},
	}, "How old are you, in years?")

	t.Run("message fields", func(t *testing.T) {
		t.Parallel()
		c := flow.MustExpr(`Platform == "sendbee" && Text != Conversation`, "")
		got, err := c.Check(t.Context(), answerAt("hello", sent))
		require.NoError(t, err)
		assert.Equal(t, "hello", got)
		_, err = c.Check(t.Context(), answerAt("c1", sent))
		var ie *flow.InvalidError
		require.ErrorAs(t, err, &ie)
	})
	t.Run("without a message", func(t *testing.T) {
		t.Parallel()
		got, err := flow.MustExpr(`len(Text) == 2`, "").Check(t.Context(), flow.Answer{Text: "hi"})
		require.NoError(t, err)
		assert.Equal(t, "hi", got)
	})
	t.Run("compile error with its position", func(t *testing.T) {
		t.Parallel()
		c, err := flow.Expr("Text ==\n  Nope", "")
		assert.Nil(t, c)
		var ee *bot.ExprError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 2, ee.Line)
		assert.Equal(t, 3, ee.Column)
		_, err = flow.Expr(`Text`, "") // not boolean
		require.ErrorAs(t, err, &ee)
		assert.Panics(t, func() { flow.MustExpr(`)`, "") })
	})
	t.Run("over its budget fails the message", func(t *testing.T) {
		t.Parallel()
		c := flow.MustExpr(`len(repeat(Text, 100)) > 0`, "", bot.ExprBudget(100))
		_, err := c.Check(t.Context(), answerAt("abcdef", sent))
		require.ErrorIs(t, err, bot.ErrExprLimit)
		var ie *flow.InvalidError
		assert.False(t, errors.As(err, &ie), "a limit is not a refusal")
	})
	t.Run("a cancelled context fails the message", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		c := flow.MustExpr(`all(split(repeat("a,", 2000), ","), # != Text)`, "")
		_, err := c.Check(ctx, answerAt("b", sent))
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestCheck_Reask(t *testing.T) {
	t.Parallel()
	c := flow.Reask(flow.Integer(1, 10), "Broj od 1 do 10, molim.")
	got, err := c.Check(t.Context(), answerAt("7", sent))
	require.NoError(t, err)
	assert.Equal(t, int64(7), got)
	_, err = c.Check(t.Context(), answerAt("11", sent))
	var ie *flow.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "number out of range", ie.Reason)
	assert.Equal(t, "Broj od 1 do 10, molim.", ie.Reask)

	boom := errors.New("boom")
	_, err = flow.Reask(flow.CheckFunc(func(context.Context, flow.Answer) (any, error) { return nil, boom }), "x").
		Check(t.Context(), answerAt("7", sent))
	assert.Same(t, boom, err)
	assert.PanicsWithValue(t, "flow: Reask of a nil Check", func() { flow.Reask(nil, "x") })
}

func TestCheck_All(t *testing.T) {
	t.Parallel()
	pin := flow.All(flow.MustExpr(`Text != "0000"`, "Not 0000."), flow.MustRegexp(`\d{4}`, "Four digits."))
	testCheck(t, pin, []accepted{{"1234", "1234"}}, []refused{
		{"0000", "condition does not hold"},
		{"12", "answer does not match the pattern"},
	}, "")

	t.Run("the last check's value", func(t *testing.T) {
		t.Parallel()
		testCheck(t, flow.All(flow.FreeText(1, 4), flow.Integer(1, 99999)), []accepted{{"42", int64(42)}},
			[]refused{{"12345", "too long: over 4 characters"}}, "")
	})
	t.Run("misuse panics", func(t *testing.T) {
		t.Parallel()
		assert.PanicsWithValue(t, "flow: All of no checks", func() { flow.All() })
		assert.PanicsWithValue(t, "flow: All: check 2 is nil", func() { flow.All(flow.Email(), nil) })
	})
}

// plainNumber is a number that strconv.ParseFloat and the checks read the
// same.
var plainNumber = regexp.MustCompile(`^[+-]?\d+(\.\d+)?$`)

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"12", "12.5", "1,234", "12,5", " 12 ", "+3", "-3", "1.234,5", "1 234", "1'234",
		"1e5", "NaN", "-0", ".5", "12.", "9223372036854775808", "1,2,3", "\u22125", "0,125", ""} {
		f.Add(s)
	}
	const lo, hi = -1000.0, 1000.0
	number := flow.Number(lo, hi)
	integer := flow.Integer(-1000, 1000)
	unbounded := flow.Number(math.Inf(-1), math.Inf(1))
	f.Fuzz(func(t *testing.T, s string) {
		ctx := context.Background()
		a := flow.Answer{Text: strings.TrimSpace(s)}
		var ie *flow.InvalidError

		v, err := number.Check(ctx, a)
		if err != nil {
			require.ErrorAs(t, err, &ie)
		} else {
			x, ok := v.(float64)
			require.True(t, ok, "%T", v)
			require.False(t, math.IsNaN(x))
			require.True(t, lo <= x && x <= hi, "%v out of range", x)
		}

		v, err = integer.Check(ctx, a)
		if err != nil {
			require.ErrorAs(t, err, &ie)
		} else {
			n, ok := v.(int64)
			require.True(t, ok, "%T", v)
			require.True(t, -1000 <= n && n <= 1000, "%v out of range", n)
		}

		v, err = unbounded.Check(ctx, a)
		if plainNumber.MatchString(a.Text) && len(a.Text) <= 64 {
			want, perr := strconv.ParseFloat(a.Text, 64)
			require.NoError(t, perr)
			require.NoError(t, err)
			require.Equal(t, want+0, v) // +0: no negative zero
		}
		if err == nil {
			require.False(t, math.IsInf(v.(float64), 0) || math.IsNaN(v.(float64)))
		}
	})
}

// e164 is the form of every phone number the checks save.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+385 91 123 4567", "(+385) 91 123 4567", "00385 91 123 4567", "091 123 4567",
		"+385 (0)91 123 4567", "+1 (415) 555-2671", "++1", "+0", "0000", "(0)(0)", ""} {
		f.Add(s)
	}
	checks := []flow.Check{flow.Phone(), flow.PhoneIn("385"), flow.PhoneIn("39"), flow.PhoneIn("1")}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range checks {
			v, err := c.Check(context.Background(), flow.Answer{Text: strings.TrimSpace(s)})
			if err != nil {
				var ie *flow.InvalidError
				require.ErrorAs(t, err, &ie)
				continue
			}
			p, ok := v.(string)
			require.True(t, ok, "%T", v)
			require.Regexp(t, e164, p)
		}
	})
}
