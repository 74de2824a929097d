package rulefile

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file maps a position inside the value of a YAML scalar (an
// expression or a template) onto the file, whatever the scalar's style:
// plain, quoted (with escapes and line folding) or block (literal and
// folded). yaml.v3 gives the position where a scalar starts; the value's
// characters are then matched, in order, against the file's characters
// from there. Folding only turns line breaks and indentation into spaces
// (or drops them), and quoting only adds escapes, so the value is a
// subsequence of the source up to those differences, and the match is
// exact for every style yaml.v3 produces.

// fileLines returns the file's lines as runes, computed once.
func (l *loader) fileLines() [][]rune {
	if l.lines == nil {
		text := strings.ReplaceAll(string(l.src), "\r\n", "\n")
		for _, s := range strings.Split(text, "\n") {
			l.lines = append(l.lines, []rune(s))
		}
	}
	return l.lines
}

// A segment is a run of source characters of a scalar on one line; a line
// break separates consecutive segments.
type segment struct {
	line, col int // file position of text[0], 1-based
	text      []rune
}

// runeOffset returns the rune offset in s of 1-based line and column.
func runeOffset(s string, line, col int) int {
	ln, off := 1, 0
	for _, r := range s {
		if ln == line {
			break
		}
		off++
		if r == '\n' {
			ln++
		}
	}
	return off + max(col, 1) - 1
}

// lineCol converts a byte offset in s into a 1-based line and rune column.
func lineCol(s string, byteOff int) (line, col int) {
	line, col = 1, 1
	for i, r := range s {
		if i >= byteOff {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// scalarPos maps the 1-based line and column (in characters) of a position
// in scalar n's value to a position in the file. A position past the end of
// the value maps just past its last character. When the source cannot be
// matched (which should not happen) it returns the scalar's own position.
func (l *loader) scalarPos(n *yaml.Node, line, col int) (int, int) {
	val := []rune(n.Value)
	k := runeOffset(n.Value, line, col)
	past := 0
	if k >= len(val) {
		if len(val) == 0 {
			return n.Line, n.Column
		}
		past = k - len(val) + 1
		k = len(val) - 1
	}
	segs := l.segments(n)
	double := n.Style&yaml.DoubleQuotedStyle != 0
	single := n.Style&yaml.SingleQuotedStyle != 0

	si, ti := 0, 0 // the cursor: segment, index in its text (len = the line break)
	at := func(si, ti int) (rune, bool) {
		if si >= len(segs) {
			return 0, false
		}
		if ti < len(segs[si].text) {
			return segs[si].text[ti], true
		}
		return '\n', true
	}
	advance := func(n int) {
		for range n {
			ti++
			if ti > len(segs[si].text) {
				si, ti = si+1, 0
			}
			if si >= len(segs) {
				return
			}
		}
	}
	budget := 1 << 20
	for i := 0; i <= k; i++ {
		r := val[i]
		for {
			budget--
			fr, ok := at(si, ti)
			if !ok || budget < 0 {
				return n.Line, n.Column
			}
			matched, width := false, 1
			switch {
			case double && fr == '\\':
				next, _ := at(si, ti+1)
				if next == '\n' { // an escaped line break: no character
					advance(2)
					continue
				}
				matched, width = true, escapeWidth(next)
			case single && fr == '\'' && r == '\'':
				matched, width = true, 2
			case fr == r, isBlank(r) && isBlank(fr):
				matched = true
			}
			if !matched {
				advance(1)
				continue
			}
			if i == k {
				s := segs[si]
				return s.line, s.col + ti + past
			}
			advance(width)
			break
		}
	}
	return n.Line, n.Column
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }

// escapeWidth returns the length of a double-quoted escape sequence whose
// letter is c.
func escapeWidth(c rune) int {
	switch c {
	case 'x':
		return 4
	case 'u':
		return 6
	case 'U':
		return 10
	}
	return 2
}

// segments returns the source of scalar n from its first character on, as
// segments.
func (l *loader) segments(n *yaml.Node) []segment {
	lines := l.fileLines()
	if n.Line < 1 || n.Line > len(lines) {
		return nil
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return blockSegments(lines, n)
	}
	first := lines[n.Line-1]
	c := max(n.Column-1, 0)
	if q := n.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle); q != 0 {
		quote := '"'
		if q == yaml.SingleQuotedStyle {
			quote = '\''
		}
		for c < len(first) && first[c] != quote { // skip a tag before the quote
			c++
		}
		c++
	}
	c = min(c, len(first))
	segs := []segment{{line: n.Line, col: c + 1, text: first[c:]}}
	for i := n.Line; i < len(lines); i++ {
		segs = append(segs, segment{line: i + 1, col: 1, text: lines[i]})
	}
	return segs
}

// blockSegments returns the content lines of a literal or folded block
// scalar with the block's indentation removed. The indentation is that of
// the first non-blank content line, less the spaces the value itself keeps
// at the start of its first non-blank line (an explicit indentation
// indicator can make them part of the value).
func blockSegments(lines [][]rune, n *yaml.Node) []segment {
	indent := -1
	for i := n.Line; i < len(lines); i++ {
		if s := leadingSpaces(lines[i]); s < len(lines[i]) {
			indent = s
			break
		}
	}
	if indent < 0 {
		return nil
	}
	for _, vl := range strings.Split(n.Value, "\n") {
		if strings.TrimLeft(vl, " ") != "" {
			indent -= len(vl) - len(strings.TrimLeft(vl, " "))
			break
		}
	}
	indent = max(indent, 0)
	var segs []segment
	for i := n.Line; i < len(lines); i++ {
		ln := lines[i]
		if len(ln) < indent {
			segs = append(segs, segment{line: i + 1, col: len(ln) + 1})
			continue
		}
		segs = append(segs, segment{line: i + 1, col: indent + 1, text: ln[indent:]})
	}
	return segs
}

func leadingSpaces(rs []rune) int {
	n := 0
	for n < len(rs) && rs[n] == ' ' {
		n++
	}
	return n
}
