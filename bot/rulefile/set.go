package rulefile

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/parleybot/parley/bot"
)

// A Set is a parsed and compiled rules file: its rules, in the order the
// router tries them, and its schedules. A Set is immutable and safe for
// concurrent use; one Set may serve several Engines. Get one from [Load] or
// [Parse], run it with an [Engine] (or [Set.Install]), and inspect it with
// [Set.Explain].
type Set struct {
	file      string
	hash      [sha256.Size]byte // of the source, to notice changes
	syntax    bot.CommandSyntax
	vars      map[string]string
	rules     []*rule // in file order
	order     []*rule // in the order they are tried
	schedules []*schedule
	fallback  []action // the fallback's actions; nil when the file has none
	refs      []platformRef
	router    *bot.Router // the rules that are not global
	global    *bot.Router // the global rules; nil when there are none
	flows     []*fileFlow
	calls     []*fileCall // the action calls of the flows, checked against the Engine's actions
	teams     []*team     // of the handoff and resume actions, checked against the Bot's adapters
}

// A rule is one compiled rule of a file.
type rule struct {
	name     string
	line     int
	when     string   // "" when the rule has only a command
	command  string   // "" when the rule has only a when
	cmd      bot.Rule // the command rule, or nil
	expr     bot.Rule // the expression rule, or nil
	match    bot.Rule
	priority int
	observer bool
	global   bool // tried before a waiting flow: see Engine.Install
	usage    string
	desc     string
	help     bool
	actions  []action
	cont     bool // the last action is continue

	explain explainCache
}

// A schedule is one compiled schedule of a file.
type schedule struct {
	name    string
	spec    string
	line    int
	actions []*sendAction
}

// A platformRef is a platform named by a forward or send action, checked
// against the Bot's adapters when the set is installed.
type platformRef struct {
	name      string
	line, col int
	what      string
}

// RuleInfo describes a rule of a Set.
type RuleInfo struct {
	Name     string
	When     string // the expression; "" when the rule has only a command
	Command  string // the command name; "" when the rule has none
	Priority int
	Observer bool
	// Global: the rule is tried before the flow waiting in the
	// conversation, and before the rules that are not global.
	Global bool
	Line   int // of the rule in the file
}

// ScheduleInfo describes a schedule of a Set.
type ScheduleInfo struct {
	Name string
	Spec string
	Line int // of the schedule in the file
}

// Load reads and parses the rules file at path; see [Parse]. A file that
// cannot be read is an error wrapping the os error.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rulefile: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and compiles a rules file; name is the file's name in
// positions. It validates everything — the YAML, unknown and duplicate
// keys, value types, expressions, templates, cron specs and actions — and
// returns a *LoadError listing every problem with its position, or a Set
// ready to run. The package documentation describes the format.
func Parse(name string, data []byte) (*Set, error) {
	l := &loader{file: name, src: data}
	s := &Set{file: name, hash: sha256.Sum256(data), vars: map[string]string{}}
	root, ok := l.document(data)
	if ok && root != nil {
		l.set(s, root)
	}
	if len(l.probs) > 0 {
		slices.SortStableFunc(l.probs, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, &LoadError{Problems: l.probs}
	}
	s.build()
	return s, nil
}

// yamlErr matches yaml.v3's syntax errors, "yaml: line N: msg".
var yamlErr = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)

// document decodes the single YAML document of data and returns its root,
// or nil for an empty file.
func (l *loader) document(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		l.syntaxError(err)
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		l.errf(&extra, "a rules file holds one YAML document; this is a second one")
		return nil, false
	case !errors.Is(err, io.EOF):
		l.syntaxError(err)
		return nil, false
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, true
	}
	return root, true
}

func (l *loader) syntaxError(err error) {
	line, msg := 0, err.Error()
	if m := yamlErr.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
	}
	l.errAt(line, 0, err, "bad YAML: %s", msg)
}

