package flowdock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/internal/actionargs"
)

const presentActionOp = "present action"

// presentArgs are the arguments PresentAction knows.
var presentArgs = []string{"title", "body", "url", "status", "color", "fields", "values", "author", "activity", "comment", "tags", "thread"}

// DefaultPresentAuthor is the author of the items [PresentAction] posts
// when the call names none.
const DefaultPresentAuthor = "Parley"

// PresentAction returns a flow action that presents an item in a flow's
// team inbox as a thread, the way an integration does: it posts an
// activity (or, with "comment", a discussion) with the flow token
// (POST /messages, see [Client.PostActivity]), carrying the item's full
// state. Its arguments:
//
//	title     string              the item's title, the thread's title (may contain <a>); required
//	body      string              the item's description, in HTML
//	url       string              the item's URL in its own service
//	status    string              a status label, shown in colour
//	color     string              the status label's colour, one of [StatusColors]; required with status
//	fields    map[string]any      label/value rows, in label order; or, in list order, a list of
//	          or []any            {label: …, value: …} maps or a []Field (values: strings, numbers,
//	          or []Field          booleans, times, lists of strings; strings may contain <a>)
//	values    []string or string  names of flow values shown as rows after fields, labelled with
//	                              their names and HTML-escaped (a value the flow did not save is skipped)
//	author    string              the author's name; default DefaultPresentAuthor
//	activity  string              the activity's title, a verb phrase; default "created" ("commented"
//	                              with comment)
//	comment   string              posts a discussion with this HTML body instead of an activity
//	tags      []string or string  tags of the post (a string is a comma-separated list)
//	thread    string              the item's key (external_thread_id); default one derived from the call's Key
//
// A row whose value is empty (or blank) is left out, in every form of
// fields and in values, so that a field the customer did not give (a
// phone number on a platform without one) shows no empty row. A rules
// file writes the rows it wants in order as a list:
//
//	fields:
//	  - {label: Name, value: "{{html .Values.name}}"}
//	  - {label: Phone, value: "{{html .Values.phone}}"}
//
// Posting the same item key again updates the item's thread rather than
// making another (documented by Flowdock), so every call of a flow run
// that names one thread ends up in one thread. An argument of the wrong
// type or an unknown argument is a [*ValidationError] (Op "present
// action", Field "args.<name>") returned before any request; running the
// same call again cannot succeed. A call with neither a Key nor a thread
// is refused too.
//
// The post carries a uuid derived from the call's Key, so that a retried
// call does not post twice. Flowdock answers a flow-token post with 202
// and no message, so first, when c has the personal token and flow names
// the token's flow, the action looks for a message with that uuid among
// the flow's newest ([Client.MessageByUUID]) and posts nothing when it
// finds one. Flowdock documents that a uuid must be unique within a flow
// but not what it answers to a duplicate; an answer refusing the post's
// uuid is taken for an earlier attempt's success. If Flowdock accepted a
// duplicate uuid, an attempt retried before the earlier one was stored
// would post a second activity, in the same thread.
//
// where is the flow the flow token posts to (Flowdock takes the flow
// from the token), for the look-up; the zero Chat skips it. It panics if
// c is nil or where is a private conversation. The action is safe for concurrent use.
func PresentAction(c *Client, where Chat) flow.Action {
	if c == nil {
		panic("flowdock: PresentAction: nil client")
	}
	if where.IsPrivate() {
		panic("flowdock: PresentAction: " + where.String() + " is a private conversation, not a flow")
	}
	return flow.ActionFunc(presentAction{c: c, flow: where}.run)
}

type presentAction struct {
	c    *Client
	flow Chat
}

