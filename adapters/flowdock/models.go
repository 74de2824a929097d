package flowdock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ptr returns a pointer to v, for the optional fields of request structs
// such as [MessageUpdate.Content], where nil means "not sent".
func Ptr[T any](v T) *T { return &v }

// An ID is a user id as messages carry it: a string such as "1305" since
// 2014, a number before (Flowdock's changelog of 2014-01-14). Both decode
// into an ID, and null into "". "0" means no authenticated user: an
// integration (flow token) or an anonymous post. It encodes as a JSON
// string.
type ID string

// UnmarshalJSON implements [json.Unmarshaler].
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*id = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("flowdock: user id %s is neither a string nor a number", b)
		}
		*id = ID(n.String())
	}
	return nil
}

// Int64 returns the id as a number, as user objects and private chats use
// it. It fails for "" and for a non-numeric id.
func (id ID) Int64() (int64, error) {
	n, err := strconv.ParseInt(string(id), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("flowdock: user id %q is not a number", string(id))
	}
	return n, nil
}

// A Timestamp is a time sent by the API: an ISO-8601 string such as
// "2020-09-13T12:26:41.000Z" (created_at, updated_at), or a number of
// milliseconds since the epoch. null and "" leave it zero, and a value in
// another format keeps a zero Time and only Raw, so that one odd field
// never fails a whole answer. It encodes as RFC 3339 with milliseconds in
// UTC, or null when zero.
type Timestamp struct {
	time.Time
	// Raw is the value as sent: the string's contents, or the number's
	// JSON text. It is empty for null.
	Raw string
}

// UnmarshalJSON implements [json.Unmarshaler].
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*t = Timestamp{}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] != '"' {
		t.Raw = string(b)
		if ms, err := strconv.ParseFloat(t.Raw, 64); err == nil {
			t.Time = time.UnixMilli(int64(ms)).UTC()
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t.Raw = s
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if tt, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time = tt.UTC()
	}
	return nil
}

// timeLayout is how Flowdock writes times: RFC 3339, milliseconds, UTC.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON implements [json.Marshaler].
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(timeLayout))
}

