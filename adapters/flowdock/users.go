package flowdock

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// CurrentUser returns the authenticated user: GET /user. A 401 means the
// token was rejected.
func (c *Client) CurrentUser(ctx context.Context) (*User, *Response, error) {
	return getOne[User](ctx, c, "get current user", "/user", nil)
}

// Users lists every user the caller can see: GET /users (all users of the
// organizations where the caller is an admin, otherwise the users who
// share a flow with the caller).
func (c *Client) Users(ctx context.Context) ([]User, *Response, error) {
	return getList[User](ctx, c, "list users", "/users", nil)
}

// GetUser returns one user: GET /users/:id. The caller and the user must
// share an organization.
func (c *Client) GetUser(ctx context.Context, id int64) (*User, *Response, error) {
	const op = "get user"
	if id <= 0 {
		return nil, nil, invalid(op, "id", "must be positive")
	}
	return getOne[User](ctx, c, op, pathOf("users", strconv.FormatInt(id, 10)), nil)
}

// FlowUsers lists the users of a flow: GET /flows/:org/:flow/users.
func (c *Client) FlowUsers(ctx context.Context, org, flow string) ([]User, *Response, error) {
	const op = "list flow users"
	p, err := flowPath(op, org, flow)
	if err != nil {
		return nil, nil, err
	}
	return getList[User](ctx, c, op, p+"/users", nil)
}

// UserIDByName returns the id of the user whose display name (nick, the
// "Display name" of the profile) is name, for example to open a
// [PrivateChat]. It lists GET /users and matches the nick exactly, then,
// if no nick matches, without case. It does not cache: keep the id.
//
// No match is an error wrapping [ErrNotFound]. Nicks are meant to be
// unique, but they are not guaranteed to be across organizations: when
// several users match, the error lists their ids.
func (c *Client) UserIDByName(ctx context.Context, name string) (int64, *Response, error) {
	const op = "user id by name"
	name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "@"))
	if name == "" {
		return 0, nil, invalid(op, "name", "is required")
	}
	users, resp, err := c.Users(ctx)
	if err != nil {
		return 0, resp, err
	}
	matches := matchNick(users, func(nick string) bool { return nick == name })
	if len(matches) == 0 {
		matches = matchNick(users, func(nick string) bool { return strings.EqualFold(nick, name) })
	}
	switch len(matches) {
	case 0:
		return 0, resp, fmt.Errorf("flowdock: %s: no user has the display name %q: %w", op, name, ErrNotFound)
	case 1:
		return matches[0], resp, nil
	}
	ids := make([]string, len(matches))
	for i, id := range matches {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return 0, resp, fmt.Errorf("flowdock: %s: %d users have the display name %q (ids %s)", op, len(matches), name, strings.Join(ids, ", "))
}

// matchNick returns the distinct ids of the users whose nick matches.
func matchNick(users []User, match func(string) bool) []int64 {
	var ids []int64
	seen := map[int64]bool{}
	for _, u := range users {
		if match(u.Nick) && !seen[u.ID] {
			seen[u.ID] = true
			ids = append(ids, u.ID)
		}
	}
	return ids
}
