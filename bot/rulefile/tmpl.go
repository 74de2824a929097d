package rulefile

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parleybot/parley/bot"
)

// messageData is the data of the templates of rule actions: the inbound
// message's fields at the top level (.Text, .Author.Name, .Platform, …),
// the conversation's variables and what the rule's command picked out.
type messageData struct {
	*bot.Message
	// Kind is the message's kind, "message" when the message says none
	// (it hides Message.Kind).
	Kind bot.Kind
	// Vars are the conversation's variables: the file's defaults overlaid
	// with the values set for the conversation.
	Vars map[string]string
	// Captures are the command name and arguments when the rule has a
	// command.
	Captures bot.Captures

	steps int // loop iterations run by the rule's templates; see loopGuard
}

// scheduleData is the data of the templates of schedule actions.
type scheduleData struct {
	// Vars are the target conversation's variables.
	Vars map[string]string
	// Now is the time of the fire, in the bot's time zone.
	Now time.Time
	// Schedule is the schedule's name.
	Schedule string

	steps int // loop iterations run by the action's template; see loopGuard
}

var (
	messageDataType  = reflect.TypeFor[messageData]()
	scheduleDataType = reflect.TypeFor[scheduleData]()
	flowDataType     = reflect.TypeFor[flowData]()
	promptDataType   = reflect.TypeFor[promptData]()
	remindDataType   = reflect.TypeFor[remindData]()
)

// funcs are the functions templates may call besides text/template's
// built-ins. None has side effects.
var funcs = template.FuncMap{
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"trim":  strings.TrimSpace,
	// default returns def when v is empty (the zero value), else v:
	// {{.Vars.name | default "there"}}.
	"default": func(def, v any) any {
		if v == nil || reflect.ValueOf(v).IsZero() {
			return def
		}
		return v
	},
	// join joins elems with sep: {{join ", " .Tags}}.
	"join": func(sep string, elems []string) string { return strings.Join(elems, sep) },
	// _loop is called by every range (see guardLoops).
	"_loop": loopGuard,
}

const (
	// MaxTextSize is the most bytes a template of a rules file may render:
	// the text of a reply, a handoff, a forward or a send, a placeholder
	// of a message template or the value of a variable. An action whose
	// template renders more fails, and sends or sets nothing.
	MaxTextSize = 64 << 10
	// MaxVarSize is the most bytes a conversation variable may hold, as a
	// default or as set by a rule: a set action that would store more
	// fails and changes nothing, so that a variable set from itself, such
	// as v: "{{.Vars.v}}{{.Vars.v}}", cannot grow from message to message.
	MaxVarSize = 16 << 10
	// MaxTemplateSteps is the most loop iterations ({{range}}) the
	// templates of a rule may run for one message, together (and those of
	// a schedule's send action for one fire). A range over a number larger
	// than that is a load error; a range that would go past it as it runs
	// fails its action.
	MaxTemplateSteps = 100_000
)

// A tmplLimitError is a template over one of its limits.
type tmplLimitError struct{ msg string }

func (e *tmplLimitError) Error() string { return e.msg }

var errTextTooLong = &tmplLimitError{msg: fmt.Sprintf("the rendered text is longer than %d bytes", MaxTextSize)}

