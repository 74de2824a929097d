package bot

import (
	"context"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/parleybot/parley/bot/internal/prefilter"
)

// A Rule reports whether a route applies to a message.
//
// Match is called by a [Router] for every message whose route is tried, from
// many goroutines at once, so it must be safe for concurrent use; it must
// not modify m. A non-nil error means the rule could not decide (for
// example an expression failed at run time): the router logs it and treats
// it as no match, except an error wrapping [ErrExprLimit], which fails the
// message (see [Router]). Rules should be fast and should not block; ctx
// carries the handler's deadline.
//
// The built-in rules implement [fmt.Stringer] (used by [RouteInfo]) and
// describe themselves to the router's prefilter, which skips rules that
// cannot match a message without calling them.
type Rule interface {
	Match(ctx context.Context, m *Message) (bool, error)
}

// RuleFunc lets an ordinary function serve as a Rule. Like any Rule, the
// function is called concurrently and must not modify the message.
type RuleFunc func(ctx context.Context, m *Message) (bool, error)

// Match calls f(ctx, m).
func (f RuleFunc) Match(ctx context.Context, m *Message) (bool, error) { return f(ctx, m) }

// Captures are the parts of a message that the winning rule of a route
// picked out, as returned by [CapturesOf].
type Captures struct {
	// Command is the command's name, in lower case, when the rule is (or
	// contains) a Command.
	Command string
	// Args is the text after the command word or the Prefix, trimmed.
	Args string
	// Groups are a Regexp's submatches: Groups[0] is the whole match,
	// Groups[i] the i-th parenthesized group. Nil for other rules.
	Groups []string
	// Named are a Regexp's named groups by name. Nil when it has none.
	Named map[string]string
}

func (c Captures) isZero() bool {
	return c.Command == "" && c.Args == "" && c.Groups == nil && c.Named == nil
}

// A capturer is a Rule that can say what it picked out of a message it
// matches. It is called lazily, only when a handler asks, and returns the
// zero Captures for a message it does not match.
type capturer interface {
	captures(m *Message) Captures
}

type matchKey struct{}

// matchCtx is the context a Router passes to the handler of the winning
// route: ctx plus the rule and message, from which CapturesOf computes the
// captures lazily, and the submatches a Regexp among the rule found while
// it was asked (kept), which the first CapturesOf takes rather than run the
// expression again. One allocation per handled message.
type matchCtx struct {
	context.Context
	rule  Rule
	m     *Message
	kept  keptGroups  // set before the handler runs, then read only
	taken atomic.Bool // kept.groups were handed out
}

// keptGroups are the submatches a Regexp rule with groups found in the
// message's text while a Router asked it. A Bot's routing state holds the
// last found (msgState.kept) until the Router hands them to the winning
// route's matchCtx; they are used only for the same rule. (The text they
// were found in is the message's: neither rules nor handlers modify it.)
type keptGroups struct {
	rule   *regexpRule
	groups []string
}

// take returns the groups r found while it was asked, if mc kept them and
// no call took them yet; nil otherwise.
func (mc *matchCtx) take(r *regexpRule) []string {
	if mc == nil || mc.kept.rule != r || !mc.taken.CompareAndSwap(false, true) {
		return nil
	}
	return mc.kept.groups
}

