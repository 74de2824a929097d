package hours_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/handlers/hours"
)

func span(from, to string) hours.Span {
	p := func(s string) time.Duration {
		t, err := time.Parse("15:04", s)
		if err != nil {
			return 24 * time.Hour // "24:00"
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	return hours.Span{From: p(from), To: p(to)}
}

func TestParseWeek(t *testing.T) {
	nineToFive := []hours.Span{span("09:00", "17:00")}
	tests := []struct {
		name string
		in   string
		want hours.Week
		str  string // want String(); "" means in
	}{
		{
			name: "weekdays",
			in:   "Mon-Fri 09:00-17:00",
			want: hours.Week{time.Monday: nineToFive, time.Tuesday: nineToFive, time.Wednesday: nineToFive, time.Thursday: nineToFive, time.Friday: nineToFive},
		},
		{
			name: "clauses, lists, several spans, sorted",
			in:   "mon,WED 13:00-16:30, 08:00-12:00; Saturday 10:00-14:00",
			want: hours.Week{
				time.Monday:    {span("08:00", "12:00"), span("13:00", "16:30")},
				time.Wednesday: {span("08:00", "12:00"), span("13:00", "16:30")},
				time.Saturday:  {span("10:00", "14:00")},
			},
			str: "Mon 08:00-12:00,13:00-16:30; Wed 08:00-12:00,13:00-16:30; Sat 10:00-14:00",
		},
		{
			name: "wrapping day range, overnight span, end of day",
			in:   "Sat-Sun 22:00-02:00; Fri 00:00-24:00",
			want: hours.Week{
				time.Saturday: {span("22:00", "02:00")},
				time.Sunday:   {span("22:00", "02:00")},
				time.Friday:   {span("00:00", "24:00")},
			},
			str: "Fri 00:00-24:00; Sat-Sun 22:00-02:00",
		},
		{
			name: "a day named twice gets both spans",
			in:   "Mon 09:00-10:00; Mon 11:00-12:00;",
			want: hours.Week{time.Monday: {span("09:00", "10:00"), span("11:00", "12:00")}},
			str:  "Mon 09:00-10:00,11:00-12:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := hours.ParseWeek(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			str := tt.str
			if str == "" {
				str = tt.in
			}
			assert.Equal(t, str, got.String())
			again, err := hours.ParseWeek(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again, "String round-trips")
		})
	}
}

func TestParseWeek_errors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "empty", in: " ; ", want: `hours: parse week " ; ": empty schedule`},
		{name: "no times", in: "Mon-Fri", want: `hours: parse week "Mon-Fri": clause 1: want days and times, as in "Mon-Fri 09:00-17:00", got "Mon-Fri"`},
		{name: "unknown day", in: "Mon 09:00-10:00; Fry 09:00-17:00", want: `hours: parse week "Mon 09:00-10:00; Fry 09:00-17:00": clause 2: unknown day "Fry"`},
		{name: "bad hour", in: "Mon 09:00-25:00", want: `hours: parse week "Mon 09:00-25:00": clause 1: bad time "25:00": want HH:MM from 00:00 to 24:00`},
		{name: "after 24:00", in: "Mon 09:00-24:30", want: `hours: parse week "Mon 09:00-24:30": clause 1: bad time "24:30": want HH:MM from 00:00 to 24:00`},
		{name: "one-digit hour", in: "Mon 9:00-17:00", want: `hours: parse week "Mon 9:00-17:00": clause 1: bad time "9:00": want HH:MM from 00:00 to 24:00`},
		{name: "not a span", in: "Mon 09:00", want: `hours: parse week "Mon 09:00": clause 1: want a span such as 09:00-17:00, got "09:00"`},
		{name: "empty span", in: "Mon 09:00-09:00", want: `hours: parse week "Mon 09:00-09:00": clause 1: span "09:00-09:00" is empty`},
		{name: "starts at 24:00", in: "Mon 24:00-02:00", want: `hours: parse week "Mon 24:00-02:00": clause 1: span "24:00-02:00" starts at the end of the day`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := hours.ParseWeek(tt.in)
			assert.Nil(t, w)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestMustParseWeek_panics(t *testing.T) {
	assert.PanicsWithError(t, `hours: parse week "": empty schedule`, func() { hours.MustParseWeek("") })
}

func TestWeek_text(t *testing.T) {
	var cfg struct {
		Open     hours.Week
		Holidays []hours.Date
	}
	require.NoError(t, json.Unmarshal([]byte(`{"Open": "Mon-Fri 08:00-16:00", "Holidays": ["2026-12-25"]}`), &cfg))
	assert.Equal(t, "Mon-Fri 08:00-16:00", cfg.Open.String())
	assert.Equal(t, []hours.Date{{Year: 2026, Month: time.December, Day: 25}}, cfg.Holidays)
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.JSONEq(t, `{"Open": "Mon-Fri 08:00-16:00", "Holidays": ["2026-12-25"]}`, string(out))

	err = json.Unmarshal([]byte(`{"Open": "Mon"}`), &cfg)
	assert.ErrorContains(t, err, `hours: parse week "Mon"`)
	err = json.Unmarshal([]byte(`{"Holidays": ["25.12.2026"]}`), &cfg)
	assert.ErrorContains(t, err, `hours: bad date "25.12.2026": want YYYY-MM-DD`)
}

func TestWeek_Contains(t *testing.T) {
	w := hours.MustParseWeek("Mon-Fri 09:00-17:00; Fri 22:00-02:00")
	at := func(s string) time.Time { // in UTC, 2026-03-02 is a Monday
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-03-02 08:59", false},
		{"2026-03-02 09:00", true},
		{"2026-03-02 16:59", true},
		{"2026-03-02 17:00", false},
		{"2026-03-06 21:59", false},
		{"2026-03-06 22:00", true},
		{"2026-03-07 01:59", true}, // Saturday, in Friday's overnight span
		{"2026-03-07 02:00", false},
		{"2026-03-07 12:00", false},
		{"2026-03-08 23:00", false}, // Sunday
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, w.Contains(at(tt.at)))
		})
	}
}

func TestDate(t *testing.T) {
	d, err := hours.ParseDate("2026-02-28")
	require.NoError(t, err)
	assert.Equal(t, hours.Date{Year: 2026, Month: time.February, Day: 28}, d)
	assert.Equal(t, "2026-02-28", d.String())
	_, err = hours.ParseDate("2026-02-30")
	assert.EqualError(t, err, `hours: bad date "2026-02-30": want YYYY-MM-DD`)
	assert.Panics(t, func() { hours.MustParseDates("2026-12-25", "tomorrow") })
	plusOne := time.FixedZone("UTC+1", 3600)
	assert.Equal(t, hours.Date{Year: 2027, Month: time.January, Day: 1},
		hours.DateOf(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC).In(plusOne)))
}