// loopGuard is called with the value of every range's pipeline and the
// template's data, and counts the iterations the range will run against
// the data's budget; it returns the value.
func loopGuard(data, v any) (any, error) {
	n := 1
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		n = rv.Len()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = int(min(max(rv.Int(), 0), MaxTemplateSteps+1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n = int(min(rv.Uint(), MaxTemplateSteps+1))
	}
	steps := &n
	switch d := data.(type) {
	case *messageData:
		steps = &d.steps
		d.steps += n
	case *scheduleData:
		steps = &d.steps
		d.steps += n
	case *flowData:
		steps = &d.steps
		d.steps += n
	case *promptData:
		steps = &d.steps
		d.steps += n
	case *notifyData:
		steps = &d.steps
		d.steps += n
	case *remindData:
		steps = &d.steps
		d.steps += n
	}
	if *steps > MaxTemplateSteps {
		return nil, &tmplLimitError{msg: fmt.Sprintf("range: more than the %d iterations the templates of a rule may run per message", MaxTemplateSteps)}
	}
	return v, nil
}

// guardLoops makes every range of t call _loop on its value with $, the
// data, so that loopGuard counts its iterations.
func guardLoops(t *template.Template) {
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, x := range n.Nodes {
				walk(x)
			}
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			guard := parse.NewIdentifier("_loop").SetPos(n.Pos)
			dollar := &parse.VariableNode{NodeType: parse.NodeVariable, Pos: n.Pos, Ident: []string{"$"}}
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{guard, dollar}})
			walk(n.List)
			walk(n.ElseList)
		}
	}
	for _, x := range t.Templates() {
		if x.Tree != nil {
			walk(x.Tree.Root)
		}
	}
}

// A limitedWriter collects a rendered text up to MaxTextSize bytes.
type limitedWriter struct{ b strings.Builder }

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > MaxTextSize {
		return 0, errTextTooLong
	}
	return w.b.Write(p)
}

// A tmpl is a compiled text template of an action.
type tmpl struct {
	src string
	t   *template.Template
	// The conversation variables the template reads by name (.Vars.name),
	// and whether it reads them in another way (ranging over .Vars, say),
	// so that Explain knows whether the message alone decides its text.
	reads    []string
	readsAll bool
}

// decidedBy reports whether the template's text depends on nothing but
// the message and the variables in known.
func (t *tmpl) decidedBy(known map[string]bool) bool {
	if t.readsAll {
		return false
	}
	for _, v := range t.reads {
		if !known[v] {
			return false
		}
	}
	return true
}

// readsVars reports whether the template reads the conversation's
// variables.
func (t *tmpl) readsVars() bool { return t.readsAll || len(t.reads) > 0 }

// exec executes the template with data, within the limits.
func (t *tmpl) exec(data any) (string, error) {
	var w limitedWriter
	if err := t.t.Execute(&w, data); err != nil {
		var le *tmplLimitError
		if errors.As(err, &le) {
			return "", le // text/template's context adds nothing to it
		}
		return "", err
	}
	return w.b.String(), nil
}

// tmplErr matches text/template's parse errors, "template: t:LINE: msg".
var tmplErr = regexp.MustCompile(`(?s)^template: t:(\d+):(?:(\d+):)? ?(.*)$`)

// template compiles the template in scalar n, checks the fields it uses
// against data, and reports problems at their position in the file.
func (l *loader) template(n *yaml.Node, what string, data reflect.Type, allowEmpty bool) *tmpl {
	src, ok := l.str(n, what, allowEmpty)
	if !ok {
		return nil
	}
	t, err := template.New("t").Funcs(funcs).Option("missingkey=zero").Parse(src)
	if err != nil {
		line, col, msg := 1, 1, err.Error()
		if m := tmplErr.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				col, _ = strconv.Atoi(m[2])
			}
			msg = m[3]
		}
		fl, fc := l.scalarPos(n, line, col)
		if line > 1 || col > 1 {
			msg += fmt.Sprintf(" (line %d of the template)", line)
		}
		l.errAt(fl, fc, err, "%s: bad template: %s", what, msg)
		return nil
	}
	c := &fieldChecker{data: data}
	if t.Tree != nil && t.Tree.Root != nil {
		c.walk(t.Tree.Root, true)
	}
	if c.bad != nil {
		line, col := lineCol(src, int(c.bad.Position()))
		fl, fc := l.scalarPos(n, line, col)
		l.errAt(fl, fc, nil, "%s: bad template: %s", what, c.msg)
		return nil
	}
	guardLoops(t)
	// A template that defines templates of its own may read variables
	// where the checker does not look.
	return &tmpl{src: src, t: t, reads: c.reads, readsAll: c.readsAll || len(t.Templates()) > 1}
}

