package faq

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A ParseError reports a problem in an FAQ file, with its position.
type ParseError struct {
	// File is the file's name as given to Load; empty for Parse.
	File string
	// Line and Column are the 1-based position of the problem; zero when
	// unknown.
	Line, Column int
	// Msg says what is wrong.
	Msg string
	// Err is the underlying YAML or I/O error, if any.
	Err error
}

// Error returns "faq: file:line:column: msg", leaving out the parts that are
// unknown.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("faq: ")
	pos := e.File
	if e.Line > 0 {
		if pos != "" {
			pos += ":"
		}
		pos += fmt.Sprintf("%d", e.Line)
		if e.Column > 0 {
			pos += fmt.Sprintf(":%d", e.Column)
		}
	}
	if pos != "" {
		b.WriteString(pos)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Load reads the FAQ file at path; see [Parse]. Errors in the file are
// *ParseError values naming path.
func Load(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("faq: %w", err)
	}
	defer f.Close()
	entries, err := Parse(f)
	if pe, ok := errors.AsType[*ParseError](err); ok {
		pe.File = path
	}
	return entries, err
}

// Parse reads FAQ entries in the YAML format described in the package
// documentation. An empty input has no entries. Errors in the input are
// returned as a *ParseError with the line and column of the problem;
// nothing is returned with an error.
func Parse(r io.Reader) ([]Entry, error) {
	dec := yaml.NewDecoder(r)
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nodeError(&extra, "more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.SequenceNode {
		return nil, nodeError(root, "want a list of entries")
	}
	entries := make([]Entry, 0, len(root.Content))
	for i, n := range root.Content {
		e, err := parseEntry(i+1, n)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func parseEntry(num int, n *yaml.Node) (Entry, error) {
	var e Entry
	if n.Kind != yaml.MappingNode {
		return e, nodeError(n, fmt.Sprintf("entry %d: want a mapping with question, keywords and answer", num))
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return e, nodeError(k, fmt.Sprintf("entry %d: %s given twice", num, k.Value))
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "question":
			e.Question, err = scalar(num, k.Value, v)
		case "answer":
			e.Answer, err = scalar(num, k.Value, v)
			if err == nil && strings.TrimSpace(e.Answer) == "" {
				err = nodeError(v, fmt.Sprintf("entry %d: empty answer", num))
			}
		case "keywords":
			e.Keywords, err = keywords(num, v)
		default:
			err = nodeError(k, fmt.Sprintf("entry %d: unknown key %q (want question, keywords or answer)", num, k.Value))
		}
		if err != nil {
			return Entry{}, err
		}
	}
	switch {
	case !seen["answer"]:
		return Entry{}, nodeError(n, fmt.Sprintf("entry %d: no answer", num))
	case strings.TrimSpace(e.Question) == "" && len(e.Keywords) == 0:
		return Entry{}, nodeError(n, fmt.Sprintf("entry %d: needs a question or keywords", num))
	}
	return e, nil
}

func scalar(num int, key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		return "", nodeError(v, fmt.Sprintf("entry %d: %s must be text", num, key))
	}
	return v.Value, nil
}

// keywords reads a list of keywords, or a single one.
func keywords(num int, v *yaml.Node) ([]string, error) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, err := scalar(num, "keywords", it)
		if err != nil {
			return nil, err
		}
		if len(tokens(s)) == 0 {
			return nil, nodeError(it, fmt.Sprintf("entry %d: keyword %q has no words", num, s))
		}
		out = append(out, s)
	}
	return out, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func nodeError(n *yaml.Node, msg string) *ParseError {
	return &ParseError{Line: n.Line, Column: n.Column, Msg: msg}
}

// yamlError turns an error of the YAML decoder ("yaml: line 3: …") into a
// *ParseError with that line.
func yamlError(err error) *ParseError {
	pe := &ParseError{Msg: err.Error(), Err: err}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 && line > 0 {
		pe.Line = line
		_, msg, _ = strings.Cut(msg, ":")
	}
	pe.Msg = strings.TrimSpace(msg)
	return pe
}
