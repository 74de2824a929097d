package hours

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Span is a daily opening interval: open from From (inclusive) to To
// (exclusive), both measured as wall-clock time since midnight, at whole
// minutes. To may be 24h, the end of the day. A Span whose To is before its
// From runs past midnight into the next day (22:00–02:00), and belongs to
// the day it starts on.
type Span struct {
	From, To time.Duration
}

// String returns the span as "09:00-17:00".
func (s Span) String() string { return clock(s.From) + "-" + clock(s.To) }

func clock(d time.Duration) string {
	m := int(d / time.Minute)
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// A Week is a weekly opening schedule: the spans during which each weekday
// is open. A weekday without spans is closed all day. A nil Week in a
// [Handler] means [DefaultWeek]; an empty, non-nil Week is never open.
//
// A Week is a plain value, safe for concurrent use once it is no longer
// being modified.
type Week map[time.Weekday][]Span

// DefaultWeek returns the schedule of a Handler whose Open is nil: Monday to
// Friday, 09:00 to 17:00.
func DefaultWeek() Week {
	w := make(Week, 5)
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []Span{{From: 9 * time.Hour, To: 17 * time.Hour}}
	}
	return w
}

// weekday returns the i-th day of a week as it is written, Monday first.
func weekday(i int) time.Weekday { return time.Weekday((i + 1) % 7) }

