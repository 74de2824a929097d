package flowdock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxContentLength is the longest content, in characters, of a chat or
// private message, as Flowdock documents. Longer content is rejected before
// sending; cut it yourself if you want it sent.
const MaxContentLength = 8096

// NewUUID returns a random (version 4) UUID such as
// "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", the kind of id the send methods
// put in a message's uuid field when the caller gives none. Generate it
// yourself and keep it before sending when you may need
// [Client.MessageByUUID] later.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// NewMessage is a chat message to send with [Client.SendMessage] or
// [Client.ReplyInThread] (event "message"), or with [Client.PostMessage]
// as an integration. Zero fields are not sent.
type NewMessage struct {
	// Content is the text; required, at most MaxContentLength characters.
	// "@nick" mentions and "#tags" in it are tagged by Flowdock.
	Content string
	// Tags are added to the message: "@nick" is a user tag, "#x" or "x"
	// a hashtag. Flowdock adds meta tags such as ":user:<id>" and ":url",
	// drops duplicates and keeps the order.
	Tags []string
	// ThreadID posts into an existing thread (flows only); empty starts
	// a new thread, whose id the returned Message carries.
	ThreadID string
	// ExternalUserName shows this name as the sender; Flowdock then
	// treats the message as anonymous.
	ExternalUserName string
	// UUID is the client-made id of the send, unique within the flow. It
	// lets the echo in the stream be recognised and a send whose answer
	// was lost be found with [Client.MessageByUUID]. Empty means a fresh
	// [NewUUID]; the returned Message carries the one sent.
	UUID string
}

// sendBody is the JSON body of a message post.
type sendBody struct {
	Event            string   `json:"event"`
	Content          string   `json:"content"`
	Tags             []string `json:"tags,omitempty"`
	ThreadID         string   `json:"thread_id,omitempty"`
	ExternalThreadID string   `json:"external_thread_id,omitempty"`
	ExternalUserName string   `json:"external_user_name,omitempty"`
	UUID             string   `json:"uuid"`
}

// body checks m and returns its wire form with the UUID filled in.
func (m NewMessage) body(op string, private bool) (sendBody, error) {
	if err := checkContent(op, m.Content); err != nil {
		return sendBody{}, err
	}
	if err := checkTags(op, m.Tags, false); err != nil {
		return sendBody{}, err
	}
	if private && m.ThreadID != "" {
		return sendBody{}, invalid(op, "thread_id", "is not supported in private conversations")
	}
	if m.ThreadID != "" && strings.TrimSpace(m.ThreadID) == "" {
		return sendBody{}, invalid(op, "thread_id", "must not be blank")
	}
	uuid, err := checkUUID(op, m.UUID)
	if err != nil {
		return sendBody{}, err
	}
	return sendBody{
		Event:            EventMessage,
		Content:          m.Content,
		Tags:             m.Tags,
		ThreadID:         m.ThreadID,
		ExternalUserName: m.ExternalUserName,
		UUID:             uuid,
	}, nil
}

// local returns the Message the API would return for b, used when it
// accepted the post without returning it.
func (b sendBody) local() Message {
	content, _ := json.Marshal(b.Content)
	return Message{
		Event:            b.Event,
		Content:          content,
		Tags:             b.Tags,
		ThreadID:         b.ThreadID,
		ExternalUserName: b.ExternalUserName,
		UUID:             b.UUID,
	}
}