// set fills s from the root mapping.
func (l *loader) set(s *Set, root *yaml.Node) {
	top, ok := l.fields(root, "rules file", "commands", "vars", "flows", "rules", "fallback", "schedules")
	if !ok {
		return
	}
	synOK := true
	if f, ok := top["commands"]; ok {
		synOK = l.commands(s, f.val)
	}
	if f, ok := top["vars"]; ok {
		l.defaults(s, f.val)
	}
	if f, ok := top["flows"]; ok {
		l.flows(s, f.val)
	}
	if f, ok := top["rules"]; ok {
		seen := map[string]*yaml.Node{}
		for i, n := range l.list(f.val, "rules") {
			if r := l.rule(s, n, i, synOK, seen); r != nil {
				s.rules = append(s.rules, r)
			}
		}
	}
	if f, ok := top["fallback"]; ok {
		probs := len(l.probs)
		acts, _ := l.actions(s, f.val, "fallback", inFallback)
		if len(l.probs) == probs {
			s.fallback = acts
		}
	}
	if f, ok := top["schedules"]; ok {
		seen := map[string]*yaml.Node{}
		for i, n := range l.list(f.val, "schedules") {
			if sc := l.schedule(s, n, i, seen); sc != nil {
				s.schedules = append(s.schedules, sc)
			}
		}
	}
	l.checkStarts(s)
	for _, f := range s.flows {
		s.calls = append(s.calls, f.onDone...)
		for _, st := range f.steps {
			s.calls = append(s.calls, st.actions...)
		}
	}
}

// list returns the items of a sequence; nothing counts as empty.
func (l *loader) list(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, "%s: want a list, got %s", what, describeNode(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, it := range n.Content {
		out[i] = deref(it)
	}
	return out
}

// commands reads the command syntax; it reports whether it is valid.
func (l *loader) commands(s *Set, n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return true
	}
	fs, ok := l.fields(n, "commands", "prefixes", "names")
	if !ok {
		return false
	}
	valid := true
	if f, ok := fs["prefixes"]; ok {
		if f.val.Kind == yaml.SequenceNode && len(f.val.Content) == 0 {
			s.syntax.Prefixes = []string{} // no prefix at all
		} else {
			ps, nodes, good := l.strList(f.val, "commands: prefixes")
			valid = valid && good
			for i, p := range ps {
				if strings.IndexFunc(p, unicode.IsSpace) >= 0 {
					l.errf(nodes[i], "commands: prefixes: %q contains white space", p)
					valid = false
				}
			}
			s.syntax.Prefixes = ps
		}
	}
	if f, ok := fs["names"]; ok {
		ns, _, good := l.strList(f.val, "commands: names")
		valid = valid && good
		s.syntax.Names = ns
	}
	return valid
}

// varName is the form of a variable name, so that {{.Vars.name}} works.
var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (l *loader) checkVarName(n *yaml.Node, what string) bool {
	if !varName.MatchString(n.Value) {
		l.errf(n, "%s: bad variable name %q: use letters, digits and _, not starting with a digit", what, n.Value)
		return false
	}
	return true
}

// defaults reads the vars section.
func (l *loader) defaults(s *Set, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n, "vars: want a mapping of names to values, got %s", describeNode(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || !l.checkVarName(k, "vars") {
			continue
		}
		if _, dup := s.vars[k.Value]; dup {
			l.errf(k, "vars: duplicate variable %q", k.Value)
			continue
		}
		if val, ok := l.str(v, "vars: "+k.Value, true); ok {
			if len(val) > MaxVarSize {
				l.errf(v, "vars: %s: %d bytes, more than the %d a variable may hold", k.Value, len(val), MaxVarSize)
				continue
			}
			s.vars[k.Value] = val
		}
	}
}

// peekLabel names a rule or schedule in messages: by its name when it has
// a usable one, else by its position in the list.
func peekLabel(n *yaml.Node, what string, i int) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := deref(n.Content[j]), deref(n.Content[j+1])
			if k.Value == "name" && v.Kind == yaml.ScalarNode && v.Tag != "!!null" && strings.TrimSpace(v.Value) != "" {
				return what + " " + strconv.Quote(v.Value)
			}
		}
	}
	return fmt.Sprintf("%s %d", what, i+1)
}

var ruleKeys = []string{"name", "when", "command", "priority", "observer", "global", "help", "actions"}