// ParseWeek parses a schedule such as
//
//	Mon-Fri 09:00-17:00; Sat 10:00-14:00
//	Mon,Wed,Fri 08:00-12:00,13:00-16:30; Sat-Sun 22:00-02:00
//
// Clauses are separated by ";". Each has days, then white space, then one or
// more spans separated by ",". Days are weekday names ("Mon" or "Monday",
// any case), ranges of them ("Mon-Fri", which may wrap: "Fri-Mon"), or
// lists of both separated by ",". A span is "HH:MM-HH:MM"; "24:00" is the
// end of the day, and a span that ends before it starts runs past midnight.
// Spans of a day are kept in order of From. The errors are config errors,
// prefixed "hours: ".
func ParseWeek(s string) (Week, error) {
	w := Week{}
	n := 0
	for i, clause := range strings.Split(s, ";") {
		clause = strings.TrimSpace(clause)
		if clause == "" {
			continue
		}
		n++
		if err := w.parseClause(clause); err != nil {
			return nil, fmt.Errorf("hours: parse week %q: clause %d: %w", s, i+1, err)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("hours: parse week %q: empty schedule", s)
	}
	for d, spans := range w {
		slices.SortFunc(spans, func(a, b Span) int { return int(a.From - b.From) })
		w[d] = spans
	}
	return w, nil
}

// MustParseWeek is like [ParseWeek] but panics on an error. It is meant for
// schedules written in the program.
func MustParseWeek(s string) Week {
	w, err := ParseWeek(s)
	if err != nil {
		panic(err)
	}
	return w
}

func (w Week) parseClause(clause string) error {
	dayPart, spanPart, ok := strings.Cut(clause, " ")
	spanPart = strings.TrimSpace(spanPart)
	if !ok || spanPart == "" {
		return fmt.Errorf("want days and times, as in \"Mon-Fri 09:00-17:00\", got %q", clause)
	}
	ds, err := parseDays(dayPart)
	if err != nil {
		return err
	}
	var spans []Span
	for _, sp := range strings.Split(spanPart, ",") {
		s, err := parseSpan(strings.TrimSpace(sp))
		if err != nil {
			return err
		}
		spans = append(spans, s)
	}
	for _, d := range ds {
		w[d] = append(w[d], spans...)
	}
	return nil
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for item := range strings.SplitSeq(s, ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, err := parseDay(from)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, err := parseDay(to)
		if err != nil {
			return nil, err
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	return out, nil
}

func parseDay(s string) (time.Weekday, error) {
	for i := range 7 {
		d := weekday(i)
		name := d.String()
		if strings.EqualFold(s, name) || strings.EqualFold(s, name[:3]) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown day %q", s)
}

func parseSpan(s string) (Span, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, fmt.Errorf("want a span such as 09:00-17:00, got %q", s)
	}
	f, err := parseClock(from)
	if err != nil {
		return Span{}, err
	}
	t, err := parseClock(to)
	if err != nil {
		return Span{}, err
	}
	switch {
	case f == 24*time.Hour:
		return Span{}, fmt.Errorf("span %q starts at the end of the day", s)
	case f == t:
		return Span{}, fmt.Errorf("span %q is empty", s)
	}
	return Span{From: f, To: t}, nil
}

// parseClock parses "HH:MM", 00:00 to 24:00.
func parseClock(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || len(hh) != 2 || len(mm) != 2 || err1 != nil || err2 != nil ||
		h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("bad time %q: want HH:MM from 00:00 to 24:00", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// String returns the schedule in the syntax of [ParseWeek], Monday first,
// with consecutive days of equal spans written as a range, e.g.
// "Mon-Fri 09:00-17:00; Sat 10:00-14:00". It returns "" for a Week that is
// never open.
func (w Week) String() string {
	var clauses []string
	for i := 0; i < 7; {
		spans := w.spansText(weekday(i))
		j := i + 1
		for j < 7 && w.spansText(weekday(j)) == spans {
			j++
		}
		if spans != "" {
			ds := weekday(i).String()[:3]
			if j-i > 1 {
				ds += "-" + weekday(j - 1).String()[:3]
			}
			clauses = append(clauses, ds+" "+spans)
		}
		i = j
	}
	return strings.Join(clauses, "; ")
}

func (w Week) spansText(d time.Weekday) string {
	ss := make([]string, len(w[d]))
	for i, s := range w[d] {
		ss[i] = s.String()
	}
	return strings.Join(ss, ",")
}

// MarshalText implements encoding.TextMarshaler with [Week.String].
func (w Week) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with [ParseWeek], so
// that a Week can be read from configuration.
func (w *Week) UnmarshalText(b []byte) error {
	if w == nil {
		return errors.New("hours: UnmarshalText on a nil *Week")
	}
	v, err := ParseWeek(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// Contains reports whether the schedule is open at t, read as wall-clock
// time in t's location. It ignores holidays; see [Handler.Open].
func (w Week) Contains(t time.Time) bool {
	return w.contains(t, func(time.Time) bool { return false })
}

// contains reports whether the schedule is open at t, in t's location, with
// the spans that start on a day for which closed reports true left out.
func (w Week) contains(t time.Time, closed func(day time.Time) bool) bool {
	now := sinceMidnight(t)
	if !closed(t) {
		for _, s := range w[t.Weekday()] {
			if s.From <= s.To && s.From <= now && now < s.To || s.To < s.From && now >= s.From {
				return true
			}
		}
	}
	y, m, d := t.Date()
	prev := time.Date(y, m, d-1, 12, 0, 0, 0, t.Location())
	if !closed(prev) {
		for _, s := range w[prev.Weekday()] {
			if s.To < s.From && now < s.To {
				return true
			}
		}
	}
	return false
}

// next returns the first time after t, in t's location, at which a span
// starts on a day closed does not report true, or the zero Time when there
// is none within a year and a week.
func (w Week) next(t time.Time, closed func(day time.Time) bool) time.Time {
	y, m, d := t.Date()
	for i := range 366 + 7 {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, t.Location())
		if closed(day) {
			continue
		}
		var first time.Time
		dy, dm, dd := day.Date()
		for _, s := range w[day.Weekday()] {
			secs := int(s.From / time.Second)
			start := time.Date(dy, dm, dd, secs/3600, secs/60%60, secs%60, 0, t.Location())
			if start.After(t) && (first.IsZero() || start.Before(first)) {
				first = start
			}
		}
		if !first.IsZero() {
			return first
		}
	}
	return time.Time{}
}

// sinceMidnight returns t's wall-clock time as a duration since midnight.
func sinceMidnight(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}