func (c *matchCtx) Value(key any) any {
	if key == (matchKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// CapturesOf returns what the winning rule of the route being handled with
// ctx picked out of the message: the command and its arguments, or a
// regular expression's groups. All merges the captures of its rules; Any
// uses the first of its rules that captures something. It returns the zero
// Captures outside a route's handler (for example in the NotFound handler)
// and for rules that capture nothing.
//
// The captures are computed from the message; the result belongs to the
// caller. (In a Bot, the groups a Regexp found while its route was tried
// are handed to the first call, which so does not run the expression
// again; later calls compute them anew.) CapturesOf is safe for concurrent
// use.
func CapturesOf(ctx context.Context) Captures {
	mc, _ := ctx.Value(matchKey{}).(*matchCtx)
	if mc == nil {
		return Captures{}
	}
	return capturesIn(mc.rule, mc.m, mc)
}

// capturesIn returns the captures of r, which matched m, using for the
// Regexp rules in r the groups mc kept (mc may be nil).
func capturesIn(r Rule, m *Message, mc *matchCtx) Captures {
	switch r := r.(type) {
	case *regexpRule:
		return r.capturesIn(m, mc)
	case allRule:
		return r.capturesIn(m, mc)
	case anyRule:
		return r.capturesIn(m, mc)
	case capturer:
		return r.captures(m)
	}
	return Captures{}
}

// describe returns the description of r used in RouteInfo and logs.
func describe(r Rule) string {
	if s, ok := r.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", r)
}

func describeAll(name string, rules []Rule) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, r := range rules {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(describe(r))
	}
	b.WriteByte(')')
	return b.String()
}

func quoteAll(name string, ss []string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(s))
	}
	b.WriteByte(')')
	return b.String()
}

// Always returns a Rule that matches every message. It is safe for
// concurrent use.
func Always() Rule { return alwaysRule{} }

type alwaysRule struct{}

func (alwaysRule) Match(context.Context, *Message) (bool, error) { return true, nil }
func (alwaysRule) String() string                                { return "Always()" }
func (alwaysRule) prefilter() prefilter.Filter                   { return prefilter.Filter{} }

// Prefix returns a Rule that matches messages whose Text, after leading
// white space, starts with p (case-sensitive). Its captures' Args is the
// rest of the text, trimmed. Prefix panics if p is empty. The Rule is safe
// for concurrent use.
func Prefix(p string) Rule {
	if p == "" {
		panic("bot: empty Prefix")
	}
	return prefixRule{p: p}
}

type prefixRule struct{ p string }

func (r prefixRule) rest(m *Message) (string, bool) {
	return strings.CutPrefix(strings.TrimLeftFunc(m.Text, unicode.IsSpace), r.p)
}

func (r prefixRule) Match(_ context.Context, m *Message) (bool, error) {
	_, ok := r.rest(m)
	return ok, nil
}

func (r prefixRule) captures(m *Message) Captures {
	rest, ok := r.rest(m)
	if !ok {
		return Captures{}
	}
	return Captures{Args: strings.TrimSpace(rest)}
}

func (r prefixRule) String() string              { return quoteAll("Prefix", []string{r.p}) }
func (r prefixRule) prefilter() prefilter.Filter { return prefilter.Filter{Lits: prefilter.Lits(r.p)} }

// Regexp returns a Rule that matches messages whose Text re matches. Its
// captures are re's submatches, by index and by name. Regexp panics if re is
// nil. The Rule is safe for concurrent use, as re is.
func Regexp(re *regexp.Regexp) Rule {
	if re == nil {
		panic("bot: nil regexp")
	}
	r := &regexpRule{re: re, keep: re.NumSubexp() > 0}
	if parsed, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
		r.lits = prefilter.RegexpLits(parsed)
	}
	return r
}

type regexpRule struct {
	re   *regexp.Regexp
	lits []string
	// keep says the expression has groups, which a handler is about to
	// ask for: asked in a Bot, the rule finds them as it matches and keeps
	// them in the routing state (see keptGroups).
	keep bool
}

func (r *regexpRule) Match(ctx context.Context, m *Message) (bool, error) {
	if r.keep {
		if st := stateFrom(ctx); st != nil {
			return r.matchKeep(m, st), nil
		}
	}
	return r.re.MatchString(m.Text), nil
}

// matchKeep is Match in a Bot: it keeps the groups found in st.
func (r *regexpRule) matchKeep(m *Message, st *msgState) bool {
	groups := r.re.FindStringSubmatch(m.Text)
	if groups == nil {
		return false
	}
	st.kept = keptGroups{rule: r, groups: groups}
	return true
}

