package sendbee

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/internal/actionargs"
)

const contactActionOp = "update contact action"

// contactActionArgs are the arguments UpdateContactAction knows.
var contactActionArgs = []string{"phone", "name", "tags", "note", "notes", "fields", "values"}

// UpdateContactAction returns a flow action that records what a flow
// learnt on the Sendbee contact of the conversation: it subscribes the
// contact (POST /contacts/subscribe) when Sendbee has none with its phone,
// and updates it (PUT /contacts) otherwise. Its arguments, all optional:
//
//	phone   string                 the contact's phone, international form ("+3859…"); default the
//	                               call's Contact.Phone, else the phone of the call's Sendbee conversation
//	name    string                 the contact's name; default the flow's value "name", if any
//	tags    []string or string     tags to add (a string is a comma-separated list); the contact keeps
//	                               its other tags, and Sendbee creates tags that do not exist
//	note    string                 a note to append
//	notes   []string or string     notes to append
//	fields  map[string]any         contact field values by field name: strings, numbers, booleans,
//	                               or times (written as dates, YYYY-MM-DD)
//	values  []string or string     names of flow values to store in the contact fields of the same
//	                               names (a value the flow did not save is skipped)
//
// The call's conversation is c's when its Platform is the name of the
// adapter whose client c is (Adapter.Client; "sendbee" for a client of
// NewClient): a conversation of another Sendbee number is not looked up
// with c's key, and such a call needs its phone.
//
// Contact fields must exist in Sendbee (see [Client.CreateContactField]);
// Sendbee ignores names it does not know. A call with no argument makes
// sure the contact is subscribed. An argument of the wrong type or an
// unknown argument is a [*ValidationError] (Op "update contact action",
// Field "args.<name>") returned before any request; running the same
// call again cannot succeed.
//
// The action reads the contact first (GET /contacts with the phone as
// search query, matched exactly), so a run sends only what changes, and
// a repeated run nothing: name, tags and fields are set, which is
// idempotent by nature. Notes are not: Sendbee appends every note sent.
// So each note is sent with a reference derived from the call's Key
// appended (" [ref 1a2b3c4d5e6f]"), and a note whose reference the
// contact's notes already hold is not sent again. A call without a Key
// appends its notes every time. Two attempts of one call running at the
// same time, or an agent editing the contact's tags between the read and
// the write, can still race: the engine runs a call's attempts one after
// the other.
//
// It panics if c is nil. The action is safe for concurrent use.
func UpdateContactAction(c *Client) flow.Action {
	if c == nil {
		panic("sendbee: UpdateContactAction: nil client")
	}
	return flow.ActionFunc(func(ctx context.Context, call flow.ActionCall) error {
		return updateContactAction(ctx, c, call)
	})
}

// contactChange is what a call asks of the contact.
type contactChange struct {
	phone, name string
	tags        []string
	notes       []string // with their references
	fields      map[string]string
}

func updateContactAction(ctx context.Context, c *Client, call flow.ActionCall) error {
	ch, err := readContactChange(call)
	if err != nil {
		return err
	}
	if ch.phone == "" && call.Platform == c.platform && strings.TrimSpace(call.Conversation) != "" {
		conv, _, err := c.Conversation(ctx, call.Conversation)
		if err != nil {
			return wrapf(err, "%s: find the conversation's contact", contactActionOp)
		}
		ch.phone = strings.TrimSpace(conv.Contact.Phone)
	}
	if ch.phone == "" {
		return invalid(contactActionOp, "args.phone", "is required when the call has no contact phone and no Sendbee conversation")
	}
	if digits(ch.phone) == "" {
		return invalid(contactActionOp, "args.phone", "is not a phone number")
	}
	ct, err := contactByPhone(ctx, c, ch.phone)
	if err != nil {
		return err
	}
	if ct == nil {
		r := SubscribeContactRequest{Phone: ch.phone, Name: ch.name, Tags: ch.tags, Notes: ch.notes, ContactFields: ch.fields}
		if _, _, err := c.SubscribeContact(ctx, r); err != nil {
			return wrapf(err, "%s", contactActionOp)
		}
		return nil
	}
	u, changed := contactUpdate(ct, ch)
	if !changed {
		return nil
	}
	if _, _, err := c.UpdateContact(ctx, u); err != nil {
		return wrapf(err, "%s", contactActionOp)
	}
	return nil
}

// contactByPhone returns the contact whose phone is phone, or nil.
func contactByPhone(ctx context.Context, c *Client, phone string) (*Contact, error) {
	want := digits(phone)
	// The digits alone: a "+" reaches some Sendbee clients' servers as a
	// space, since the search query is not always encoded.
	p, _, err := c.Contacts(ctx, ContactsOptions{SearchQuery: want, Limit: MaxLimit})
	if err != nil {
		return nil, wrapf(err, "%s: find the contact", contactActionOp)
	}
	for i, ct := range p.Items {
		if digits(ct.Phone) == want {
			return &p.Items[i], nil
		}
	}
	return nil, nil
}

