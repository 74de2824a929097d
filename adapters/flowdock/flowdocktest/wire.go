package flowdocktest

import (
	"encoding/json"
	"net/url"
	"slices"
)

// Wire shapes, with Flowdock's JSON field names for messages, threads,
// flows, users and attachments. Callers hold s.mu while building them.

type wireAttachment struct {
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	FileSize    int    `json:"file_size"`
	Path        string `json:"path"`
}

type wireMessage struct {
	ID               int              `json:"id"`
	Event            string           `json:"event"`
	Flow             string           `json:"flow,omitempty"`
	To               string           `json:"to,omitempty"`
	User             string           `json:"user"`
	Content          any              `json:"content"`
	Tags             []string         `json:"tags"`
	UUID             *string          `json:"uuid"`
	Sent             int64            `json:"sent"`
	CreatedAt        string           `json:"created_at"`
	App              *string          `json:"app"`
	Attachments      []wireAttachment `json:"attachments"`
	ThreadID         string           `json:"thread_id,omitempty"`
	Thread           *wireThread      `json:"thread,omitempty"`
	Edited           *string          `json:"edited"`
	EditedAt         string           `json:"edited_at,omitempty"`
	ExternalUserName string           `json:"external_user_name,omitempty"`
	Author           map[string]any   `json:"author,omitempty"`
	Title            *string          `json:"title,omitempty"`
	Body             json.RawMessage  `json:"body,omitempty"`
	FullBody         json.RawMessage  `json:"full_body,omitempty"`
}

type wireThread struct {
	ID               string         `json:"id"`
	Title            string         `json:"title"`
	Body             string         `json:"body"`
	ExternalURL      *string        `json:"external_url"`
	Status           map[string]any `json:"status"`
	Fields           []any          `json:"fields"`
	Actions          []any          `json:"actions"`
	Source           any            `json:"source"`
	Activities       int            `json:"activities"`
	InternalComments int            `json:"internal_comments"`
	ExternalComments int            `json:"external_comments"`
	InitialMessage   int            `json:"initial_message"`
	Flow             string         `json:"flow"`
	CreatedAt        string         `json:"created_at"`
	UpdatedAt        string         `json:"updated_at"`
}

type wireUser struct {
	ID      int     `json:"id"`
	Email   string  `json:"email"`
	Name    string  `json:"name"`
	Nick    string  `json:"nick"`
	Avatar  string  `json:"avatar"`
	Website *string `json:"website"`
}

type wireFlowUser struct {
	wireUser
	Status       *string `json:"status"`
	Disabled     bool    `json:"disabled"`
	InFlow       bool    `json:"in_flow"`
	LastActivity int64   `json:"last_activity"`
	LastPing     int64   `json:"last_ping"`
}

type wireOrg struct {
	ID                int    `json:"id"`
	Name              string `json:"name"`
	ParameterizedName string `json:"parameterized_name"`
	UserLimit         int    `json:"user_limit"`
	UserCount         int    `json:"user_count"`
	Active            bool   `json:"active"`
	URL               string `json:"url"`
}

type wireFlow struct {
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	ParameterizedName string         `json:"parameterized_name"`
	Organization      wireOrg        `json:"organization"`
	UnreadMentions    int            `json:"unread_mentions"`
	Open              bool           `json:"open"`
	Joined            bool           `json:"joined"`
	URL               string         `json:"url"`
	WebURL            string         `json:"web_url"`
	JoinURL           string         `json:"join_url,omitempty"`
	AccessMode        string         `json:"access_mode"`
	Users             []wireFlowUser `json:"users,omitempty"`
	Links             map[string]any `json:"links"`
}

type wireChat struct {
	ID       int            `json:"id"`
	URL      string         `json:"url"`
	Name     string         `json:"name"`
	Open     bool           `json:"open"`
	Activity map[string]any `json:"activity"`
	Users    []wireUser     `json:"users"`
}

func strPtr(s string) *string { return &s }

func (s *Server) userJSON(u *user) wireUser {
	return wireUser{ID: u.id, Email: u.email, Name: u.name, Nick: u.nick, Avatar: u.avatar}
}

func (s *Server) flowUserJSON(u *user, f *flow) wireFlowUser {
	t := millis(f.created)
	return wireFlowUser{wireUser: s.userJSON(u), InFlow: f.members[u.id], LastActivity: t, LastPing: t}
}

func (s *Server) orgJSONLocked(o *org) wireOrg {
	members := map[int]bool{}
	for _, f := range s.flows {
		if f.org == o {
			for id := range f.members {
				members[id] = true
			}
		}
	}
	return wireOrg{ID: o.id, Name: o.name, ParameterizedName: o.param, UserCount: len(members), Active: true,
		URL: s.URL() + "/organizations/" + o.param}
}

func (s *Server) flowURL(f *flow) string { return s.URL() + "/flows/" + f.path() }