func (r *regexpRule) captures(m *Message) Captures { return r.capturesIn(m, nil) }

func (r *regexpRule) capturesIn(m *Message, mc *matchCtx) Captures {
	groups := mc.take(r)
	if groups == nil {
		groups = r.re.FindStringSubmatch(m.Text)
	}
	if groups == nil {
		return Captures{}
	}
	c := Captures{Groups: groups}
	for i, name := range r.re.SubexpNames() {
		if name == "" {
			continue
		}
		if c.Named == nil {
			c.Named = make(map[string]string)
		}
		c.Named[name] = groups[i]
	}
	return c
}

func (r *regexpRule) String() string              { return quoteAll("Regexp", []string{r.re.String()}) }
func (r *regexpRule) prefilter() prefilter.Filter { return prefilter.Filter{Lits: r.lits} }

// Platform returns a Rule that matches messages from (or events of) any of
// the named platforms, compared with Message.Platform exactly. Platform
// panics if no name is given or a name is empty. The Rule is safe for
// concurrent use.
func Platform(names ...string) Rule {
	if len(names) == 0 {
		panic("bot: Platform needs at least one name")
	}
	for _, n := range names {
		if n == "" {
			panic("bot: empty platform name")
		}
	}
	return platformRule{names: slices.Clone(names)}
}

type platformRule struct{ names []string }

func (r platformRule) Match(_ context.Context, m *Message) (bool, error) {
	return slices.Contains(r.names, m.Platform), nil
}

func (r platformRule) String() string              { return quoteAll("Platform", r.names) }
func (r platformRule) prefilter() prefilter.Filter { return prefilter.Filter{Platforms: r.names} }

// Direct returns a Rule that matches messages of one-to-one conversations
// with the bot (Message.Direct). It is safe for concurrent use.
func Direct() Rule { return directRule{} }

type directRule struct{}

func (directRule) Match(_ context.Context, m *Message) (bool, error) { return m.Direct, nil }
func (directRule) String() string                                    { return "Direct()" }
func (directRule) prefilter() prefilter.Filter                       { return prefilter.Filter{} }

// OfKind returns a Rule that matches messages of any of the given kinds. A
// message with an empty Kind is a [KindMessage], and so is an empty kind
// given here. OfKind panics if no kind is given. The Rule is safe for
// concurrent use.
//
// (The rule is not called Kind because that is the name of the type.)
func OfKind(kinds ...Kind) Rule {
	if len(kinds) == 0 {
		panic("bot: OfKind needs at least one kind")
	}
	ks := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		if !slices.Contains(ks, k.Or()) {
			ks = append(ks, k.Or())
		}
	}
	return kindRule{kinds: ks}
}

type kindRule struct{ kinds []Kind }

func (r kindRule) Match(_ context.Context, m *Message) (bool, error) {
	return slices.Contains(r.kinds, m.Kind.Or()), nil
}

func (r kindRule) String() string {
	ss := make([]string, len(r.kinds))
	for i, k := range r.kinds {
		ss[i] = string(k)
	}
	return quoteAll("OfKind", ss)
}

func (r kindRule) prefilter() prefilter.Filter {
	ks := make([]string, len(r.kinds))
	for i, k := range r.kinds {
		ks[i] = string(k) // resolved by OfKind
	}
	return prefilter.Filter{Kinds: ks}
}

func checkRules(name string, rules []Rule) []Rule {
	if len(rules) == 0 {
		panic("bot: " + name + " needs at least one rule")
	}
	for _, r := range rules {
		if r == nil {
			panic("bot: nil rule in " + name)
		}
	}
	return slices.Clone(rules)
}

// All returns a Rule that matches when every one of rules matches. The rules
// are asked in order and asking stops at the first that does not match or
// fails; an error is returned as is. The captures of All merge those of its
// rules: Command and Args of the first rule with a Command (otherwise the
// first non-empty Args), the first Groups, and every named group (the first
// rule's value wins). All panics if rules is empty or holds a nil
// Rule. It is safe for concurrent use if rules are.
func All(rules ...Rule) Rule { return allRule{rules: checkRules("All", rules)} }