// A fieldChecker finds the first field reference of a template that the
// data type cannot have: {{.Txt}} or {{.Author.Nmae}}; and a range over a
// number larger than MaxTemplateSteps. It follows the data
// only where dot is the data itself (and through $); inside range and with,
// where dot changes, fields are not checked.
type fieldChecker struct {
	data reflect.Type
	bad  parse.Node
	msg  string

	reads    []string // variables read as .Vars.name
	readsAll bool     // .Vars read as a whole
}

func (c *fieldChecker) walk(n parse.Node, rootDot bool) {
	if c.bad != nil || n == nil {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, x := range n.Nodes {
			c.walk(x, rootDot)
		}
	case *parse.ActionNode:
		c.walk(n.Pipe, rootDot)
	case *parse.IfNode:
		c.walk(n.Pipe, rootDot)
		c.walk(n.List, rootDot)
		c.walk(n.ElseList, rootDot)
	case *parse.RangeNode:
		if num := rangeNumber(n); num != nil && num.Int64 > MaxTemplateSteps {
			c.bad, c.msg = num, fmt.Sprintf("range over %d is more than the %d iterations the templates of a rule may run per message", num.Int64, MaxTemplateSteps)
			return
		}
		c.walk(n.Pipe, rootDot)
		c.walk(n.List, false)
		c.walk(n.ElseList, rootDot)
	case *parse.WithNode:
		c.walk(n.Pipe, rootDot)
		c.walk(n.List, false)
		c.walk(n.ElseList, rootDot)
	case *parse.TemplateNode:
		c.walk(n.Pipe, rootDot)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, cmd := range n.Cmds {
			c.walk(cmd, rootDot)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			c.walk(a, rootDot)
		}
	case *parse.FieldNode:
		if rootDot {
			c.check(n, n.Ident)
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			c.check(n, n.Ident[1:])
		}
	case *parse.ChainNode:
		c.walk(n.Node, rootDot)
	}
}

// rangeNumber returns the integer a range runs over when it is written as
// a number, {{range 10}}; nil otherwise.
func rangeNumber(n *parse.RangeNode) *parse.NumberNode {
	if n.Pipe == nil || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
		return nil
	}
	if num, ok := n.Pipe.Cmds[0].Args[0].(*parse.NumberNode); ok && num.IsInt {
		return num
	}
	return nil
}

// check follows the field names idents from the data type.
func (c *fieldChecker) check(n parse.Node, idents []string) {
	if (c.data == messageDataType || c.data == flowDataType || c.data == promptDataType || c.data == notifyDataType || c.data == remindDataType) && len(idents) > 0 && idents[0] == "Vars" {
		if len(idents) > 1 {
			c.reads = append(c.reads, idents[1])
		} else {
			c.readsAll = true
		}
	}
	t := c.data
	for _, name := range idents {
		for t.Kind() == reflect.Pointer {
			if _, ok := t.MethodByName(name); ok {
				return // a method; its result is not followed
			}
			t = t.Elem()
		}
		if _, ok := t.MethodByName(name); ok {
			return
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := t.FieldByName(name)
			if !ok || !f.IsExported() {
				c.bad, c.msg = n, fmt.Sprintf("%s has no field %s", typeName(t), name)
				return
			}
			t = f.Type
		case reflect.Map, reflect.Interface:
			return // any key; an interface's dynamic type is unknown
		default:
			c.bad, c.msg = n, fmt.Sprintf("%s is a %s, it has no field %s", typeName(t), t.Kind(), name)
			return
		}
	}
}

// typeName names a data type for messages, hiding the package's internal
// names.
func typeName(t reflect.Type) string {
	switch t {
	case messageDataType:
		return "the message data"
	case scheduleDataType:
		return "the schedule data"
	case flowDataType:
		return "the flow data"
	case promptDataType:
		return "the prompt data"
	case notifyDataType:
		return "the notification data"
	case remindDataType:
		return "the reminder data"
	}
	return t.String()
}