func (s *Server) flowJSONLocked(f *flow, uid int, withUsers bool) wireFlow {
	joined := f.members[uid]
	w := wireFlow{
		ID: f.id, Name: f.name, ParameterizedName: f.param, Organization: s.orgJSONLocked(f.org),
		Open: joined, Joined: joined, URL: s.flowURL(f), WebURL: s.root + "/app/" + f.path(),
		AccessMode: f.access,
		Links: map[string]any{
			"messages": map[string]any{"href": s.flowURL(f) + "/messages", "methods": []string{"GET", "POST"}},
			"threads":  map[string]any{"href": s.flowURL(f) + "/threads", "methods": []string{"GET"}},
			"users":    map[string]any{"href": s.flowURL(f) + "/users", "methods": []string{"GET"}},
		},
	}
	if f.access == "organization" || f.access == "link" {
		w.JoinURL = s.root + "/app/" + f.path() + "/join"
	}
	if withUsers {
		w.Users = []wireFlowUser{}
		for _, u := range s.userList {
			if f.members[u.id] {
				w.Users = append(w.Users, s.flowUserJSON(u, f))
			}
		}
	}
	return w
}

func (s *Server) chatJSONLocked(c *chat, uid int) wireChat {
	other := s.users[c.other(uid)]
	return wireChat{
		ID: other.id, URL: s.URL() + "/private/" + itoa(other.id), Name: "@" + other.nick,
		Open:     c.open[uid],
		Activity: map[string]any{"inbox": false, "mentions": 0, "chat": false},
		Users:    []wireUser{s.userJSON(s.users[c.a]), s.userJSON(s.users[c.b])},
	}
}

func (s *Server) threadJSONLocked(t *thread) *wireThread {
	w := &wireThread{
		ID: t.id, Title: t.title, Body: t.body, ExternalURL: t.externalURL, Status: t.status,
		Fields: t.fields, Actions: t.actions,
		Activities: t.activities, InternalComments: t.internal, ExternalComments: t.external,
		InitialMessage: t.initial, Flow: t.flow.id, CreatedAt: isoTime(t.created), UpdatedAt: isoTime(t.updated),
	}
	if w.Fields == nil {
		w.Fields = []any{}
	}
	if w.Actions == nil {
		w.Actions = []any{}
	}
	if t.integration {
		f := t.flow
		w.Source = map[string]any{
			"id": f.sourceID, "name": f.sourceName, "url": s.flowURL(f) + "/sources/" + itoa(f.sourceID),
			"created_at": isoTime(f.created), "updated_at": isoTime(f.created),
			"application": map[string]any{"id": f.sourceID, "name": f.sourceName, "url": s.root, "icon_url": s.root + "/_sim/icon.png"},
		}
	}
	return w
}

func (s *Server) attachmentJSON(fl *file) wireAttachment {
	return wireAttachment{FileName: fl.name, ContentType: fl.ctype, FileSize: len(fl.data), Path: fl.path}
}

// messageJSONLocked renders a stored message or event.
func (s *Server) messageJSONLocked(m *message) wireMessage {
	w := wireMessage{
		ID: m.id, Event: m.event, User: itoa(m.user), Tags: slices.Clone(m.tags),
		Sent: millis(m.sent), CreatedAt: isoTime(m.sent), Attachments: []wireAttachment{},
		ExternalUserName: m.extUser,
	}
	if w.Tags == nil {
		w.Tags = []string{}
	}
	if m.flow != nil {
		w.Flow = m.flow.id
	} else {
		w.To = itoa(m.to)
	}
	if m.uuid != "" {
		w.UUID = strPtr(m.uuid)
	}
	if m.app != "" {
		w.App = strPtr(m.app)
	}
	if !m.edited.IsZero() {
		w.Edited = strPtr(isoTime(m.edited))
		w.EditedAt = isoTime(m.edited)
	}
	switch m.event {
	case "comment":
		w.Content = map[string]string{"title": m.title, "text": m.text}
	case "file":
		a := s.attachmentJSON(m.file)
		w.Content = a
		w.Attachments = []wireAttachment{a}
	case "activity", "discussion":
		w.Content = nil
		w.Author = m.author
		w.Title = strPtr(m.title)
		w.Body = json.RawMessage("null")
		if m.body != nil {
			b, _ := json.Marshal(*m.body)
			w.Body = b
			if m.event == "discussion" {
				w.FullBody = b
			}
		}
	case "message-edit", "tag-change":
		w.Content = m.meta
	default:
		w.Content = m.text
	}
	if m.thread != nil {
		w.ThreadID = m.thread.id
		w.Thread = s.threadJSONLocked(m.thread)
	}
	return w
}

// filePath builds the documented attachment path.
func filePath(prefix, hash, name string) string {
	return prefix + "/" + hash + "/" + url.PathEscape(name)
}
