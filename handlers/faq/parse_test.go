package faq_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/handlers/faq"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []faq.Entry
	}{
		{name: "empty input", in: "", want: nil},
		{name: "only a comment", in: "# nothing yet\n", want: nil},
		{name: "null document", in: "~\n", want: nil},
		{name: "empty list", in: "[]\n", want: []faq.Entry{}},
		{
			name: "all fields",
			in: "- question: What are your opening hours?\n" +
				"  keywords: [hours, opening times]\n" +
				"  answer: Nine to five.\n",
			want: []faq.Entry{{Question: "What are your opening hours?", Keywords: []string{"hours", "opening times"}, Answer: "Nine to five."}},
		},
		{
			name: "a single keyword, a block answer",
			in:   "- keywords: refund\n  answer: |\n    Line one.\n    Line two.\n",
			want: []faq.Entry{{Keywords: []string{"refund"}, Answer: "Line one.\nLine two.\n"}},
		},
		{
			name: "question only",
			in:   "- question: Do you ship abroad?\n  answer: Yes.\n",
			want: []faq.Entry{{Question: "Do you ship abroad?", Answer: "Yes."}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := faq.Parse(strings.NewReader(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParse_errors(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		line, col  int
		msg        string
		wantString string
	}{
		{name: "not a list", in: "question: hi\nanswer: ho\n", line: 1, col: 1, msg: "want a list of entries"},
		{name: "entry is not a mapping", in: "- just text\n", line: 1, col: 3, msg: "entry 1: want a mapping with question, keywords and answer"},
		{name: "unknown key", in: "- question: a b\n  answer: c\n- question: d e\n  anwser: f\n", line: 4, col: 3,
			msg: `entry 2: unknown key "anwser" (want question, keywords or answer)`},
		{name: "no answer", in: "- question: a b\n", line: 1, col: 3, msg: "entry 1: no answer"},
		{name: "empty answer", in: "- question: a b\n  answer: \"  \"\n", line: 2, col: 11, msg: "entry 1: empty answer"},
		{name: "null answer", in: "- question: a b\n  answer:\n", line: 2, col: 10, msg: "entry 1: answer must be text"},
		{name: "neither question nor keywords", in: "- answer: c\n", line: 1, col: 3, msg: "entry 1: needs a question or keywords"},
		{name: "keyword without words", in: "- keywords: [ok, \"?!\"]\n  answer: c\n", line: 1, col: 18, msg: `entry 1: keyword "?!" has no words`},
		{name: "keywords of mappings", in: "- keywords: [{a: b}]\n  answer: c\n", line: 1, col: 14, msg: "entry 1: keywords must be text"},
		{name: "answer is a list", in: "- question: q r\n  answer: [a]\n", line: 2, col: 11, msg: "entry 1: answer must be text"},
		{name: "key given twice", in: "- question: q r\n  answer: a\n  answer: b\n", line: 3, col: 3, msg: "entry 1: answer given twice"},
		{name: "two documents", in: "- {question: q r, answer: a}\n---\n- {question: s t, answer: b}\n", line: 2, col: 1, msg: "more than one YAML document"},
		{name: "YAML syntax error", in: "- question: q r\n  answer: a: b\n", line: 2, msg: "mapping values are not allowed in this context",
			wantString: "faq: 2: mapping values are not allowed in this context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := faq.Parse(strings.NewReader(tt.in))
			assert.Nil(t, got)
			pe, ok := errors.AsType[*faq.ParseError](err)
			require.True(t, ok, "want a *faq.ParseError, got %v", err)
			assert.Equal(t, tt.line, pe.Line, "line")
			assert.Equal(t, tt.col, pe.Column, "column")
			assert.Equal(t, tt.msg, pe.Msg)
			if tt.wantString != "" {
				assert.EqualError(t, err, tt.wantString)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	entries, err := faq.Load("testdata/faq.yaml")
	require.NoError(t, err)
	require.Len(t, entries, 4)
	assert.Equal(t, faq.Entry{
		Question: "How do I reset my password?",
		Keywords: []string{"password", "can't log in"},
		Answer:   "Open Settings › Account and choose \"Reset password\".\nYou will get an e-mail with a link.\n",
	}, entries[1])
	assert.Equal(t, faq.Entry{Keywords: []string{"refund"}, Answer: "Refunds reach your account within 5 working days."}, entries[3])
}

func TestLoad_errors(t *testing.T) {
	_, err := faq.Load("testdata/bad.yaml")
	assert.EqualError(t, err, `faq: testdata/bad.yaml:4:3: entry 2: unknown key "anwser" (want question, keywords or answer)`)

	_, err = faq.Load("testdata/missing.yaml")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "faq: open testdata/missing.yaml")
}
