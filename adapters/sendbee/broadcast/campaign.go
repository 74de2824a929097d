package broadcast

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley/adapters/sendbee"
)

// MaxNameLength is the longest campaign name, in characters.
const MaxNameLength = 100

// A Campaign is a proactive broadcast: one approved WhatsApp template sent
// to every contact of a segment, its placeholders filled per contact. It
// is plain data; [Run] and [DryRun] do not modify it.
type Campaign struct {
	// Name identifies the campaign: running a campaign of the same name
	// again resumes it, sending only to the contacts it has not reached.
	// Required; at most MaxNameLength printable characters.
	Name string
	// Template is the template's keyword. Required.
	Template string
	// Language is the template's language code, such as "en". Required.
	Language string
	// Segment selects the contacts.
	Segment Segment
	// Fill gives, for each of the template's body placeholders (its tags,
	// such as "1" for "{{1}}"), where the value comes from:
	//
	//	"name"           the contact's name
	//	"phone"          the contact's phone number
	//	"field:<name>"   the contact's value of a contact field, such as "field:city"
	//	"text:<text>"    the text as it is (for a text that starts with one of these words)
	//	anything else    the text as it is, such as "20%"
	//
	// Every placeholder needs a source and every key must be a
	// placeholder. A contact whose value is empty (no name, no value of
	// the field) is skipped and reported.
	Fill map[string]string
	// FillFunc, when set, computes the body placeholders' values for each
	// contact instead of Fill (which must then be empty). An error skips
	// the contact, with the error as the reason; keys that are not the
	// template's placeholders fail the contact. It is called from Run's
	// goroutine, one contact at a time.
	FillFunc func(c sendbee.Contact) (map[string]string, error)
	// ButtonFill is Fill for the placeholders of the template's dynamic
	// button URLs (its button tags).
	ButtonFill map[string]string
	// Attachment is the http(s) URL of the media of a template that takes
	// one (an image, video or document template); empty otherwise.
	Attachment string
	// PreventBotOff sends prevent_bot_off: true, which leaves each
	// conversation's platform chatbot as it is. Without it Sendbee switches
	// the chatbot off in every conversation the campaign reaches, and the
	// customers' answers go to agents.
	PreventBotOff bool
}

// A Segment selects contacts. Tags, Status and Search are Sendbee's own
// filters of GET /contacts and are combined as the API combines them (a
// contact with any of the Tags, and the Status, and matching Search);
// Phones keeps, of those, the contacts with these numbers, in the order
// given. A phone number of Phones without a contact is still sent to
// (the send creates the contact), with an empty name and no fields.
//
// A Segment needs at least one criterion: Status
// [sendbee.ContactSubscribed] alone selects every subscribed contact.
type Segment struct {
	Tags   []string
	Status sendbee.ContactStatus
	Search string
	Phones []string
}

// String describes the segment, such as "tags lead, VIP; status subscribed".
func (s Segment) String() string {
	var parts []string
	if len(s.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(s.Tags, ", "))
	}
	if s.Status != "" {
		parts = append(parts, "status "+string(s.Status))
	}
	if s.Search != "" {
		parts = append(parts, fmt.Sprintf("search %q", s.Search))
	}
	if len(s.Phones) > 0 {
		parts = append(parts, fmt.Sprintf("%d phone numbers", len(s.Phones)))
	}
	if len(parts) == 0 {
		return "no criteria"
	}
	return strings.Join(parts, "; ")
}

func (s Segment) empty() bool {
	return len(s.Tags) == 0 && s.Status == "" && s.Search == "" && len(s.Phones) == 0
}

// sourceKind is where a placeholder's value comes from.
type sourceKind int

const (
	fromText sourceKind = iota
	fromName
	fromPhone
	fromField
)

type source struct {
	kind sourceKind
	arg  string // the field name, or the text
}

func (s source) String() string {
	switch s.kind {
	case fromName:
		return "name"
	case fromPhone:
		return "phone"
	case fromField:
		return "field:" + s.arg
	}
	return fmt.Sprintf("text %q", s.arg)
}

// parseSource reads one Fill value.
func parseSource(v string) (source, error) {
	switch {
	case v == "name":
		return source{kind: fromName}, nil
	case v == "phone":
		return source{kind: fromPhone}, nil
	case strings.HasPrefix(v, "field:"):
		name := strings.TrimSpace(strings.TrimPrefix(v, "field:"))
		if name == "" {
			return source{}, fmt.Errorf("%q names no contact field", v)
		}
		return source{kind: fromField, arg: name}, nil
	case strings.HasPrefix(v, "text:"):
		v = strings.TrimPrefix(v, "text:")
	}
	if strings.TrimSpace(v) == "" {
		return source{}, fmt.Errorf("the text is empty")
	}
	return source{kind: fromText, arg: v}, nil
}

