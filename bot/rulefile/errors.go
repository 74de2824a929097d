package rulefile

import (
	"strconv"
	"strings"
)

// A Problem is one thing wrong with a rules file, at a position in it.
type Problem struct {
	File   string // the file name given to Parse or Load
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based, in characters; 0 when unknown
	Msg    string // what is wrong, naming the rule or schedule
	// Err is the underlying error, if any: a *bot.ExprError for a bad
	// expression, a template or cron parser's error.
	Err error
}

// String returns "file:line:column: msg", leaving out an unknown line or
// column.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Column))
		}
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// A LoadError reports every problem found in a rules file, in file order.
// When Parse, Load or a reload returns one, nothing of the file was applied.
type LoadError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *LoadError) Error() string {
	if len(e.Problems) == 1 {
		return "rulefile: " + e.Problems[0].String()
	}
	var b strings.Builder
	b.WriteString("rulefile: ")
	b.WriteString(strconv.Itoa(len(e.Problems)))
	b.WriteString(" problems:")
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the underlying errors of the problems that have one, so
// that errors.As finds, for example, a *bot.ExprError.
func (e *LoadError) Unwrap() []error {
	var errs []error
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}