// A User is a Flowdock user (GET /user, /users, a flow's users). Fields a
// call does not return are zero: the flow-specific ones (Status, Disabled,
// InFlow, LastActivity, LastPing) come only in a flow's user list, Admin
// only in an organization's.
type User struct {
	ID int64 `json:"id"`
	// Nick is the display name ("Display name" in the profile), used for
	// @mentions; Name is the full name.
	Nick    string `json:"nick"`
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Avatar  string `json:"avatar,omitempty"`
	Website string `json:"website,omitempty"`
	// Status is the user's status text in the flow, empty when null.
	Status   string `json:"status,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
	// InFlow is false for a user who left the flow but is still listed.
	InFlow bool `json:"in_flow,omitempty"`
	// LastActivity and LastPing are as sent; the docs' sample looks like
	// microseconds, real clients read milliseconds; the unit is uncertain.
	LastActivity int64 `json:"last_activity,omitempty"`
	LastPing     int64 `json:"last_ping,omitempty"`
	Admin        bool  `json:"admin,omitempty"`
}

// An Organization is the organization a flow belongs to.
type Organization struct {
	ID int64 `json:"id"`
	// ParameterizedName is the URL name used in /flows/:org/:flow.
	ParameterizedName string `json:"parameterized_name"`
	Name              string `json:"name"`
	UserLimit         int    `json:"user_limit"`
	UserCount         int    `json:"user_count"`
	Active            bool   `json:"active"`
	URL               string `json:"url"`
}

// A Flow is a Flowdock flow (GET /flows, /flows/:org/:flow).
type Flow struct {
	// ID is an opaque string (older flows: "org:flow"). Streams and
	// messages name flows by it; URLs use the parameterized names.
	ID   string `json:"id"`
	Name string `json:"name"`
	// ParameterizedName is the URL name of the flow.
	ParameterizedName string       `json:"parameterized_name"`
	Organization      Organization `json:"organization"`
	UnreadMentions    int          `json:"unread_mentions"`
	// Open reports whether the flow is shown as a tab; Joined whether
	// the user is a member. A bot listens to flows that are both.
	Open       bool   `json:"open"`
	Joined     bool   `json:"joined"`
	URL        string `json:"url"`
	WebURL     string `json:"web_url"`
	JoinURL    string `json:"join_url,omitempty"`
	AccessMode string `json:"access_mode"` // invitation, link or organization
	// Users are the flow's users; present on GET /flows/:org/:flow and
	// with FlowsOptions.Users.
	Users []User `json:"users,omitempty"`
	// Links lists the flow's API resources, as sent.
	Links json.RawMessage `json:"links,omitempty"`
}

// Chat returns the flow as a [Chat] for the message methods.
func (f *Flow) Chat() Chat {
	return FlowChat(f.Organization.ParameterizedName, f.ParameterizedName)
}

// A PrivateConversation is a one-to-one chat with another user, named by
// that user's id (GET /private).
type PrivateConversation struct {
	// ID is the other user's id.
	ID   ID     `json:"id"`
	URL  string `json:"url"`
	Name string `json:"name"` // "@Nick" of the other user
	Open bool   `json:"open"`
	// Activity holds unread counters.
	Activity struct {
		Inbox    bool `json:"inbox"`
		Mentions int  `json:"mentions"`
		Chat     bool `json:"chat"`
	} `json:"activity"`
	Users []User `json:"users"`
}

// Chat returns the conversation as a [Chat] for the message methods.
func (p *PrivateConversation) Chat() (Chat, error) {
	id, err := p.ID.Int64()
	if err != nil {
		return Chat{}, err
	}
	return PrivateChat(id), nil
}

// A Thread is a Flowdock thread: the conversation started by a chat
// message, or the item an integration presents. When posting an [Activity]
// or a [Discussion], only Title, Body, ExternalURL, Status, Fields and
// Actions are sent; build one with [NewThread].
type Thread struct {
	ID    string `json:"id,omitempty"`
	Title string `json:"title"`
	// Body is HTML.
	Body        string  `json:"body,omitempty"`
	ExternalURL string  `json:"external_url,omitempty"`
	Status      *Status `json:"status,omitempty"`
	Fields      []Field `json:"fields,omitempty"`
	// Actions are schema.org actions; see [ViewAction] and [UpdateAction].
	Actions []Action `json:"actions,omitempty"`
	// Source is the integration source as sent; its shape differs between
	// the docs (application is a string) and real payloads (application
	// is an object {id, name, …}).
	Source json.RawMessage `json:"source,omitempty"`
	// Activities counts activity messages, InternalComments chat
	// messages and ExternalComments discussion messages.
	Activities       int `json:"activities,omitempty"`
	InternalComments int `json:"internal_comments,omitempty"`
	ExternalComments int `json:"external_comments,omitempty"`
	// InitialMessage is the id of the thread's first message.
	InitialMessage int64     `json:"initial_message,omitempty"`
	Flow           string    `json:"flow,omitempty"`
	CreatedAt      Timestamp `json:"created_at,omitzero"`
	UpdatedAt      Timestamp `json:"updated_at,omitzero"`
}

// A Status is the coloured status label of an item thread. Build one with
// [NewStatus], which checks the colour.
type Status struct {
	Color Color  `json:"color"`
	Value string `json:"value"`
}

// A Field is a label/value row of an item thread; Value may contain <a>
// links.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// An Action is a schema.org action of an item thread, such as a
// "ViewAction" or an "UpdateAction", kept as a JSON object because its
// shape is open. "@type" is required. [ViewAction] and [UpdateAction]
// build the two documented kinds.
type Action map[string]any

// An Author is the external-service user behind an [Activity] or a
// [Discussion]. Name is required.
type Author struct {
	Name   string `json:"name"`
	Avatar string `json:"avatar,omitempty"`
	Email  string `json:"email,omitempty"`
}

// A File is an uploaded file: the content of a "file" message and each
// of a message's attachments.
type File struct {
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	FileSize    int64  `json:"file_size"`
	// Path is the API path to pass to [Client.DownloadFile], such as
	// "/files/7/ab12cd/log.txt".
	Path      string     `json:"path"`
	ContentID string     `json:"content_id,omitempty"`
	Image     *ImageSize `json:"image,omitempty"`
	Thumbnail *Thumbnail `json:"thumbnail,omitempty"`
}

// ImageSize is the size of an image attachment.
type ImageSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// A Thumbnail is the preview of an image attachment.
type Thumbnail struct {
	Path   string `json:"path"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Event types of messages (the "event" field). Clients must ignore event
// types they do not know, as Flowdock's documentation requires.
const (
	EventMessage     = "message"
	EventStatus      = "status"
	EventComment     = "comment"
	EventAction      = "action"
	EventFile        = "file"
	EventActivity    = "activity"
	EventDiscussion  = "discussion"
	EventTagChange   = "tag-change"
	EventMessageEdit = "message-edit"
	EventLine        = "line"
)

// A Message is a Flowdock message or event: a chat message, a file, an
// integration activity or discussion, an edit or tag change, and so on.
// Content depends on Event and is kept as sent; read it with [Message.Text],
// [Message.File], [Message.Comment], [Message.Edit], [Message.TagChange]
// or [Message.Action].
type Message struct {
	// ID is unique within the flow or private chat; zero for events that
	// have none, and for a send the API accepted without returning it.
	ID    int64  `json:"id,omitempty"`
	Event string `json:"event"`
	// Content is a string for message/status/line, an object for
	// file/comment/action/tag-change/message-edit, null for
	// activity/discussion.
	Content json.RawMessage `json:"content,omitempty"`
	Tags    []string        `json:"tags"`
	// User is the sender; "0" for integrations and anonymous posts.
	User ID `json:"user"`
	// Flow is the flow id; empty in private chats.
	Flow string `json:"flow,omitempty"`
	// To is the recipient of a private message; empty in flows.
	To       ID      `json:"to,omitempty"`
	ThreadID string  `json:"thread_id,omitempty"`
	Thread   *Thread `json:"thread,omitempty"`
	// UUID is the client-made id of the send (empty when null).
	UUID string `json:"uuid,omitempty"`
	// Sent is the time in milliseconds since the epoch; see
	// [Message.SentAt].
	Sent      int64     `json:"sent,omitempty"`
	CreatedAt Timestamp `json:"created_at,omitzero"`
	// App is "chat", "influx" (integrations) or empty (null).
	App         string `json:"app,omitempty"`
	Attachments []File `json:"attachments,omitempty"`
	// ExternalUserName is the name shown for an anonymous chat message.
	ExternalUserName string `json:"external_user_name,omitempty"`
	// Title, Body (HTML), FullBody and Author are set on activity and
	// discussion events.
	Title    string  `json:"title,omitempty"`
	Body     string  `json:"body,omitempty"`
	FullBody string  `json:"full_body,omitempty"`
	Author   *Author `json:"author,omitempty"`
	// Edited is as sent (null in samples); EditedAt is when the message
	// was last edited, when the API says.
	Edited   json.RawMessage `json:"edited,omitempty"`
	EditedAt Timestamp       `json:"edited_at,omitzero"`
}

// SentAt returns Sent as a time, or the zero time when Sent is zero.
func (m *Message) SentAt() time.Time {
	if m.Sent == 0 {
		return time.Time{}
	}
	return time.UnixMilli(m.Sent).UTC()
}

// IsPrivate reports whether the message belongs to a private chat: it has
// a recipient and no flow.
func (m *Message) IsPrivate() bool { return m.To != "" && m.Flow == "" }

// HasTag reports whether the message carries tag, compared without case
// as Flowdock does.
func (m *Message) HasTag(tag string) bool {
	for _, t := range m.Tags {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}

// Text returns the text of a chat message: the string content of a
// message, status or line event, or the text of a comment. It returns ""
// for other events (activity and discussion keep theirs in Title and Body).
func (m *Message) Text() string {
	if m.Event == EventComment {
		if c, err := m.Comment(); err == nil {
			return c.Text
		}
		return ""
	}
	var s string
	if json.Unmarshal(m.Content, &s) != nil {
		return ""
	}
	return s
}

// File returns the metadata of a "file" message's content.
func (m *Message) File() (*File, error) {
	var f File
	if err := m.decodeContent(EventFile, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// CommentContent is the content of a streamed or listed "comment": the
// parent's title and the comment's text.
type CommentContent struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Comment returns the content of a "comment" event. A comment posted as a
// plain string is returned as its Text.
func (m *Message) Comment() (*CommentContent, error) {
	var s string
	if m.Event == EventComment && json.Unmarshal(m.Content, &s) == nil {
		return &CommentContent{Text: s}, nil
	}
	var c CommentContent
	if err := m.decodeContent(EventComment, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// EditContent is the content of a "message-edit" event.
type EditContent struct {
	// Message is the id of the edited message.
	Message int64 `json:"message"`
	// UpdatedContent is the new content: a string, or for a comment an
	// object {title, text}.
	UpdatedContent json.RawMessage `json:"updated_content"`
}

// Text returns UpdatedContent when it is a string, or its "text" member
// for an edited comment.
func (e *EditContent) Text() string {
	var s string
	if json.Unmarshal(e.UpdatedContent, &s) == nil {
		return s
	}
	var c CommentContent
	if json.Unmarshal(e.UpdatedContent, &c) == nil {
		return c.Text
	}
	return ""
}

// Edit returns the content of a "message-edit" event.
func (m *Message) Edit() (*EditContent, error) {
	var e EditContent
	if err := m.decodeContent(EventMessageEdit, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// TagChangeContent is the content of a "tag-change" event.
type TagChangeContent struct {
	// Message is the id of the message whose tags changed.
	Message int64    `json:"message"`
	Add     []string `json:"add"`
	Remove  []string `json:"remove"`
}

// TagChange returns the content of a "tag-change" event.
func (m *Message) TagChange() (*TagChangeContent, error) {
	var t TagChangeContent
	if err := m.decodeContent(EventTagChange, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ActionContent is the content of an "action" event, such as a user
// joining the flow.
type ActionContent struct {
	// Type is add_people, join, block, invite, decline, uninvite,
	// add_rss_feed or remove_rss_feed.
	Type string `json:"type"`
	// Description depends on Type: a string, or an object such as
	// {"user": id} or {"email": "..."}.
	Description json.RawMessage `json:"description"`
}

// Action returns the content of an "action" event.
func (m *Message) Action() (*ActionContent, error) {
	var a ActionContent
	if err := m.decodeContent(EventAction, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// decodeContent decodes the content of an event of type want into v.
func (m *Message) decodeContent(want string, v any) error {
	if m.Event != want {
		return fmt.Errorf("flowdock: message %d is a %q event, not %q", m.ID, m.Event, want)
	}
	if len(bytes.TrimSpace(m.Content)) == 0 || string(bytes.TrimSpace(m.Content)) == "null" {
		return fmt.Errorf("flowdock: %s message %d has no content", want, m.ID)
	}
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("flowdock: %s message %d: decode content: %w", want, m.ID, err)
	}
	return nil
}