// rule reads and compiles one rule; it returns nil if the rule has a
// problem.
func (l *loader) rule(s *Set, n *yaml.Node, i int, synOK bool, seen map[string]*yaml.Node) *rule {
	label := peekLabel(n, "rule", i)
	probs := len(l.probs)
	fs, ok := l.fields(n, label, ruleKeys...)
	if !ok {
		return nil
	}
	r := &rule{line: n.Line}
	if f, ok := fs["name"]; !ok {
		l.errf(n, "%s: missing key \"name\"", label)
	} else if name, ok := l.str(f.val, label+": name", false); ok {
		r.name = name
		if prev, dup := seen[name]; dup {
			l.errf(f.val, "%s: duplicate rule name (first at %s)", label, pos(prev))
		} else {
			seen[name] = f.val
		}
	}
	if f, ok := fs["priority"]; ok {
		r.priority, _ = l.integer(f.val, label+": priority")
	}
	if f, ok := fs["observer"]; ok {
		r.observer, _ = l.boolean(f.val, label+": observer")
	}
	if f, ok := fs["global"]; ok {
		r.global, _ = l.boolean(f.val, label+": global")
	}
	if f, ok := fs["help"]; ok {
		l.help(r, f.val, label)
	}
	_, hasWhen := fs["when"]
	_, hasCmd := fs["command"]
	if !hasWhen && !hasCmd {
		l.errf(n, "%s: missing key \"when\" (or \"command\")", label)
	}
	if f, ok := fs["command"]; ok {
		if name, ok := l.str(f.val, label+": command", false); ok && l.checkCommand(s, f.val, label, name) && synOK {
			r.command = name
			r.cmd = l.command(s.syntax, f.val, label, name)
		}
	}
	if f, ok := fs["when"]; ok {
		if src, ok := l.str(f.val, label+": when", false); ok {
			r.when = src
			rl, err := bot.Expr(src, lookupOption)
			if err != nil {
				l.exprError(f.val, label, err)
			}
			r.expr = rl
		}
	}
	if f, ok := fs["actions"]; !ok {
		l.errf(n, "%s: missing key \"actions\"", label)
	} else {
		r.actions, r.cont = l.actions(s, f.val, label, inRule)
	}
	if len(l.probs) > probs {
		return nil
	}
	switch {
	case r.cmd != nil && r.expr != nil:
		r.match = bot.All(r.cmd, r.expr)
	case r.cmd != nil:
		r.match = r.cmd
	default:
		r.match = r.expr
	}
	return r
}

// help reads a rule's help: a description, or a mapping with usage and
// description.
func (l *loader) help(r *rule, n *yaml.Node, label string) {
	if n.Kind == yaml.ScalarNode {
		if d, ok := l.str(n, label+": help", false); ok {
			r.desc, r.help = d, true
		}
		return
	}
	fs, ok := l.fields(n, label+": help", "usage", "description")
	if !ok {
		return
	}
	r.help = true
	if f, ok := fs["usage"]; ok {
		r.usage, _ = l.str(f.val, label+": help: usage", false)
	}
	if f, ok := fs["description"]; ok {
		r.desc, _ = l.str(f.val, label+": help: description", false)
	}
}

// checkCommand validates a command name against the file's syntax, as
// bot.CommandSyntax.Command would (which panics instead).
func (l *loader) checkCommand(s *Set, n *yaml.Node, label, name string) bool {
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		l.errf(n, "%s: command: %q contains white space", label, name)
		return false
	}
	prefixes := s.syntax.Prefixes
	if prefixes == nil {
		prefixes = []string{"/", "!"}
	}
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(name, p) {
			l.errf(n, "%s: command: write the name without the prefix %q", label, p)
			return false
		}
	}
	return true
}

// command returns the syntax's Command rule for name, turning a panic
// (which checkCommand should have prevented) into a problem.
func (l *loader) command(syn bot.CommandSyntax, n *yaml.Node, label, name string) (r bot.Rule) {
	defer func() {
		if p := recover(); p != nil {
			l.errf(n, "%s: command: %v", label, p)
			r = nil
		}
	}()
	return syn.Command(name)
}

// exprError reports a bad expression at its position in the file.
func (l *loader) exprError(n *yaml.Node, label string, err error) {
	var ee *bot.ExprError
	if !errors.As(err, &ee) || ee.Line == 0 {
		msg := err.Error()
		if ee != nil {
			msg = ee.Msg
		}
		l.errAt(n.Line, n.Column, err, "%s: when: %s", label, msg)
		return
	}
	line, col := l.scalarPos(n, ee.Line, ee.Column)
	where := fmt.Sprintf("column %d of the expression", ee.Column)
	if strings.Contains(ee.Source, "\n") {
		where = fmt.Sprintf("line %d, column %d of the expression", ee.Line, ee.Column)
	}
	l.errAt(line, col, err, "%s: when: %s (%s)", label, ee.Msg, where)
}

var scheduleKeys = []string{"name", "cron", "actions"}