// value returns the source's value for c, "" when c has none.
func (s source) value(c sendbee.Contact) string {
	switch s.kind {
	case fromName:
		return strings.TrimSpace(c.Name)
	case fromPhone:
		return c.Phone
	case fromField:
		for _, f := range c.ContactFields {
			if f.Key == s.arg {
				return strings.TrimSpace(f.Value)
			}
		}
		for _, f := range c.ContactFields {
			if strings.EqualFold(f.Key, s.arg) {
				return strings.TrimSpace(f.Value)
			}
		}
		return ""
	}
	return s.arg
}

// filler is a checked Fill: its sources in placeholder order.
type filler struct {
	keys    []string
	sources []source
}

// values returns the placeholders' values for c, or the reason c cannot
// be sent the template.
func (f filler) values(c sendbee.Contact) (map[string]string, string) {
	out := make(map[string]string, len(f.keys))
	for i, k := range f.keys {
		v := f.sources[i].value(c)
		if v == "" {
			return nil, fmt.Sprintf("no value for {{%s}} (%s)", k, f.sources[i])
		}
		out[k] = v
	}
	return out, ""
}

// checkStatic validates what can be checked without the platform.
func (c *Campaign) checkStatic() error {
	name := strings.TrimSpace(c.Name)
	switch {
	case name == "":
		return &InputError{Field: "Name", Problem: "is required (it identifies the campaign when it is resumed)"}
	case utf8.RuneCountInString(c.Name) > MaxNameLength:
		return &InputError{Field: "Name", Problem: fmt.Sprintf("is longer than %d characters", MaxNameLength)}
	case strings.IndexFunc(c.Name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return &InputError{Field: "Name", Problem: "has characters that are not printable"}
	case strings.TrimSpace(c.Template) == "":
		return &InputError{Field: "Template", Problem: "is required (the template's keyword)"}
	case strings.TrimSpace(c.Language) == "":
		return &InputError{Field: "Language", Problem: "is required (the template's language code, such as en)"}
	case c.FillFunc != nil && len(c.Fill) > 0:
		return &InputError{Field: "Fill", Problem: "must be empty when FillFunc is set"}
	case c.Segment.empty():
		return &SegmentError{Segment: c.Segment, Empty: true}
	}
	switch c.Segment.Status {
	case "", sendbee.ContactSubscribed, sendbee.ContactUnsubscribed:
	default:
		return &InputError{Field: "Segment.Status", Problem: fmt.Sprintf("must be subscribed or unsubscribed, not %q", c.Segment.Status)}
	}
	for _, t := range c.Segment.Tags {
		if strings.TrimSpace(t) == "" {
			return &InputError{Field: "Segment.Tags", Problem: "has an empty tag"}
		}
	}
	if c.Attachment != "" && !strings.HasPrefix(c.Attachment, "http://") && !strings.HasPrefix(c.Attachment, "https://") {
		return &InputError{Field: "Attachment", Problem: "must be an http or https URL"}
	}
	for i, p := range c.Segment.Phones {
		if _, ok := normalizePhone(p); !ok {
			return &PhoneError{Index: i, Phone: p}
		}
	}
	return nil
}

// checkFill checks fill against the template's placeholders want.
func checkFill(fill map[string]string, want []string, buttons bool) (filler, error) {
	var missing, unknown []string
	for _, k := range want {
		if _, ok := fill[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range fill {
		if !slices.Contains(want, k) {
			unknown = append(unknown, k)
		}
	}
	if len(missing) > 0 || len(unknown) > 0 {
		slices.Sort(unknown)
		return filler{}, &FillError{Buttons: buttons, Missing: missing, Unknown: unknown, Template: want}
	}
	f := filler{keys: want, sources: make([]source, len(want))}
	for i, k := range want {
		s, err := parseSource(fill[k])
		if err != nil {
			field := "Fill"
			if buttons {
				field = "ButtonFill"
			}
			return filler{}, &InputError{Field: field, Problem: fmt.Sprintf("{{%s}}: %v", k, err)}
		}
		f.sources[i] = s
	}
	return f, nil
}

// tagNames returns the names of a template's placeholders.
func tagNames(tags []sendbee.TemplateTag) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, t.Name)
	}
	return out
}

// render fills the template's text as the platform shows it: each
// "{{name}}" replaced by its value.
func render(text string, values map[string]string) string {
	for k, v := range values {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	return text
}

// normalizePhone removes spaces, dashes, dots and parentheses from p and
// reports whether the rest is an international number: "+" and 7 to 15
// digits, the first not 0.
func normalizePhone(p string) (string, bool) {
	p = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(strings.TrimSpace(p))
	digits, ok := strings.CutPrefix(p, "+")
	if !ok || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	return p, true
}
