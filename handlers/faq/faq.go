package faq

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley/bot"
)

// DefaultThreshold is the question overlap an entry needs to match when
// Handler.Threshold is zero: half of the question's content words.
const DefaultThreshold = 0.5

// An Entry is one frequently asked question and its answer. See the package
// documentation for how entries are matched.
type Entry struct {
	// Question is the question in a customer's words. Optional when
	// Keywords are given.
	Question string
	// Keywords are words or phrases that identify the question. Optional
	// when Question is given.
	Keywords []string
	// Answer is the reply, sent as is.
	Answer string
}

// Handler answers a message with the Answer of the entry of Entries that
// matches it best, as one reply through w. When no entry matches, when the
// message has no text, and for events and messages from bots or agents, it
// sends nothing and returns [bot.ErrContinue], so that routing goes on.
//
// When the route's rule is a [bot.Command], only the command's arguments
// are matched ("/faq opening hours"); otherwise the whole text is.
//
// The zero Handler has no entries and never answers. A Handler holds no
// state and is safe for concurrent use as long as its fields (and the
// entries' slices) are not modified.
type Handler struct {
	// Entries are the questions and answers, usually from [Load].
	Entries []Entry
	// Threshold is the fraction of a question's content words that must
	// occur in a message for the entry to match without a keyword. Zero
	// means DefaultThreshold (0.5); a value above 1 disables matching by
	// question, so that only keywords match.
	Threshold float64
}

// Interface guard.
var _ bot.Handler = Handler{}

// DefaultRule returns the rule the handler is usually registered on:
// [bot.Always], since the handler itself decides whether a message is a
// question it knows and lets routing continue otherwise.
func DefaultRule() bot.Rule { return bot.Always() }

// HandleMessage implements [bot.Handler]: it sends m.Reply(answer) for the
// best entry, and returns the error of w.Send; see [Handler].
func (h Handler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Author.Bot || m.Author.Agent || m.Kind.Or() != bot.KindMessage {
		return bot.ErrContinue
	}
	text := m.Text
	if c := bot.CapturesOf(ctx); c.Command != "" {
		text = c.Args
	}
	e, ok := h.Find(text)
	if !ok {
		return bot.ErrContinue
	}
	return w.Send(ctx, m.Reply(e.Answer))
}

// Find returns the entry that matches text best and true, or the zero
// Entry and false when none matches. It is a pure function.
func (h Handler) Find(text string) (Entry, bool) {
	msg := make(map[string]bool)
	for _, w := range tokens(text) {
		msg[w] = true
	}
	if len(msg) == 0 {
		return Entry{}, false
	}
	threshold := h.Threshold
	if threshold == 0 {
		threshold = DefaultThreshold
	}
	best, bestKeys, bestOverlap := -1, 0, 0.0
	for i, e := range h.Entries {
		keys := 0
		for _, k := range e.Keywords {
			if containsAll(msg, tokens(k)) {
				keys++
			}
		}
		overlap := 0.0
		if q := contentWords(e.Question); len(q) > 0 {
			hits := 0
			for _, w := range q {
				if msg[w] {
					hits++
				}
			}
			overlap = float64(hits) / float64(len(q))
		}
		if keys == 0 && (overlap == 0 || overlap < threshold) {
			continue
		}
		if best < 0 || keys > bestKeys || keys == bestKeys && overlap > bestOverlap {
			best, bestKeys, bestOverlap = i, keys, overlap
		}
	}
	if best < 0 {
		return Entry{}, false
	}
	return h.Entries[best], true
}

// containsAll reports whether every word is in set; no words is false.
func containsAll(set map[string]bool, words []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !set[w] {
			return false
		}
	}
	return true
}

// tokens splits s into normalized words: lower case, split at anything but
// letters and digits, a plural "s" dropped, single letters left out.
func tokens(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := fields[:0]
	for _, f := range fields {
		if n := utf8.RuneCountInString(f); n == 1 {
			if r, _ := utf8.DecodeRuneInString(f); unicode.IsLetter(r) {
				continue
			}
		} else if n > 3 && strings.HasSuffix(f, "s") && !strings.HasSuffix(f, "ss") {
			f = f[:len(f)-1]
		}
		out = append(out, f)
	}
	return out
}

// contentWords returns the distinct tokens of s that are not stop words.
func contentWords(s string) []string {
	var out []string
	for _, w := range tokens(s) {
		if !stopWord(w) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// stopWord reports whether w is a common English function word, which says
// little about what a question is about. w is a token (see tokens), so
// plural forms are already folded ("thi" is "this").
func stopWord(w string) bool {
	switch w {
	case "am", "an", "and", "are", "as", "at", "be", "been", "but", "by",
		"can", "could", "did", "do", "doe", "doesn", "don", "for", "from",
		"had", "has", "have", "he", "hello", "her", "his", "how", "if", "in",
		"into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or",
		"our", "please", "she", "so", "than", "thank", "that", "the", "their",
		"them", "then", "there", "thi", "they", "to", "too", "up", "was", "we",
		"were", "what", "when", "where", "which", "who", "whom", "why", "will",
		"with", "would", "yes", "you", "your":
		return true
	}
	return false
}