type allRule struct{ rules []Rule }

func (r allRule) Match(ctx context.Context, m *Message) (bool, error) {
	for _, sub := range r.rules {
		ok, err := sub.Match(ctx, m)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (r allRule) captures(m *Message) Captures { return r.capturesIn(m, nil) }

func (r allRule) capturesIn(m *Message, mc *matchCtx) Captures {
	var c Captures
	for _, sub := range r.rules {
		sc := capturesIn(sub, m, mc)
		if c.Command == "" && sc.Command != "" {
			c.Command, c.Args = sc.Command, sc.Args
		}
		if c.Args == "" && c.Command == "" {
			c.Args = sc.Args
		}
		if c.Groups == nil {
			c.Groups = sc.Groups
		}
		for k, v := range sc.Named {
			if c.Named == nil {
				c.Named = make(map[string]string)
			}
			if _, ok := c.Named[k]; !ok {
				c.Named[k] = v
			}
		}
	}
	return c
}

func (r allRule) String() string { return describeAll("All", r.rules) }

func (r allRule) prefilter() prefilter.Filter {
	p := prefilterOf(r.rules[0])
	for _, sub := range r.rules[1:] {
		p = p.And(prefilterOf(sub))
	}
	return p
}

// Any returns a Rule that matches when at least one of rules matches. The
// rules are asked in order and asking stops at the first match. An error
// from a rule is remembered and the next rule asked; it is returned only if
// no rule matches. Its captures are those of the first rule that captures
// something from the message. Any panics if rules is empty or holds a nil
// Rule. It is safe for concurrent use if rules are.
func Any(rules ...Rule) Rule { return anyRule{rules: checkRules("Any", rules)} }

type anyRule struct{ rules []Rule }

func (r anyRule) Match(ctx context.Context, m *Message) (bool, error) {
	var first error
	for _, sub := range r.rules {
		ok, err := sub.Match(ctx, m)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if ok {
			return true, nil
		}
	}
	return false, first
}

func (r anyRule) captures(m *Message) Captures { return r.capturesIn(m, nil) }

func (r anyRule) capturesIn(m *Message, mc *matchCtx) Captures {
	for _, sub := range r.rules {
		if c := capturesIn(sub, m, mc); !c.isZero() {
			return c
		}
	}
	return Captures{}
}

func (r anyRule) String() string { return describeAll("Any", r.rules) }

func (r anyRule) prefilter() prefilter.Filter {
	p := prefilterOf(r.rules[0])
	for _, sub := range r.rules[1:] {
		p = p.Or(prefilterOf(sub))
	}
	return p
}

// Not returns a Rule that matches when rule does not. An error from rule is
// returned as is, with no match. Not panics if rule is nil. It is safe for
// concurrent use if rule is.
func Not(rule Rule) Rule {
	if rule == nil {
		panic("bot: nil rule in Not")
	}
	return notRule{rule: rule}
}

type notRule struct{ rule Rule }

func (r notRule) Match(ctx context.Context, m *Message) (bool, error) {
	ok, err := r.rule.Match(ctx, m)
	if err != nil {
		return false, err
	}
	return !ok, nil
}

func (r notRule) String() string              { return "Not(" + describe(r.rule) + ")" }
func (r notRule) prefilter() prefilter.Filter { return prefilter.Filter{} }

// A prefilterer is a Rule that can state its prefilter. Every built-in rule
// is one; a Rule that is not has the zero prefilter.
type prefilterer interface {
	prefilter() prefilter.Filter
}

func prefilterOf(r Rule) prefilter.Filter {
	if p, ok := r.(prefilterer); ok {
		return p.prefilter()
	}
	return prefilter.Filter{}
}
