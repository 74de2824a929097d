package flowdocktest

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A User is a Flowdock user account known to the emulator. Zero fields get
// defaults when the server starts: Token becomes a random 32-digit hex
// personal API token, Name and Email are derived from Nick, and Avatar from
// the ID.
type User struct {
	ID       int    // numeric user id; required for [WithUsers], defaults to 1201 for [WithUser]
	Nick     string // display name used in @mentions; unique, compared case-insensitively
	Name     string // full name
	Email    string
	Token    string // personal API token: HTTP Basic username, Bearer token or ?access_token=
	Password string // when set, HTTP Basic "email:password" also logs in, as on Flowdock
	Avatar   string
}

// A Flow describes a flow to create when the server starts.
type Flow struct {
	Org         string // organization parameterized name, e.g. "acme" (required)
	OrgName     string // organization display name; defaults to Org capitalised
	Name        string // flow parameterized name, e.g. "ops" (required)
	DisplayName string // flow display name; defaults to Name capitalised
	ID          string // opaque flow id; defaults to a UUID-like string derived from "org/name"
	FlowToken   string // the flow_token of the flow's integration source; defaults to random hex
	SourceName  string // the integration source's name; defaults to "Emulator"
	AccessMode  string // "invitation" (default), "organization" or "link"
	// Members lists the ids of the users in the flow. Nil means the bot
	// and every other configured user. Leave the bot's id out to make a
	// flow the bot has not joined.
	Members []int
}

// An Option configures a [Server]. Options are applied in order by
// [NewServer] and [Start]; a later option overrides an earlier one.
type Option func(*config)

type config struct {
	bot         User
	users       []User
	flows       []Flow
	clock       func() time.Time
	keepAlive   time.Duration
	demo        bool
	waitTimeout time.Duration
	logger      *slog.Logger
	streamAddr  string
	observer    func(ConnectionEvent)
}

// DefaultBotID is the user id of the bot when [WithUser] does not set one.
const DefaultBotID = 1201

func defaultConfig() config {
	return config{
		bot:         User{ID: DefaultBotID, Nick: "parley", Name: "Parley Bot", Email: "parley@acme.test"},
		clock:       time.Now,
		keepAlive:   15 * time.Second,
		demo:        true,
		waitTimeout: 5 * time.Second,
	}
}

// WithUser sets the bot's own account: the user whose personal API token
// the client under test uses. Empty fields keep the defaults (id 1201, nick
// "parley", a random token; read it with [Server.Token]).
func WithUser(u User) Option {
	return func(c *config) {
		if u.ID != 0 {
			c.bot.ID = u.ID
		}
		if u.Nick != "" {
			c.bot.Nick = u.Nick
			if u.Name == "" {
				c.bot.Name = ""
			}
			if u.Email == "" {
				c.bot.Email = ""
			}
		}
		if u.Name != "" {
			c.bot.Name = u.Name
		}
		if u.Email != "" {
			c.bot.Email = u.Email
		}
		if u.Token != "" {
			c.bot.Token = u.Token
		}
		if u.Password != "" {
			c.bot.Password = u.Password
		}
		if u.Avatar != "" {
			c.bot.Avatar = u.Avatar
		}
	}
}

// WithUsers adds other users (people the bot talks to). A user with the id
// of a demo user replaces it. Each user has a personal API token too
// ([Server.UserToken]), so a test can act as that user over HTTP.
func WithUsers(users ...User) Option {
	return func(c *config) { c.users = append(c.users, users...) }
}

// WithFlows adds flows, with their organizations, integration flow tokens
// and members. A flow with the org/name of a demo flow replaces it.
func WithFlows(flows ...Flow) Option {
	return func(c *config) {
		for _, f := range flows {
			f.Members = slices.Clone(f.Members)
			c.flows = append(c.flows, f)
		}
	}
}

// WithClock sets the clock used for the sent, created_at, updated_at and
// edited timestamps. The default is time.Now. Waits (keep-alives, stalls,
// WaitSent) always use real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithKeepAlive sets how often an idle stream gets a keep-alive: the comment
// line ": keep-alive" on text/event-stream, a bare "\n" on the JSON stream.
// The default is 15 seconds; d <= 0 disables keep-alives.
func WithKeepAlive(d time.Duration) Option {
	return func(c *config) { c.keepAlive = d }
}

// WithoutDemoData starts the server without the demo organization, users,
// flows and messages; only the bot and what [WithUsers] and [WithFlows]
// add exist.
func WithoutDemoData() Option {
	return func(c *config) { c.demo = false }
}

// WithWaitTimeout sets the deadline of [Server.WaitSent] and
// [Server.WaitConnections]. The default is 5 seconds.
func WithWaitTimeout(d time.Duration) Option {
	return func(c *config) { c.waitTimeout = d }
}

// WithLogger makes the server log one Debug line per request (method, path
// without query, status, user id) to l. Tokens and message text are never
// logged. A nil l means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithStreamAddr sets the address [Start] serves the streaming API on, as
// stream.flowdock.com is a host of its own, such as "127.0.0.1:8704" or
// ":0". The default is the host of Start's address with the next port.
// [NewServer] ignores it: it serves the stream under "/stream" on its one
// address.
func WithStreamAddr(addr string) Option {
	return func(c *config) { c.streamAddr = addr }
}

