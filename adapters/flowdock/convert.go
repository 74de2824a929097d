package flowdock

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
)

// streamEvent is one event of the streaming API: a message object whose
// content depends on the event type.
type streamEvent struct {
	Event    string          `json:"event"`
	ID       json.Number     `json:"id"`
	Flow     string          `json:"flow"`
	To       string          `json:"to"`
	User     json.RawMessage `json:"user"` // a string, sometimes a number
	UserID   json.RawMessage `json:"user_id"`
	Content  json.RawMessage `json:"content"`
	Tags     []string        `json:"tags"`
	UUID     string          `json:"uuid"`
	Sent     int64           `json:"sent"`
	ThreadID string          `json:"thread_id"`
	Title    string          `json:"title"`
	Body     string          `json:"body"`
	Author   *struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"author"`
	ExternalUserName string `json:"external_user_name"`
	Attachments      []struct {
		FileName    string `json:"file_name"`
		ContentType string `json:"content_type"`
		FileSize    int64  `json:"file_size"`
		Path        string `json:"path"`
	} `json:"attachments"`
}

// userString returns a JSON string-or-number user id as a string.
func userString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// errIgnored marks a well-formed event the bot does not handle: an unknown
// or internal type, presence, status lines, the bot's own echo.
var errIgnored = errors.New("flowdock: event ignored")

// control is what an event means for the stream itself rather than for the
// bot's handlers.
type control int

const (
	controlNone        control = iota
	controlResubscribe         // the bot's flows changed: reload them and reconnect
)

// eventContext is what the conversion needs to know about the bot.
type eventContext struct {
	platform       string            // the adapter's name; "" means Name
	self           string            // the bot's user id
	allowAnonymous bool              // accept user "0" messages
	nicks          map[string]string // user id → nick, for Author.Name
}

// adapter returns the name of the adapter the events are of.
func (ec *eventContext) adapter() string {
	if ec.platform == "" {
		return Name
	}
	return ec.platform
}

// privatePrefix starts the Conversation of a private chat: "private:<user id>".
const privatePrefix = "private:"

// messageKey is the bot.Message ID of a Flowdock message: message ids are
// per flow or private chat, so the conversation is part of the key.
func messageKey(conversation string, id json.Number) string {
	return conversation + "/" + id.String()
}

// eventToMessage converts one stream event. It returns the message, or a
// control signal with errIgnored, or errIgnored alone, or an error for a
// malformed event. It does no I/O and reads no clock.
func eventToMessage(raw []byte, ec eventContext) (*bot.Message, control, error) {
	return convertEvent(raw, ec, nil)
}

// convertEvent is eventToMessage that also sets *uuid, when uuid is not
// nil, to the event's uuid (the one a message sent by this bot carries),
// so that the stream need not decode the event again to read it.
func convertEvent(raw []byte, ec eventContext, uuid *string) (*bot.Message, control, error) {
	var ev streamEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, controlNone, fmt.Errorf("flowdock: event: %w", err)
	}
	if uuid != nil {
		*uuid = ev.UUID
	}
	user := userString(ev.User)
	switch ev.Event {
	case "":
		return nil, controlNone, errors.New("flowdock: event: no event type")
	case "flow-add", "flow-remove", "backend.user.join":
		if user == ec.self {
			return nil, controlResubscribe, errIgnored
		}
		return nil, controlNone, errIgnored
	case "backend.user.block":
		var blocked string
		if json.Unmarshal(ev.Content, &blocked) == nil && blocked == ec.self {
			return nil, controlResubscribe, errIgnored
		}
		return nil, controlNone, errIgnored
	case "message", "comment", "file", "message-edit", "activity", "discussion":
	default:
		return nil, controlNone, errIgnored
	}
	if ev.ID == "" {
		return nil, controlNone, fmt.Errorf("flowdock: %s event without id", ev.Event)
	}
	if _, err := ev.ID.Int64(); err != nil {
		return nil, controlNone, fmt.Errorf("flowdock: %s event id %q is not a number", ev.Event, ev.ID)
	}
	if user == ec.self && ec.self != "" {
		return nil, controlNone, errIgnored // our own echo
	}
	if user == "0" && !ec.allowAnonymous && ev.Event != "activity" && ev.Event != "discussion" {
		return nil, controlNone, errIgnored // anyone with a flow token could send commands
	}
	m := &bot.Message{
		Platform: ec.adapter(),
		Author:   bot.User{ID: user, Name: ec.nicks[user]},
		Thread:   ev.ThreadID,
		Tags:     ev.Tags,
		Kind:     bot.KindMessage,
		Raw:      json.RawMessage(raw),
	}
	if ev.Sent > 0 {
		m.Time = time.UnixMilli(ev.Sent).UTC()
	}
	switch {
	case ev.Flow != "":
		m.Conversation = ev.Flow
		m.Direct = slices.Contains(ev.Tags, ":user:"+ec.self) && ec.self != ""
	case ev.To != "" || user != "":
		// A private message: the conversation is the chat with the other
		// person (our own messages were dropped above).
		m.Conversation = privatePrefix + user
		m.Direct = true
	default:
		return nil, controlNone, fmt.Errorf("flowdock: %s event without flow or user", ev.Event)
	}
	m.ID = messageKey(m.Conversation, ev.ID)
	if user == "0" && ev.ExternalUserName != "" {
		m.Author.Name = ev.ExternalUserName
	}
	switch ev.Event {
	case "message":
		if err := json.Unmarshal(ev.Content, &m.Text); err != nil {
			return nil, controlNone, fmt.Errorf("flowdock: message content: %w", err)
		}
	case "comment":
		var c struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal(ev.Content, &c); err != nil {
			// A comment posted as a plain string.
			if json.Unmarshal(ev.Content, &m.Text) != nil {
				return nil, controlNone, fmt.Errorf("flowdock: comment content: %w", err)
			}
		} else {
			m.Text = c.Text
		}
		// A legacy comment names its parent in an "influx:<id>" tag,
		// kept in Tags; replies go to the flow.
	case "file":
		for _, a := range ev.Attachments {
			m.Attachments = append(m.Attachments, bot.Attachment{Kind: "file", URL: a.Path, Name: a.FileName, MIME: a.ContentType, Size: a.FileSize})
		}
	case "message-edit":
		var c struct {
			Message        json.Number     `json:"message"`
			UpdatedContent json.RawMessage `json:"updated_content"`
		}
		if err := json.Unmarshal(ev.Content, &c); err != nil {
			return nil, controlNone, fmt.Errorf("flowdock: message-edit content: %w", err)
		}
		m.Kind = bot.KindEdit
		if json.Unmarshal(c.UpdatedContent, &m.Text) != nil {
			var cc struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(c.UpdatedContent, &cc)
			m.Text = cc.Text
		}
		m.ReplyTo = messageKey(m.Conversation, c.Message)
	case "activity", "discussion":
		m.Kind = bot.KindEvent
		if ev.Event == "discussion" {
			m.Kind = bot.KindMessage
		}
		m.Text = ev.Body
		if ev.Author != nil {
			m.Author = bot.User{ID: "0", Name: ev.Author.Name, Email: ev.Author.Email}
		}
		m.Tags = append(slices.Clone(ev.Tags), ev.Event)
	}
	return m, controlNone, nil
}

// idOf returns the numeric id of a message key made by messageKey.
func idOf(key string) (conversation string, id int64, ok bool) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(key[i+1:], 10, 64)
	return key[:i], n, err == nil
}

// DecodeEvent returns the bot.Message the adapter makes of raw, a
// message event as Flowdock's streaming API sends it (and its REST API
// lists it), for tools that show what a bot receives, such as parley
// dev's inspector. self is the bot user's ID, whose own messages the
// adapter does not hand to the Bot; "" marks none. An event the adapter
// hands to no handler (a join, an activity of the bot's own, a
// malformed one) is an error saying so.
func DecodeEvent(raw []byte, self string) (*bot.Message, error) {
	m, _, err := eventToMessage(raw, eventContext{platform: Name, self: self})
	if errors.Is(err, errIgnored) {
		return nil, errors.New("flowdock: the adapter hands this event to no handler")
	}
	return m, err
}
