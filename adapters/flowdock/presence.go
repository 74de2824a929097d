package flowdock

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// A Color is the colour of an item thread's [Status]. Only the ten
// constants below are accepted by Flowdock; [NewStatus] checks.
type Color string

// The supported status colours.
const (
	ColorBlack  Color = "black"
	ColorBlue   Color = "blue"
	ColorCyan   Color = "cyan"
	ColorGreen  Color = "green"
	ColorGrey   Color = "grey"
	ColorLime   Color = "lime"
	ColorOrange Color = "orange"
	ColorPurple Color = "purple"
	ColorRed    Color = "red"
	ColorYellow Color = "yellow"
)

var statusColors = []Color{
	ColorBlack, ColorBlue, ColorCyan, ColorGreen, ColorGrey,
	ColorLime, ColorOrange, ColorPurple, ColorRed, ColorYellow,
}

// StatusColors returns the ten supported status colours in alphabetical
// order. The slice is the caller's.
func StatusColors() []Color { return slices.Clone(statusColors) }

// Valid reports whether c is one of the supported status colours.
func (c Color) Valid() bool { return slices.Contains(statusColors, c) }

// colorList renders the supported colours as "black, blue, …, yellow".
func colorList() string {
	names := make([]string, len(statusColors))
	for i, c := range statusColors {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// NewStatus returns the status label value in colour color, for
// [WithStatus]. An unsupported colour is a *ValidationError whose message
// lists the ten supported colours; a blank value is one too.
func NewStatus(color Color, value string) (Status, error) {
	s := Status{Color: color, Value: value}
	if err := checkStatus("new status", s); err != nil {
		return Status{}, err
	}
	return s, nil
}

// checkStatus checks a status' colour and value.
func checkStatus(op string, s Status) error {
	if !s.Color.Valid() {
		return invalid(op, "color", strconv.Quote(string(s.Color))+" is not supported; supported colors are: "+colorList())
	}
	if strings.TrimSpace(s.Value) == "" {
		return invalid(op, "value", "is required")
	}
	return nil
}

// NewAuthor returns the external-service user behind an activity or a
// discussion: a display name (required) and an optional avatar URL.
// Set Email on the result if you have one.
func NewAuthor(name, avatar string) Author { return Author{Name: name, Avatar: avatar} }

// NewField returns a label/value row of an item thread; value may
// contain <a> links.
func NewField(label, value string) Field { return Field{Label: label, Value: value} }

// A ThreadOption sets an optional part of a [NewThread].
type ThreadOption func(*Thread)

// WithBody sets the item's description, in HTML.
func WithBody(html string) ThreadOption { return func(t *Thread) { t.Body = html } }

// WithExternalURL sets the item's URL in the external service. Set it on
// every post: it is how [Client.ListThreads] results are matched to items.
func WithExternalURL(u string) ThreadOption { return func(t *Thread) { t.ExternalURL = u } }

// WithFields appends label/value rows (see [NewField]).
func WithFields(fields ...Field) ThreadOption {
	return func(t *Thread) { t.Fields = append(t.Fields, fields...) }
}

// WithStatus sets the coloured status label (see [NewStatus]).
func WithStatus(s Status) ThreadOption { return func(t *Thread) { t.Status = &s } }

// WithActions appends actions (see [ViewAction], [UpdateAction]).
func WithActions(actions ...Action) ThreadOption {
	return func(t *Thread) { t.Actions = append(t.Actions, actions...) }
}

// NewThread returns the state of an external item to present with an
// [Activity] or a [Discussion]: its title (required, may contain <a>) and
// the optional parts set by opts. The thread is checked when posted.
func NewThread(title string, opts ...ThreadOption) *Thread {
	t := &Thread{Title: title}
	for _, o := range opts {
		o(t)
	}
	return t
}

// ViewAction returns a schema.org "ViewAction": a link named name to url.
func ViewAction(name, url string) Action {
	return Action{"@type": "ViewAction", "name": name, "url": url}
}

// UpdateAction returns a schema.org "UpdateAction": a button named name on
// which Flowdock sends an httpMethod request to urlTemplate, signed with a
// FLOWDOCK-TOKEN header (a JWT signed with the OAuth client secret). It
// does not work when the URL is on a private network; use a [ViewAction]
// there.
func UpdateAction(name, urlTemplate, httpMethod string) Action {
	return Action{
		"@type": "UpdateAction",
		"name":  name,
		"target": map[string]any{
			"@type":       "EntryPoint",
			"urlTemplate": urlTemplate,
			"httpMethod":  httpMethod,
		},
	}
}

// An Activity presents something that happened to an external item
// (created, updated, closed…) in the flow's inbox, with [Client.PostActivity].
type Activity struct {
	// ExternalThreadID is the item's own key in the external service,
	// unique per integration; Flowdock creates the item's thread the
	// first time. Required unless ThreadID is set.
	ExternalThreadID string
	// ThreadID posts into an existing Flowdock thread instead.
	ThreadID string
	// Author is the external user who acted; Name is required.
	Author Author
	// Title describes the activity as a verb phrase ("updated ticket");
	// required, may contain <a>.
	Title string
	// Thread is the item's latest full state. It may be nil for an item
	// presented before whose state did not change. An item never
	// presented with a thread does not show up in Flowdock.
	Thread *Thread
	// Tags are added to the message.
	Tags []string
	// UUID is the client-made id of the post; empty means a fresh
	// [NewUUID]. The returned Message carries the one sent.
	UUID string
}

// A Discussion presents a comment made on an external item, with
// [Client.PostDiscussion]. Its fields are those of an [Activity] plus Body.
type Discussion struct {
	ExternalThreadID string
	ThreadID         string
	Author           Author
	// Title describes the discussion itself, such as "commented".
	Title string
	// Body is the comment, in HTML; required.
	Body   string
	Thread *Thread
	Tags   []string
	UUID   string
}

// itemBody is the JSON body of an activity or discussion post.
type itemBody struct {
	Event            string      `json:"event"`
	ExternalThreadID string      `json:"external_thread_id,omitempty"`
	ThreadID         string      `json:"thread_id,omitempty"`
	Author           Author      `json:"author"`
	Title            string      `json:"title"`
	Body             string      `json:"body,omitempty"`
	Thread           *threadBody `json:"thread,omitempty"`
	Tags             []string    `json:"tags,omitempty"`
	UUID             string      `json:"uuid"`
}

// threadBody is the postable part of a Thread.
type threadBody struct {
	Title       string   `json:"title"`
	Body        string   `json:"body,omitempty"`
	ExternalURL string   `json:"external_url,omitempty"`
	Status      *Status  `json:"status,omitempty"`
	Fields      []Field  `json:"fields,omitempty"`
	Actions     []Action `json:"actions,omitempty"`
}

// PostActivity presents an activity on an external item with the flow
// token: POST /messages {flow_token, event: "activity", external_thread_id,
// author, title, thread, uuid}, without Basic authentication.
//
// Flowdock answers 202 {} and returns no message id: the returned Message
// is what was sent, with UUID set. To find it later, list the flow's
// threads and match Thread.ExternalURL, then list that thread's activity
// messages, or use [Client.MessageByUUID] (both need the personal token).
// A 410 Gone means the integration was removed: stop posting.
func (c *Client) PostActivity(ctx context.Context, a Activity) (*Message, *Response, error) {
	return c.postItem(ctx, "post activity", EventActivity, a.ExternalThreadID, a.ThreadID, a.Author, a.Title, "", a.Thread, a.Tags, a.UUID)
}

// PostDiscussion presents a comment on an external item with the flow
// token: as [Client.PostActivity], with event "discussion" and the body.
func (c *Client) PostDiscussion(ctx context.Context, d Discussion) (*Message, *Response, error) {
	const op = "post discussion"
	if strings.TrimSpace(d.Body) == "" {
		return nil, nil, invalid(op, "body", "is required")
	}
	return c.postItem(ctx, op, EventDiscussion, d.ExternalThreadID, d.ThreadID, d.Author, d.Title, d.Body, d.Thread, d.Tags, d.UUID)
}

// postItem checks and posts an activity or a discussion.
func (c *Client) postItem(ctx context.Context, op, event, extID, threadID string, author Author, title, body string, t *Thread, tags []string, uuid string) (*Message, *Response, error) {
	if err := c.need(op, authFlow); err != nil {
		return nil, nil, err
	}
	switch {
	case strings.TrimSpace(extID) == "" && strings.TrimSpace(threadID) == "":
		return nil, nil, invalid(op, "external_thread_id", "or thread_id is required")
	case extID != "" && threadID != "":
		return nil, nil, invalid(op, "external_thread_id", "and thread_id are exclusive")
	case strings.TrimSpace(author.Name) == "":
		return nil, nil, invalid(op, "author.name", "is required")
	case strings.TrimSpace(title) == "":
		return nil, nil, invalid(op, "title", "is required")
	}
	tb, err := checkThread(op, t)
	if err != nil {
		return nil, nil, err
	}
	if err := checkTags(op, tags, false); err != nil {
		return nil, nil, err
	}
	uuid, err = checkUUID(op, uuid)
	if err != nil {
		return nil, nil, err
	}
	b := itemBody{
		Event:            event,
		ExternalThreadID: extID,
		ThreadID:         threadID,
		Author:           author,
		Title:            title,
		Body:             body,
		Thread:           tb,
		Tags:             tags,
		UUID:             uuid,
	}
	local := Message{Event: event, ThreadID: threadID, Title: title, Body: body, Author: &author, Tags: tags, UUID: uuid}
	if t != nil {
		tc := *t
		local.Thread = &tc
	}
	return c.postMessage(ctx, op, request{method: http.MethodPost, path: "/messages", json: b, auth: authFlow}, local)
}

// checkThread checks a thread to post and returns its wire form; nil
// stays nil.
func checkThread(op string, t *Thread) (*threadBody, error) {
	if t == nil {
		return nil, nil
	}
	if strings.TrimSpace(t.Title) == "" {
		return nil, invalid(op, "thread.title", "is required")
	}
	if t.Status != nil {
		if err := checkStatus(op, *t.Status); err != nil {
			ve := err.(*ValidationError)
			ve.Field = "thread.status." + ve.Field
			return nil, ve
		}
	}
	for i, f := range t.Fields {
		if strings.TrimSpace(f.Label) == "" {
			return nil, invalid(op, "thread.fields["+strconv.Itoa(i)+"].label", "is required")
		}
	}
	for i, a := range t.Actions {
		if typ, _ := a["@type"].(string); strings.TrimSpace(typ) == "" {
			return nil, invalid(op, "thread.actions["+strconv.Itoa(i)+"]", `needs an "@type"`)
		}
	}
	return &threadBody{
		Title:       t.Title,
		Body:        t.Body,
		ExternalURL: t.ExternalURL,
		Status:      t.Status,
		Fields:      t.Fields,
		Actions:     t.Actions,
	}, nil
}

// An IntegrationMessage is a chat message posted with the flow token by
// [Client.PostMessage]. ExternalUserName shows the sender's name.
type IntegrationMessage struct {
	NewMessage
	// ExternalThreadID posts into the thread of an item presented by the
	// integration (instead of ThreadID).
	ExternalThreadID string
}

// PostMessage posts a chat message into the flow token's flow, as the
// integration: POST /messages {flow_token, event: "message", content,
// tags, thread_id or external_thread_id, external_user_name, uuid},
// without Basic authentication. The answer and the returned Message are
// as for [Client.PostActivity] (202, no id).
func (c *Client) PostMessage(ctx context.Context, m IntegrationMessage) (*Message, *Response, error) {
	const op = "post message"
	if err := c.need(op, authFlow); err != nil {
		return nil, nil, err
	}
	if m.ThreadID != "" && m.ExternalThreadID != "" {
		return nil, nil, invalid(op, "external_thread_id", "and thread_id are exclusive")
	}
	if m.ExternalThreadID != "" && strings.TrimSpace(m.ExternalThreadID) == "" {
		return nil, nil, invalid(op, "external_thread_id", "must not be blank")
	}
	body, err := m.body(op, false)
	if err != nil {
		return nil, nil, err
	}
	body.ExternalThreadID = m.ExternalThreadID
	return c.postMessage(ctx, op, request{method: http.MethodPost, path: "/messages", json: body, auth: authFlow}, body.local())
}
