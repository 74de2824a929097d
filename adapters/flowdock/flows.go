package flowdock

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// A Chat names where messages live: a flow, by the parameterized names of
// its organization and itself, or a private conversation, by the other
// user's id. Every message method ([Client.SendMessage],
// [Client.GetMessage], [Client.EditMessage], [Client.DeleteMessage],
// [Client.ListMessages], [Client.UploadFile], …) works on both, as the
// API does. Build one with [FlowChat], [PrivateChat] or [ParseChat].
type Chat struct {
	// Org and Flow are the parameterized names of a flow ("acme", "ops").
	Org, Flow string
	// UserID is the other user of a private conversation.
	UserID int64
}

// FlowChat returns the Chat of the flow org/flow (parameterized names, as
// in the flow's web URL).
func FlowChat(org, flow string) Chat { return Chat{Org: org, Flow: flow} }

// PrivateChat returns the Chat of the private conversation with the user
// userID (the number at the end of the private chat's URL; see
// [Client.UserIDByName]).
func PrivateChat(userID int64) Chat { return Chat{UserID: userID} }

// IsPrivate reports whether c is a private conversation.
func (c Chat) IsPrivate() bool { return c.UserID != 0 }

// String returns "org/flow" or "private/<user id>", the form [ParseChat]
// reads.
func (c Chat) String() string {
	if c.IsPrivate() {
		return "private/" + strconv.FormatInt(c.UserID, 10)
	}
	return c.Org + "/" + c.Flow
}

// ParseChat reads the form [Chat.String] writes: "org/flow" for a flow,
// "private/<user id>" for a private conversation.
func ParseChat(s string) (Chat, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || a == "" || b == "" || strings.Contains(b, "/") {
		return Chat{}, fmt.Errorf(`flowdock: parse chat %q: want "org/flow" or "private/<user id>"`, s)
	}
	if a == "private" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil || id <= 0 {
			return Chat{}, fmt.Errorf("flowdock: parse chat %q: the user id must be a positive number", s)
		}
		return PrivateChat(id), nil
	}
	return FlowChat(a, b), nil
}

// path returns the escaped API path of the chat: "/flows/org/flow" or
// "/private/<id>".
func (c Chat) path(op string) (string, error) {
	switch {
	case c.UserID < 0:
		return "", invalid(op, "user_id", "must be positive")
	case c.UserID > 0 && (c.Org != "" || c.Flow != ""):
		return "", invalid(op, "chat", "must name a flow or a private conversation, not both")
	case c.UserID > 0:
		return pathOf("private", strconv.FormatInt(c.UserID, 10)), nil
	}
	if err := segment(op, "org", c.Org); err != nil {
		return "", err
	}
	if err := segment(op, "flow", c.Flow); err != nil {
		return "", err
	}
	return pathOf("flows", c.Org, c.Flow), nil
}

// flowPath returns "/flows/org/flow" after checking both names.
func flowPath(op, org, flow string) (string, error) {
	return FlowChat(org, flow).path(op)
}

// FlowsOptions selects the flows of [Client.Flows].
type FlowsOptions struct {
	// All also lists the organization's flows the user has not joined
	// (Joined false): GET /flows/all instead of GET /flows.
	All bool
	// Users includes each flow's users (users=1); otherwise users=0.
	Users bool
}

// Flows lists the flows the user has joined (GET /flows), or with
// opts.All also the open organization flows (GET /flows/all).
func (c *Client) Flows(ctx context.Context, opts FlowsOptions) ([]Flow, *Response, error) {
	path := "/flows"
	if opts.All {
		path = "/flows/all"
	}
	q := url.Values{"users": {"0"}}
	if opts.Users {
		q.Set("users", "1")
	}
	return getList[Flow](ctx, c, "list flows", path, q)
}

// GetFlow returns one flow, with its users: GET /flows/:org/:flow.
func (c *Client) GetFlow(ctx context.Context, org, flow string) (*Flow, *Response, error) {
	const op = "get flow"
	p, err := flowPath(op, org, flow)
	if err != nil {
		return nil, nil, err
	}
	return getOne[Flow](ctx, c, op, p, nil)
}

// FindFlow returns the flow with the opaque id that streams and messages
// carry, with its users: GET /flows/find?id=.
func (c *Client) FindFlow(ctx context.Context, id string) (*Flow, *Response, error) {
	const op = "find flow"
	if strings.TrimSpace(id) == "" {
		return nil, nil, invalid(op, "id", "is required")
	}
	return getOne[Flow](ctx, c, op, "/flows/find", url.Values{"id": {id}, "users": {"1"}})
}

// PrivateConversations lists the user's private conversations:
// GET /private.
func (c *Client) PrivateConversations(ctx context.Context) ([]PrivateConversation, *Response, error) {
	return getList[PrivateConversation](ctx, c, "list private conversations", "/private", nil)
}

// GetPrivateConversation returns the private conversation with the user
// userID: GET /private/:user_id. Flowdock creates it, closed (Open false),
// when it does not exist yet.
func (c *Client) GetPrivateConversation(ctx context.Context, userID int64) (*PrivateConversation, *Response, error) {
	const op = "get private conversation"
	if userID <= 0 {
		return nil, nil, invalid(op, "user_id", "must be positive")
	}
	p, err := PrivateChat(userID).path(op)
	if err != nil {
		return nil, nil, err
	}
	return getOne[PrivateConversation](ctx, c, op, p, nil)
}

// getOne GETs path with the personal token and decodes a T.
func getOne[T any](ctx context.Context, c *Client, op, path string, q url.Values) (*T, *Response, error) {
	v := new(T)
	resp, err := c.call(ctx, op, request{method: http.MethodGet, path: path, query: q, auth: authUser}, v)
	if err != nil {
		return nil, resp, err
	}
	return v, resp, nil
}

// getList GETs path with the personal token and decodes a JSON array of T;
// the slice is never nil on success.
func getList[T any](ctx context.Context, c *Client, op, path string, q url.Values) ([]T, *Response, error) {
	var v []T
	resp, err := c.call(ctx, op, request{method: http.MethodGet, path: path, query: q, auth: authUser}, &v)
	if err != nil {
		return nil, resp, err
	}
	if v == nil {
		v = []T{}
	}
	return v, resp, nil
}
