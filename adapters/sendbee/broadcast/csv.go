package broadcast

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxPhones is the most phone numbers [ReadPhones] reads.
const MaxPhones = 1_000_000

// ReadPhones reads a CSV of phone numbers, one a line in the first column
// (other columns are ignored), for [Segment.Phones]. A first line whose
// first cell has no digit is a header and is skipped; blank lines are
// skipped; numbers may be written with spaces, dashes, dots and
// parentheses, which are removed. Every number must be in international
// format, "+" and 7 to 15 digits: the first that is not is a [*PhoneError]
// with its line number. A number given twice is kept once.
func ReadPhones(r io.Reader) ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var out []string
	seen := map[string]bool{}
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("broadcast: read phone numbers: %w", err)
		}
		line, _ := cr.FieldPos(0)
		cell := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
		if first {
			first = false
			if cell != "" && !strings.ContainsAny(cell, "0123456789") {
				continue // a header
			}
		}
		if cell == "" && len(rec) == 1 {
			continue
		}
		p, ok := normalizePhone(cell)
		if !ok {
			return nil, &PhoneError{Line: line, Phone: cell}
		}
		if seen[p] {
			continue
		}
		if len(out) == MaxPhones {
			return nil, fmt.Errorf("broadcast: read phone numbers: more than %d numbers", MaxPhones)
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}
