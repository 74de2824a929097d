package hours

import (
	"fmt"
	"time"
)

// A Date is a day of the calendar, such as a holiday, independent of any
// time zone. The zero Date is not a valid day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the day t falls on in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a date written "YYYY-MM-DD", such as "2026-12-25".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("hours: bad date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// MustParseDates parses each of ss with [ParseDate] and panics on an error.
// It is meant for holiday lists written in the program.
func MustParseDates(ss ...string) []Date {
	out := make([]Date, len(ss))
	for i, s := range ss {
		d, err := ParseDate(s)
		if err != nil {
			panic(err)
		}
		out[i] = d
	}
	return out
}

// String returns the date as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// MarshalText implements encoding.TextMarshaler with [Date.String].
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with [ParseDate], so
// that holidays can be read from configuration.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
