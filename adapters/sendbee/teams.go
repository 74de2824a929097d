package sendbee

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// A Team is a team of agents.
type Team struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Members []TeamMember `json:"members"`
}

// A TeamMember is an agent as listed in a [Team].
type TeamMember struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Online    bool   `json:"online"`
	Available bool   `json:"available"`
}

// UnmarshalJSON implements [json.Unmarshaler], accepting online and
// available as booleans or as their string spellings.
func (m *TeamMember) UnmarshalJSON(b []byte) error {
	var w memberWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = TeamMember{ID: string(w.ID), Name: string(w.Name), Role: string(w.Role), Online: bool(w.Online), Available: bool(w.Available)}
	return nil
}

// A Member is an agent, with the teams it belongs to.
type Member struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Role      string       `json:"role"`
	Online    bool         `json:"online"`
	Available bool         `json:"available"`
	Teams     []MemberTeam `json:"teams"`
}

// UnmarshalJSON implements [json.Unmarshaler], accepting online and
// available as booleans or as their string spellings.
func (m *Member) UnmarshalJSON(b []byte) error {
	var w struct {
		memberWire
		Teams []MemberTeam `json:"teams"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Member{ID: string(w.ID), Name: string(w.Name), Role: string(w.Role), Online: bool(w.Online), Available: bool(w.Available), Teams: w.Teams}
	return nil
}

// memberWire is the lenient wire form shared by Member and TeamMember.
type memberWire struct {
	ID        flexString `json:"id"`
	Name      flexString `json:"name"`
	Role      flexString `json:"role"`
	Online    flexBool   `json:"online"`
	Available flexBool   `json:"available"`
}

// A MemberTeam is a team as listed in a [Member].
type MemberTeam struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TeamsOptions filters [Client.Teams]. Zero fields are not sent.
type TeamsOptions struct {
	// MemberID keeps the teams this member belongs to.
	MemberID string
	// Page is the 1-based page; 0 means the first.
	Page int
}

// Teams lists one page of teams with their members: GET /teams/teams.
func (c *Client) Teams(ctx context.Context, opts TeamsOptions) (*Page[Team], *Response, error) {
	q := url.Values{}
	if err := pageQuery("list teams", q, opts.Page, 0); err != nil {
		return nil, nil, err
	}
	setQuery(q, "member_id", opts.MemberID)
	return getPage[Team](ctx, c, "/teams/teams", q)
}

// AllTeams iterates over the teams of every page from opts.Page on. It
// stops on the first error, which it yields once, and when ctx is done.
func (c *Client) AllTeams(ctx context.Context, opts TeamsOptions) iter.Seq2[Team, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[Team], *Response, error) {
		opts.Page = page
		return c.Teams(ctx, opts)
	})
}

// MembersOptions filters [Client.Members]. Zero fields are not sent.
type MembersOptions struct {
	// TeamID keeps the members of this team.
	TeamID string
	// Page is the 1-based page; 0 means the first.
	Page int
}

// Members lists one page of agents with their teams: GET /teams/members.
func (c *Client) Members(ctx context.Context, opts MembersOptions) (*Page[Member], *Response, error) {
	q := url.Values{}
	if err := pageQuery("list members", q, opts.Page, 0); err != nil {
		return nil, nil, err
	}
	setQuery(q, "team_id", opts.TeamID)
	return getPage[Member](ctx, c, "/teams/members", q)
}

// AllMembers iterates over the agents of every page from opts.Page on. It
// stops on the first error, which it yields once, and when ctx is done.
func (c *Client) AllMembers(ctx context.Context, opts MembersOptions) iter.Seq2[Member, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[Member], *Response, error) {
		opts.Page = page
		return c.Members(ctx, opts)
	})
}