// checkContent checks the content of a chat message.
func checkContent(op, content string) error {
	if strings.TrimSpace(content) == "" {
		return invalid(op, "content", "is required")
	}
	if !utf8.ValidString(content) {
		return invalid(op, "content", "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(content); n > MaxContentLength {
		return invalid(op, "content", "has "+strconv.Itoa(n)+" characters, more than "+strconv.Itoa(MaxContentLength))
	}
	return nil
}

// checkTags checks tags; forQuery also rejects commas, which separate
// tags in a query.
func checkTags(op string, tags []string, forQuery bool) error {
	for _, t := range tags {
		if strings.TrimSpace(t) == "" {
			return invalid(op, "tags", "must not contain an empty tag")
		}
		if forQuery && strings.Contains(t, ",") {
			return invalid(op, "tags", "must not contain a comma (tag "+strconv.Quote(t)+")")
		}
	}
	return nil
}

// checkUUID returns uuid, or a fresh one when it is empty.
func checkUUID(op, uuid string) (string, error) {
	if uuid == "" {
		return NewUUID(), nil
	}
	if strings.TrimSpace(uuid) != uuid || strings.ContainsAny(uuid, "\r\n") {
		return "", invalid(op, "uuid", "must not have surrounding space or line breaks")
	}
	return uuid, nil
}

// checkMessageID checks a message id.
func checkMessageID(op string, id int64) error {
	if id <= 0 {
		return invalid(op, "id", "must be positive")
	}
	return nil
}

// SendMessage sends a chat message to a flow or a private conversation:
// POST /flows/:org/:flow/messages or POST /private/:user_id/messages.
//
// Every send carries a uuid: m.UUID, or a fresh [NewUUID]. The returned
// Message is the one Flowdock created (201), with its ID, ThreadID and
// Thread, and always with UUID set. When Flowdock only accepted the post
// (202, no body), ID is zero and the rest is what was sent; find the
// message later with [Client.MessageByUUID].
func (c *Client) SendMessage(ctx context.Context, chat Chat, m NewMessage) (*Message, *Response, error) {
	const op = "send message"
	p, err := chat.path(op)
	if err != nil {
		return nil, nil, err
	}
	body, err := m.body(op, chat.IsPrivate())
	if err != nil {
		return nil, nil, err
	}
	return c.postMessage(ctx, op, request{method: http.MethodPost, path: p + "/messages", json: body, auth: authUser}, body.local())
}

// postMessage sends a message post and returns the created message, or
// local (the message as sent) when the API returned none.
func (c *Client) postMessage(ctx context.Context, op string, r request, local Message) (*Message, *Response, error) {
	var m Message
	resp, err := c.call(ctx, op, r, &m)
	if err != nil {
		return nil, resp, err
	}
	if m.ID == 0 && m.Event == "" {
		m = local
	}
	if m.UUID == "" {
		m.UUID = local.UUID
	}
	return &m, resp, nil
}

// GetMessage returns one message of a flow or a private conversation:
// GET .../messages/:id. A removed file or integration message is a 404
// *APIError; a deleted chat message comes back with empty content.
func (c *Client) GetMessage(ctx context.Context, chat Chat, id int64) (*Message, *Response, error) {
	const op = "get message"
	p, err := messagePath(op, chat, id)
	if err != nil {
		return nil, nil, err
	}
	return getOne[Message](ctx, c, op, p, nil)
}

// messagePath returns ".../messages/:id" of chat.
func messagePath(op string, chat Chat, id int64) (string, error) {
	p, err := chat.path(op)
	if err != nil {
		return "", err
	}
	if err := checkMessageID(op, id); err != nil {
		return "", err
	}
	return p + pathOf("messages", strconv.FormatInt(id, 10)), nil
}

// MessageUpdate is the change [Client.EditMessage] makes. At least one
// field must be set.
type MessageUpdate struct {
	// Content, when non-nil, replaces the text. Only the author may
	// change it, and only of a chat message or comment.
	Content *string
	// Tags, when non-nil, is the full new tag list: tags left out are
	// removed, and an empty non-nil slice removes them all. Anyone who
	// can see the message may change its tags, but changing content and
	// tags together requires being the author. Keep the meta tags (":url",
	// ":user:…") you want to keep: read the message first, as in
	//
	//	m, _, err := c.GetMessage(ctx, chat, id)
	//	…
	//	_, err = c.EditMessage(ctx, chat, id, flowdock.MessageUpdate{Tags: append(m.Tags, "python")})
	Tags []string
}

// editBody is the JSON body of a message edit.
type editBody struct {
	Content *string  `json:"content,omitempty"`
	Tags    []string `json:"tags,omitzero"`
}

// EditMessage changes the content, the tags, or both of a message in a
// flow or a private conversation: PUT .../messages/:id. Flowdock answers
// 200 {} and emits "message-edit" and/or "tag-change" events.
func (c *Client) EditMessage(ctx context.Context, chat Chat, id int64, u MessageUpdate) (*Response, error) {
	const op = "edit message"
	p, err := messagePath(op, chat, id)
	if err != nil {
		return nil, err
	}
	if u.Content == nil && u.Tags == nil {
		return nil, invalid(op, "content", "or tags is required")
	}
	if u.Content != nil {
		if err := checkContent(op, *u.Content); err != nil {
			return nil, err
		}
	}
	if err := checkTags(op, u.Tags, false); err != nil {
		return nil, err
	}
	return c.call(ctx, op, request{method: http.MethodPut, path: p, json: editBody(u), auth: authUser}, nil)
}

// DeleteMessage deletes a message of a flow or a private conversation:
// DELETE .../messages/:id. A file or integration message (activity,
// discussion) is removed, and a later GetMessage is a 404 *APIError
// {"message":"not found"}; the user's own chat message is truncated to
// empty content. Deleting someone else's chat message is a 403.
func (c *Client) DeleteMessage(ctx context.Context, chat Chat, id int64) (*Response, error) {
	const op = "delete message"
	p, err := messagePath(op, chat, id)
	if err != nil {
		return nil, err
	}
	return c.call(ctx, op, request{method: http.MethodDelete, path: p, auth: authUser}, nil)
}