// contactUpdate returns the update that brings ct to ch, and whether
// anything changes.
func contactUpdate(ct *Contact, ch contactChange) (UpdateContactRequest, bool) {
	u := UpdateContactRequest{ID: ct.ID}
	changed := false
	if ch.name != "" && ch.name != ct.Name {
		u.Name, changed = ch.name, true
	}
	tags := make([]string, 0, len(ct.Tags)+len(ch.tags))
	for _, t := range ct.Tags {
		tags = append(tags, t.Name)
	}
	addTags := false
	for _, t := range ch.tags {
		if !slices.ContainsFunc(tags, func(have string) bool { return strings.EqualFold(have, t) }) {
			tags, addTags = append(tags, t), true
		}
	}
	if addTags {
		// The whole list: whether PUT /contacts adds or replaces tags is
		// not documented, and the whole list is right either way.
		u.Tags, changed = tags, true
	}
	for _, n := range ch.notes {
		if !slices.ContainsFunc(ct.Notes, func(have ContactNote) bool { return noteRef(have.Value) != "" && noteRef(have.Value) == noteRef(n) }) {
			u.Notes, changed = append(u.Notes, n), true
		}
	}
	for name, v := range ch.fields {
		if !slices.ContainsFunc(ct.ContactFields, func(have ContactFieldValue) bool { return have.Key == name && have.Value == v }) {
			if u.ContactFields == nil {
				u.ContactFields = map[string]string{}
			}
			u.ContactFields[name], changed = v, true
		}
	}
	return u, changed
}

// readContactChange checks the call's arguments.
func readContactChange(call flow.ActionCall) (contactChange, error) {
	var ch contactChange
	for k := range call.Args {
		if !slices.Contains(contactActionArgs, k) {
			return ch, invalid(contactActionOp, "args."+k, "is not an argument of this action (it takes "+strings.Join(contactActionArgs, ", ")+")")
		}
	}
	var err error
	if ch.phone, err = argString(call.Args, "phone"); err != nil {
		return ch, err
	}
	if ch.phone == "" {
		ch.phone = strings.TrimSpace(call.Contact.Phone)
	}
	if ch.name, err = argString(call.Args, "name"); err != nil {
		return ch, err
	}
	if _, ok := call.Args["name"]; !ok {
		if s, ok := call.Values["name"].(string); ok {
			ch.name = strings.TrimSpace(s)
		}
	}
	if ch.tags, err = argList(call.Args, "tags"); err != nil {
		return ch, err
	}
	note, err := argString(call.Args, "note")
	if err != nil {
		return ch, err
	}
	notes, err := argList(call.Args, "notes")
	if err != nil {
		return ch, err
	}
	if note != "" {
		notes = append([]string{note}, notes...)
	}
	for i, n := range notes {
		if call.Key != "" {
			n += " [ref " + refOf(call.Key, i) + "]"
		}
		ch.notes = append(ch.notes, n)
	}
	if ch.fields, err = argFields(call.Args["fields"]); err != nil {
		return ch, err
	}
	names, err := argList(call.Args, "values")
	if err != nil {
		return ch, err
	}
	for _, name := range names {
		v, ok := call.Values[name]
		if !ok {
			continue
		}
		s, err := fieldText(v)
		if err != nil {
			return ch, invalid(contactActionOp, "values."+name, err.Error())
		}
		if ch.fields == nil {
			ch.fields = map[string]string{}
		}
		if _, set := ch.fields[name]; !set {
			ch.fields[name] = s
		}
	}
	return ch, nil
}

// argString returns the string argument name, trimmed; "" when absent
// (see actionargs.String).
func argString(args map[string]any, name string) (string, error) {
	s, p := actionargs.String(args, name)
	if p != nil {
		return "", invalid(contactActionOp, "args."+p.Arg, p.Text)
	}
	return s, nil
}

// argList returns the list argument name (see actionargs.List).
func argList(args map[string]any, name string) ([]string, error) {
	l, p := actionargs.List(args, name)
	if p != nil {
		return nil, invalid(contactActionOp, "args."+p.Arg, p.Text)
	}
	return l, nil
}

// argFields checks the fields argument.
func argFields(v any) (map[string]string, error) {
	var in map[string]any
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		in = m
	case map[string]string:
		in = make(map[string]any, len(m))
		for k, s := range m {
			in[k] = s
		}
	default:
		return nil, invalid(contactActionOp, "args.fields", fmt.Sprintf("must be a map of field names to values, not %T", v))
	}
	out := make(map[string]string, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		if strings.TrimSpace(name) == "" {
			return nil, invalid(contactActionOp, "args.fields", "has a blank field name")
		}
		s, err := fieldText(in[name])
		if err != nil {
			return nil, invalid(contactActionOp, "args.fields."+name, err.Error())
		}
		out[name] = s
	}
	return out, nil
}

// fieldText writes a contact field value as Sendbee takes it: text.
func fieldText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		return x.Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("must be a string, number, boolean or time, not %T", v)
}

// refOf returns the reference of the i-th note of the call with key.
func refOf(key string, i int) string {
	sum := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(i)))
	return hex.EncodeToString(sum[:6])
}

// noteRef returns the reference at the end of a note, or "".
func noteRef(note string) string {
	rest, ok := strings.CutSuffix(strings.TrimSpace(note), "]")
	if !ok {
		return ""
	}
	i := strings.LastIndex(rest, " [ref ")
	if i < 0 {
		return ""
	}
	return rest[i+len(" [ref "):]
}

// digits returns the digits of a phone number.
func digits(p string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, p)
}