// schedule reads one schedule; it returns nil if it has a problem.
func (l *loader) schedule(s *Set, n *yaml.Node, i int, seen map[string]*yaml.Node) *schedule {
	label := peekLabel(n, "schedule", i)
	probs := len(l.probs)
	fs, ok := l.fields(n, label, scheduleKeys...)
	if !ok {
		return nil
	}
	sc := &schedule{line: n.Line}
	if f, ok := fs["name"]; !ok {
		l.errf(n, "%s: missing key \"name\"", label)
	} else if name, ok := l.str(f.val, label+": name", false); ok {
		sc.name = name
		if prev, dup := seen[name]; dup {
			l.errf(f.val, "%s: duplicate schedule name (first at %s)", label, pos(prev))
		} else {
			seen[name] = f.val
		}
	}
	if f, ok := fs["cron"]; !ok {
		l.errf(n, "%s: missing key \"cron\"", label)
	} else if spec, ok := l.str(f.val, label+": cron", false); ok {
		if err := checkCron(spec); err != nil {
			l.errAt(f.val.Line, f.val.Column, err, "%s: cron: bad spec %q: %v", label, spec, err)
		}
		sc.spec = spec
	}
	if f, ok := fs["actions"]; !ok {
		l.errf(n, "%s: missing key \"actions\"", label)
	} else {
		acts, _ := l.actions(s, f.val, label, inSchedule)
		for _, a := range acts {
			sc.actions = append(sc.actions, a.(*sendAction))
		}
	}
	if len(l.probs) > probs {
		return nil
	}
	return sc
}

// build orders the rules (the global ones first, then by priority, then
// in file order) and builds the Set's routers.
func (s *Set) build() {
	s.order = slices.Clone(s.rules)
	slices.SortStableFunc(s.order, func(a, b *rule) int {
		if a.global != b.global {
			if a.global {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.priority, a.priority)
	})
	s.router = bot.NewRouter()
	for _, r := range s.rules {
		opts := []bot.RouteOption{bot.Priority(r.priority), bot.RouteName(fmt.Sprintf("rule %q (line %d)", r.name, r.line))}
		if r.observer {
			opts = append(opts, bot.Observer())
		}
		if r.help {
			opts = append(opts, bot.Help(r.usage, r.desc))
		}
		rt := s.router
		if r.global {
			if s.global == nil {
				s.global = bot.NewRouter()
			}
			rt = s.global
		}
		rt.Handle(r.match, r, opts...)
	}
	// Route an empty message through the routers once, without running
	// any action, so that they build their index now rather than on the
	// first message after a reload.
	for _, rt := range s.routers() {
		rt.SetLogger(slog.New(slog.DiscardHandler))
		_ = rt.HandleMessage(&dispatch{Context: context.Background(), set: s, dry: true}, nil, &bot.Message{})
	}
}

// routers returns the Set's routers: the global one, if any, first.
func (s *Set) routers() []*bot.Router {
	if s.global == nil {
		return []*bot.Router{s.router}
	}
	return []*bot.Router{s.global, s.router}
}

// Name returns the file name the Set was parsed from.
func (s *Set) Name() string { return s.file }

// Rules describes the rules in the order they are tried: priority, then
// file order.
func (s *Set) Rules() []RuleInfo {
	out := make([]RuleInfo, len(s.order))
	for i, r := range s.order {
		out[i] = RuleInfo{Name: r.name, When: r.when, Command: r.command, Priority: r.priority, Observer: r.observer,
			Global: r.global, Line: r.line}
	}
	return out
}

// Schedules describes the schedules in file order.
func (s *Set) Schedules() []ScheduleInfo {
	out := make([]ScheduleInfo, len(s.schedules))
	for i, sc := range s.schedules {
		out[i] = ScheduleInfo{Name: sc.name, Spec: sc.spec, Line: sc.line}
	}
	return out
}

// Routes describes the Set's rules as routes, in the order they are tried
// (the global rules first), for help handlers: a rule's help gives Usage
// and Description, and a rule with a command and no usage is listed under
// the command.
func (s *Set) Routes() []bot.RouteInfo {
	var out []bot.RouteInfo
	for _, rt := range s.routers() {
		out = append(out, rt.Routes()...)
	}
	return out
}

// check returns the problems of running s on b: platforms that name no
// adapter of b.
func (s *Set) check(b *bot.Bot) []Problem {
	var probs []Problem
	for _, ref := range s.refs {
		if b.Adapter(ref.name) == nil {
			probs = append(probs, Problem{File: s.file, Line: ref.line, Column: ref.col,
				Msg: fmt.Sprintf("%s: no adapter named %q on the Bot", ref.what, ref.name)})
		}
	}
	return probs
}

// emptySet is the Set of an empty file.
func emptySet() *Set {
	s := &Set{vars: map[string]string{}}
	s.build()
	return s
}