func (a presentAction) run(ctx context.Context, call flow.ActionCall) error {
	d, err := readPresent(call)
	if err != nil {
		return err
	}
	if call.Key != "" && a.flow != (Chat{}) && a.c.HasToken() {
		_, _, err := a.c.MessageByUUID(ctx, a.flow, d.UUID)
		switch {
		case err == nil:
			return nil // an earlier attempt posted it
		case !errors.Is(err, ErrNotFound):
			return wrapf(err, "%s: look for an earlier attempt's post", presentActionOp)
		}
	}
	if d.Body != "" {
		_, _, err = a.c.PostDiscussion(ctx, d)
	} else {
		_, _, err = a.c.PostActivity(ctx, Activity{ExternalThreadID: d.ExternalThreadID, Author: d.Author,
			Title: d.Title, Thread: d.Thread, Tags: d.Tags, UUID: d.UUID})
	}
	if uuidTaken(err) {
		return nil // an earlier attempt posted it
	}
	if err != nil {
		return wrapf(err, "%s", presentActionOp)
	}
	return nil
}

// uuidTaken reports whether err is Flowdock refusing the post's uuid.
func uuidTaken(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode < 400 || apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusTooManyRequests {
		return false
	}
	_, ok := apiErr.Errors["uuid"]
	return ok
}

