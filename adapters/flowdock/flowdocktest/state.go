package flowdocktest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// The in-memory platform state. Everything here is guarded by Server.mu.

type org struct {
	id    int
	name  string
	param string
}

type user struct {
	id                                   int
	nick, name, email, avatar, token, pw string
}

type flow struct {
	id, name, param string
	org             *org
	access          string
	token           string
	revoked         bool
	sourceID        int
	sourceName      string
	created         time.Time
	members         map[int]bool
	nextID          int
	msgs            []*message // ascending id, including edit events
	byID            map[int]*message
	uuids           map[string]bool
	threads         map[string]*thread
	threadList      []*thread // creation order
	extThreads      map[string]*thread
}

func (f *flow) path() string { return f.org.param + "/" + f.param }

// A chat is the private conversation of two users, a < b.
type chat struct {
	a, b   int
	nextID int
	msgs   []*message
	byID   map[int]*message
	uuids  map[string]bool
	exists map[int]bool // the conversation shows in GET /private for this user
	open   map[int]bool
}

func (c *chat) other(uid int) int {
	if uid == c.a {
		return c.b
	}
	return c.a
}

type message struct {
	id      int
	event   string
	flow    *flow
	chat    *chat
	to      int    // private messages: recipient
	user    int    // 0 = integration or anonymous
	text    string // message, status: content; comment: the comment text
	title   string // comment: parent title; activity, discussion: title
	body    *string
	author  map[string]any
	file    *file
	tags    []string
	uuid    string
	app     string // "chat", "influx", "" (null)
	thread  *thread
	extUser string
	meta    any // content of message-edit and tag-change events
	sent    time.Time
	edited  time.Time
	removed bool // deleted completely (files, integration items): 404
	deleted bool // a truncated chat message: content "", out of search and tag results
}

// chatContent reports whether the message is an author-editable chat line.
func (m *message) chatContent() bool {
	return m.event == "message" || m.event == "comment" || m.event == "status" || m.event == "line"
}

type thread struct {
	id          string
	flow        *flow
	title, body string
	externalURL *string
	status      map[string]any
	fields      []any
	actions     []any
	integration bool
	activities  int
	internal    int
	external    int
	initial     int
	created     time.Time
	updated     time.Time
	order       int
}

type file struct {
	hash, name, ctype string
	data              []byte
	path              string
	removed           bool
	flow              *flow
	chat              *chat
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newThreadID returns an opaque thread id shaped like Flowdock's
// ("Eg46ehQSRpWW5XSoX2tFm-t55Sk": 27 base64url characters).
func newThreadID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// derivedUUID returns a stable UUID-like string for seed.
func derivedUUID(seed string) string {
	h := sha256.Sum256([]byte("flowdocktest:" + seed))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-9" + x[17:20] + "-" + x[20:32]
}

func itoa(i int) string { return strconv.Itoa(i) }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func millis(t time.Time) int64 { return t.UnixMilli() }

// lookups; callers hold s.mu.

func (s *Server) userByNickLocked(nick string) *user {
	for _, u := range s.userList {
		if strings.EqualFold(u.nick, nick) {
			return u
		}
	}
	return nil
}

// userRefLocked resolves "1305", "dana" or "@dana".
func (s *Server) userRefLocked(ref string) *user {
	ref = strings.TrimPrefix(strings.TrimSpace(ref), "@")
	if id, err := strconv.Atoi(ref); err == nil {
		return s.users[id]
	}
	return s.userByNickLocked(ref)
}

// flowRefLocked resolves a flow id, "org/flow" or the legacy "org:flow".
func (s *Server) flowRefLocked(ref string) *flow {
	ref = strings.TrimSpace(ref)
	if f := s.flowByID[ref]; f != nil {
		return f
	}
	if f := s.flowByPath[ref]; f != nil {
		return f
	}
	if o, fl, ok := strings.Cut(ref, ":"); ok {
		return s.flowByPath[o+"/"+fl]
	}
	return nil
}

func (s *Server) chatLocked(x, y int, create bool) *chat {
	a, b := min(x, y), max(x, y)
	k := [2]int{a, b}
	c := s.chats[k]
	if c == nil && create {
		c = &chat{a: a, b: b, byID: map[int]*message{}, uuids: map[string]bool{},
			exists: map[int]bool{}, open: map[int]bool{}}
		s.chats[k] = c
	}
	return c
}

func (s *Server) orgByParamLocked(p string) *org {
	for _, o := range s.orgs {
		if o.param == p {
			return o
		}
	}
	return nil
}

// visibleLocked reports whether uid may see flow f's metadata: members, and
// everyone for organization-access flows.
func visible(f *flow, uid int) bool {
	return f.members[uid] || f.access == "organization"
}
