// Package errtext builds the text of wrapped errors so that an error chain
// names each layer once.
//
// The rule, applied across Parley: the package that makes an error starts
// its text with its prefix ("flowdock: GET /user: 401 Unauthorized"). A
// layer that wraps an error adds what the error does not say yet, once:
// within the same package its context goes after the prefix
// ("flowdock: who am I: GET /user: 401 Unauthorized", never
// "flowdock: who am I: flowdock: GET …"), and an outer layer that names the
// inner one leaves out the inner prefix that would name it again
// ("bot: adapter flowdock: who am I: GET …").
package errtext

import "strings"

// Wrap returns an error that wraps err, for errors.Is and errors.As, and
// reads head + ": " + err's text, less a leading said: what head already
// says (a package prefix such as "flowdock: "). When err's text does not
// start with said it is kept whole. Wrap returns nil for a nil err.
func Wrap(head string, err error, said ...string) error {
	if err == nil {
		return nil
	}
	return &wrapped{head: head, said: said, err: err}
}

type wrapped struct {
	head string
	said []string
	err  error
}

func (w *wrapped) Error() string { return w.head + ": " + Trim(w.err.Error(), w.said...) }

func (w *wrapped) Unwrap() error { return w.err }

// Trim returns text without the first of prefixes it starts with.
func Trim(text string, prefixes ...string) string {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(text, p) {
			return text[len(p):]
		}
	}
	return text
}
