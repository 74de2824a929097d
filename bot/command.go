package bot

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley/bot/internal/prefilter"
)

// defaultPrefixes are the command prefixes of the zero CommandSyntax.
var defaultPrefixes = []string{"/", "!"}

// CommandSyntax says how users type commands: which prefixes introduce a
// command word and by which names the bot can be addressed. It is a plain
// value, safe for concurrent use once it is no longer being modified.
//
// A text is a command when, after trimming white space,
//   - it optionally starts with one of Names (case-insensitive, with or
//     without a leading "@"), followed by white space, "," or ":" and then
//     the rest; being addressed by name makes the prefix optional;
//   - it then starts with one of Prefixes, which is required unless the bot
//     was addressed by name or the message is Direct;
//   - then comes the command word, ended by white space or the end of the
//     text; the rest, trimmed, are the arguments.
//
// So with the zero CommandSyntax "/echo hi" and "!echo hi" are the command
// "echo" with arguments "hi" anywhere, and "echo hi" is too in a direct
// conversation. With Names: []string{"parley"}, "parley, echo hi" and
// "@Parley: /echo hi" are also that command in a group conversation.
type CommandSyntax struct {
	// Prefixes introduce a command word, e.g. "/". The longest one that
	// matches is used. Nil means "/" and "!"; an empty, non-nil slice means
	// no prefix at all, so that commands are recognized only in direct
	// conversations or when the bot is addressed by name.
	Prefixes []string
	// Names address the bot, e.g. "parley". A name also matches with a
	// leading "@". Nil means the bot cannot be addressed by name.
	Names []string
}

func (cs CommandSyntax) prefixes() []string {
	if cs.Prefixes == nil {
		return defaultPrefixes
	}
	return cs.Prefixes
}

// Parse reports whether text, from a direct conversation if direct is true,
// is a command in this syntax, and returns its name in lower case and its
// arguments. Parse is a pure function.
func (cs CommandSyntax) Parse(text string, direct bool) (name, args string, ok bool) {
	word, args, ok := cs.parse(text, direct)
	if !ok {
		return "", "", false
	}
	return strings.ToLower(word), args, true
}

// parse is Parse without lower-casing the name, which does not allocate.
func (cs CommandSyntax) parse(text string, direct bool) (word, args string, ok bool) {
	t := strings.TrimSpace(text)
	addressed := false
	for _, n := range cs.Names {
		if rest, ok := cutName(t, n); ok {
			t, addressed = rest, true
			break
		}
	}
	prefixed := false
	best := ""
	for _, p := range cs.prefixes() {
		if len(p) > len(best) && strings.HasPrefix(t, p) {
			best = p
		}
	}
	if best != "" {
		t, prefixed = t[len(best):], true
	}
	if !prefixed && !addressed && !direct {
		return "", "", false
	}
	end := strings.IndexFunc(t, unicode.IsSpace)
	if end < 0 {
		end = len(t)
	}
	if end == 0 {
		return "", "", false
	}
	return t[:end], strings.TrimSpace(t[end:]), true
}

// cutName strips name (case-insensitive, optionally with a leading "@") and
// the separator after it from the start of t.
func cutName(t, name string) (string, bool) {
	if name == "" {
		return t, false
	}
	if !strings.HasPrefix(name, "@") && strings.HasPrefix(t, "@") {
		t = t[1:]
	}
	rest, ok := cutPrefixFold(t, name)
	if !ok {
		return "", false
	}
	if rest == "" {
		return "", true
	}
	r, size := utf8.DecodeRuneInString(rest)
	switch {
	case r == ',' || r == ':':
		rest = rest[size:]
	case unicode.IsSpace(r):
	default:
		return "", false // "parleybot" is not "parley"
	}
	return strings.TrimLeftFunc(rest, unicode.IsSpace), true
}

// Command returns a Rule that matches the command name in this syntax: the
// command word equals name, ignoring case. Its captures are the command's
// name in lower case and its arguments. Command panics if name is empty,
// contains white space or starts with one of the syntax's prefixes, or if a
// prefix or name of the syntax is empty. The Rule keeps a copy of cs and is
// safe for concurrent use.
func (cs CommandSyntax) Command(name string) Rule {
	if name == "" {
		panic("bot: empty command name")
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		panic("bot: command name " + strconv.Quote(name) + " contains white space")
	}
	for _, p := range cs.prefixes() {
		if p == "" {
			panic("bot: empty command prefix")
		}
		if strings.HasPrefix(name, p) {
			panic("bot: command name " + strconv.Quote(name) + " starts with the prefix " + strconv.Quote(p))
		}
	}
	for _, n := range cs.Names {
		if n == "" {
			panic("bot: empty bot name in CommandSyntax")
		}
	}
	c := &commandRule{name: strings.ToLower(name)}
	if cs.Prefixes != nil {
		c.syn.Prefixes = append([]string{}, cs.Prefixes...)
	}
	if cs.Names != nil {
		c.syn.Names = append([]string{}, cs.Names...)
	}
	return c
}

// Command returns a Rule that matches the command name in the zero
// [CommandSyntax]: "/name" or "!name" anywhere, and a bare "name" in a
// direct conversation. See [CommandSyntax.Command].
func Command(name string) Rule { return CommandSyntax{}.Command(name) }

// CommandArgs returns the arguments of the command in m's Text in the zero
// [CommandSyntax] (the text after the command word, trimmed), or "" when the
// text is not a command. It is a pure function.
func CommandArgs(m *Message) string {
	_, args, _ := CommandSyntax{}.parse(m.Text, m.Direct)
	return args
}

type commandRule struct {
	syn  CommandSyntax
	name string // lower case
}

func (c *commandRule) Match(_ context.Context, m *Message) (bool, error) {
	word, _, ok := c.syn.parse(m.Text, m.Direct)
	return ok && strings.EqualFold(word, c.name), nil
}

func (c *commandRule) captures(m *Message) Captures {
	word, args, ok := c.syn.parse(m.Text, m.Direct)
	if !ok || !strings.EqualFold(word, c.name) {
		return Captures{}
	}
	return Captures{Command: c.name, Args: args}
}

// usage is the command as a user types it, e.g. "/echo".
func (c *commandRule) usage() string {
	if p := c.syn.prefixes(); len(p) > 0 {
		return p[0] + c.name
	}
	return c.name
}

func (c *commandRule) String() string { return quoteAll("Command", []string{c.name}) }
func (c *commandRule) prefilter() prefilter.Filter {
	return prefilter.Filter{Lits: prefilter.Lits(c.name)}
}

// cutPrefixFold is strings.CutPrefix under Unicode simple case folding.
func cutPrefixFold(s, prefix string) (string, bool) {
	for _, pr := range prefix {
		if s == "" {
			return "", false
		}
		sr, size := utf8.DecodeRuneInString(s)
		if !equalFoldRune(sr, pr) {
			return "", false
		}
		s = s[size:]
	}
	return s, true
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