// readPresent checks the call's arguments and builds the post; Body is
// set for a discussion.
func readPresent(call flow.ActionCall) (Discussion, error) {
	var d Discussion
	for k := range call.Args {
		if !slices.Contains(presentArgs, k) {
			return d, invalidArg(k, "is not an argument of this action (it takes "+strings.Join(presentArgs, ", ")+")")
		}
	}
	var err error
	s := func(name string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = presentString(call.Args, name)
		return v
	}
	t := &Thread{Title: s("title"), Body: s("body"), ExternalURL: s("url")}
	status, color := s("status"), s("color")
	d.Author.Name, d.Title, d.Body = s("author"), s("activity"), s("comment")
	d.ExternalThreadID = s("thread")
	if err != nil {
		return d, err
	}
	if t.Title == "" {
		return d, invalidArg("title", "is required")
	}
	switch {
	case status != "" && color == "":
		return d, invalidArg("color", "is required with status; supported colors are: "+colorList())
	case status == "" && color != "":
		return d, invalidArg("status", "is required with color")
	case status != "":
		if !Color(color).Valid() {
			return d, invalidArg("color", strconv.Quote(color)+" is not supported; supported colors are: "+colorList())
		}
		t.Status = &Status{Color: Color(color), Value: status}
	}
	if t.Fields, err = presentFields(call.Args["fields"]); err != nil {
		return d, err
	}
	names, err := presentList(call.Args, "values")
	if err != nil {
		return d, err
	}
	for _, name := range names {
		v, ok := call.Values[name]
		if !ok {
			continue
		}
		text, err := fieldText(v)
		if err != nil {
			return d, invalid(presentActionOp, "values."+name, err.Error())
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		t.Fields = append(t.Fields, Field{Label: html.EscapeString(name), Value: html.EscapeString(text)})
	}
	if d.Tags, err = presentList(call.Args, "tags"); err != nil {
		return d, err
	}
	if d.Author.Name == "" {
		d.Author.Name = DefaultPresentAuthor
	}
	if d.Title == "" {
		d.Title = "created"
		if d.Body != "" {
			d.Title = "commented"
		}
	}
	if call.Key != "" {
		d.UUID = keyUUID(call.Key)
		if d.ExternalThreadID == "" {
			d.ExternalThreadID = "parley-" + d.UUID
		}
	}
	if d.ExternalThreadID == "" {
		return d, invalidArg("thread", "is required when the call has no Key")
	}
	d.Thread = t
	return d, nil
}

func invalidArg(name, problem string) error {
	return invalid(presentActionOp, "args."+name, problem)
}

// presentString returns the string argument name, trimmed; "" when
// absent (see actionargs.String).
func presentString(args map[string]any, name string) (string, error) {
	s, p := actionargs.String(args, name)
	if p != nil {
		return "", invalidArg(p.Arg, p.Text)
	}
	return s, nil
}

// presentList returns the list argument name (see actionargs.List).
func presentList(args map[string]any, name string) ([]string, error) {
	l, p := actionargs.List(args, name)
	if p != nil {
		return nil, invalidArg(p.Arg, p.Text)
	}
	return l, nil
}

// presentFields reads the fields argument: a map of labels to values (in
// label order), a list of {label, value} maps (in list order) or a
// []Field. Rows whose value is empty are left out.
func presentFields(v any) ([]Field, error) {
	var out []Field
	switch m := v.(type) {
	case nil:
		return nil, nil
	case []Field:
		for i, f := range m {
			if strings.TrimSpace(f.Label) == "" {
				return nil, invalidArg("fields["+strconv.Itoa(i)+"].label", "is required")
			}
		}
		out = slices.Clone(m)
	case map[string]any:
		out = make([]Field, 0, len(m))
		for _, label := range slices.Sorted(maps.Keys(m)) {
			if strings.TrimSpace(label) == "" {
				return nil, invalidArg("fields", "has a blank label")
			}
			text, err := fieldText(m[label])
			if err != nil {
				return nil, invalidArg("fields."+label, err.Error())
			}
			out = append(out, Field{Label: label, Value: text})
		}
	case []any:
		out = make([]Field, 0, len(m))
		for i, row := range m {
			f, err := fieldRow(row, "fields["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	default:
		return nil, invalidArg("fields", fmt.Sprintf("must be a map of labels to values, a list of {label, value} maps or a []flowdock.Field, not %T", v))
	}
	return slices.DeleteFunc(out, func(f Field) bool { return strings.TrimSpace(f.Value) == "" }), nil
}

// fieldRow reads one row of a fields list: a map with a label and a value
// (none is an empty value).
func fieldRow(row any, name string) (Field, error) {
	m, ok := row.(map[string]any)
	if !ok {
		return Field{}, invalidArg(name, fmt.Sprintf("must be a map with a label and a value, not %T", row))
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "label" && k != "value" {
			return Field{}, invalidArg(name+"."+k, "is not a key of a row (it takes label and value)")
		}
	}
	label, ok := m["label"].(string)
	switch {
	case m["label"] == nil:
		return Field{}, invalidArg(name+".label", "is required")
	case !ok:
		return Field{}, invalidArg(name+".label", fmt.Sprintf("must be a string, not %T", m["label"]))
	case strings.TrimSpace(label) == "":
		return Field{}, invalidArg(name+".label", "is required")
	}
	var text string
	if v := m["value"]; v != nil {
		var err error
		if text, err = fieldText(v); err != nil {
			return Field{}, invalidArg(name+".value", err.Error())
		}
	}
	return Field{Label: label, Value: text}, nil
}

// fieldText writes a row's value.
func fieldText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		return x.Format(time.RFC3339), nil
	case []string:
		return strings.Join(x, ", "), nil
	}
	return "", fmt.Errorf("must be a string, number, boolean, time or list of strings, not %T", v)
}

// keyUUID returns the uuid of the post of the call with key: a UUID made
// of the key's SHA-256, so every attempt of the call sends the same one.
func keyUUID(key string) string {
	sum := sha256.Sum256([]byte("parley flowdock present\x00" + key))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80 // the RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ResolveConversation returns the Conversation of the chat people call
// name: the flow ID of the flow "org/flow" (GET /flows/:org/:flow), and
// "private:<user id>" for "private/<user id>". Any other name is taken
// for a Conversation already (a flow ID, "private:<user id>") and
// returned as it is. Rules files name the team flow of their handoffs so,
// as Flowdock's users know it (package bot/rulefile,
// ConversationResolver); the flow's messages carry its ID. It is safe for
// concurrent use.
func (a *Adapter) ResolveConversation(ctx context.Context, name string) (string, error) {
	c, err := ParseChat(name)
	if err != nil {
		return name, nil
	}
	if c.IsPrivate() {
		return privatePrefix + strconv.FormatInt(c.UserID, 10), nil
	}
	f, _, err := a.client.GetFlow(ctx, c.Org, c.Flow)
	if err != nil {
		return "", wrapf(err, "find flow %s", c)
	}
	a.mu.Lock()
	a.chats[f.ID] = c
	a.mu.Unlock()
	return f.ID, nil
}