// WithConnectionObserver makes the server call f when a stream connects
// (authorised, its header sent), when an open stream ends, and when a
// stream request is refused (bad credentials, unknown flow, injected
// failure), once each; [ConnectionEvent.Explain] turns a report into a
// line for a person. It is how a program learns at once whether the bot
// holds a stream, and why it cannot (parley sim prints the line on its
// terminal).
//
// f runs on a goroutine of the server's, one call at a time, in the order
// of the changes, while the stream request waits for its report, so f
// should return quickly. f owns the ConnectionEvent it gets. A refusal is
// reported before the client reads its status (except while the server
// closes), a disconnection after the stream left [Server.Connections].
// [Server.Close] waits for the calls, the reports of the streams it ends
// included, and no call is made after Close returns. f must not call Close
// on its own goroutine: Close waits for f to return, so it would never
// return. To stop the server from f, at the first refusal say, call Close
// in a new goroutine (go s.Close()). The default is no observer.
func WithConnectionObserver(f func(ConnectionEvent)) Option {
	return func(c *config) { c.observer = f }
}

var paramName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// resolve merges demo data and options into the final user and flow lists
// and checks them.
func (c *config) resolve() ([]User, []Flow, error) {
	if c.clock == nil {
		return nil, nil, fmt.Errorf("flowdocktest: nil clock")
	}
	if c.waitTimeout <= 0 {
		return nil, nil, fmt.Errorf("flowdocktest: wait timeout must be positive, got %v", c.waitTimeout)
	}
	if c.bot.ID <= 0 {
		return nil, nil, fmt.Errorf("flowdocktest: bot user id must be positive, got %d", c.bot.ID)
	}
	users := []User{c.bot}
	var flows []Flow
	if c.demo {
		users = append(users, demoUsers()...)
		flows = demoFlows()
		for i := range flows {
			for j, id := range flows[i].Members {
				if id == DefaultBotID {
					flows[i].Members[j] = c.bot.ID
				}
			}
		}
	}
	for _, u := range c.users {
		if i := slices.IndexFunc(users, func(x User) bool { return x.ID == u.ID }); i > 0 {
			users[i] = u
		} else if i == 0 {
			return nil, nil, fmt.Errorf("flowdocktest: WithUsers: id %d is the bot's; use WithUser", u.ID)
		} else {
			users = append(users, u)
		}
	}
	nicks := map[string]bool{}
	tokens := map[string]bool{}
	for i := range users {
		u := &users[i]
		if u.ID <= 0 {
			return nil, nil, fmt.Errorf("flowdocktest: user %q: id must be positive", u.Nick)
		}
		if u.Nick == "" {
			u.Nick = fmt.Sprintf("user%d", u.ID)
		}
		if strings.ContainsAny(u.Nick, " \t\r\n@,") {
			return nil, nil, fmt.Errorf("flowdocktest: user %d: nick %q must not contain spaces, '@' or ','", u.ID, u.Nick)
		}
		if nicks[strings.ToLower(u.Nick)] {
			return nil, nil, fmt.Errorf("flowdocktest: duplicate nick %q", u.Nick)
		}
		nicks[strings.ToLower(u.Nick)] = true
		if u.Name == "" {
			u.Name = capitalise(u.Nick)
		}
		if u.Email == "" {
			u.Email = strings.ToLower(u.Nick) + "@acme.test"
		}
		if u.Token == "" {
			u.Token = randomHex(16)
		}
		if tokens[u.Token] {
			return nil, nil, fmt.Errorf("flowdocktest: user %d: token already used by another user", u.ID)
		}
		tokens[u.Token] = true
		if u.Avatar == "" {
			u.Avatar = fmt.Sprintf("https://avatars.flowdock.test/%d/", u.ID)
		}
	}
	for _, f := range c.flows {
		if i := slices.IndexFunc(flows, func(x Flow) bool { return x.Org == f.Org && x.Name == f.Name }); i >= 0 {
			flows[i] = f
		} else {
			flows = append(flows, f)
		}
	}
	known := map[int]bool{}
	for _, u := range users {
		known[u.ID] = true
	}
	ids := map[string]bool{}
	for i := range flows {
		f := &flows[i]
		if !paramName.MatchString(f.Org) || !paramName.MatchString(f.Name) {
			return nil, nil, fmt.Errorf("flowdocktest: flow %q/%q: org and name must be parameterized names (lowercase letters, digits, '-', '_')", f.Org, f.Name)
		}
		switch f.AccessMode {
		case "":
			f.AccessMode = "invitation"
		case "invitation", "organization", "link":
		default:
			return nil, nil, fmt.Errorf("flowdocktest: flow %s/%s: unknown access mode %q", f.Org, f.Name, f.AccessMode)
		}
		if f.DisplayName == "" {
			f.DisplayName = capitalise(f.Name)
		}
		if f.ID == "" {
			f.ID = derivedUUID("flow:" + f.Org + "/" + f.Name)
		}
		if ids[f.ID] {
			return nil, nil, fmt.Errorf("flowdocktest: duplicate flow id %q", f.ID)
		}
		ids[f.ID] = true
		if f.FlowToken == "" {
			f.FlowToken = randomHex(16)
		}
		if tokens[f.FlowToken] {
			return nil, nil, fmt.Errorf("flowdocktest: flow %s/%s: flow token already used", f.Org, f.Name)
		}
		tokens[f.FlowToken] = true
		if f.SourceName == "" {
			f.SourceName = "Emulator"
		}
		if f.Members == nil {
			for _, u := range users {
				f.Members = append(f.Members, u.ID)
			}
		}
		for _, id := range f.Members {
			if !known[id] {
				return nil, nil, fmt.Errorf("flowdocktest: flow %s/%s: unknown member id %d", f.Org, f.Name, id)
			}
		}
	}
	return users, flows, nil
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
