package flowdocktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// A PostOption adds details to a message posted with [Server.Post] or
// [Server.PrivateMessage].
type PostOption func(*postOptions)

type postOptions struct {
	thread string
	tags   []string
	uuid   string
}

// InThread posts the message into the thread with the given id.
func InThread(threadID string) PostOption { return func(o *postOptions) { o.thread = threadID } }

// Tagged adds tags to the message ("#x", "x", "@nick", ":user:<id>").
func Tagged(tags ...string) PostOption {
	return func(o *postOptions) { o.tags = append(o.tags, tags...) }
}

// WithMessageUUID sets the message's client-made uuid.
func WithMessageUUID(uuid string) PostOption { return func(o *postOptions) { o.uuid = uuid } }

// simError turns a platform error into a Go error.
func simError(op string, e *apiError) error {
	msg := e.message
	if len(e.errors) > 0 {
		keys := make([]string, 0, len(e.errors))
		for k := range e.errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+" "+strings.Join(e.errors[k], ", "))
		}
		msg += ": " + strings.Join(parts, "; ")
	}
	return fmt.Errorf("flowdocktest: %s: %d %s", op, e.status, msg)
}

// actorLocked resolves a flow and a member of it.
func (s *Server) actorLocked(flowRef, asUser string) (*flow, *user, error) {
	f := s.flowRefLocked(flowRef)
	if f == nil {
		return nil, nil, fmt.Errorf("flowdocktest: unknown flow %q", flowRef)
	}
	u := s.userRefLocked(asUser)
	if u == nil {
		return nil, nil, fmt.Errorf("flowdocktest: unknown user %q", asUser)
	}
	if !f.members[u.id] {
		return nil, nil, fmt.Errorf("flowdocktest: user %s is not a member of %s", u.nick, f.path())
	}
	return f, u, nil
}

func simParams(event, text string, o postOptions) params {
	p := params{"event": event, "content": text}
	if len(o.tags) > 0 {
		tags := make([]any, len(o.tags))
		for i, t := range o.tags {
			tags[i] = t
		}
		p["tags"] = tags
	}
	if o.thread != "" {
		p["thread_id"] = o.thread
	}
	if o.uuid != "" {
		p["uuid"] = o.uuid
	}
	return p
}

// Post acts as the user asUser (nick or id) posting text in the flow
// ("org/flow" or flow id), exactly as a post through the REST API would:
// the message gets the next id of the flow, its tags, a new thread (or the
// one given with [InThread]) and goes out on the streams, the bot's
// included. It returns an error for an unknown flow or user, a user who is
// not a member, or a message the API would reject.
func (s *Server) Post(flowRef, asUser, text string, opts ...PostOption) (Message, error) {
	var o postOptions
	for _, opt := range opts {
		opt(&o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, u, err := s.actorLocked(flowRef, asUser)
	if err != nil {
		return Message{}, err
	}
	c := &call{p: simParams("message", text, o), user: u, header: http.Header{}, sim: true}
	m, e := s.createLocked(c, target{flow: f}, "")
	if e != nil {
		return Message{}, simError("post", e)
	}
	return s.messageViewLocked(m), nil
}

// PostInThread is Post with [InThread]: a reply in an existing thread.
func (s *Server) PostInThread(flowRef, asUser, threadID, text string) (Message, error) {
	return s.Post(flowRef, asUser, text, InThread(threadID))
}

// Status acts as asUser posting a status event (a thread-less status line).
func (s *Server) Status(flowRef, asUser, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, u, err := s.actorLocked(flowRef, asUser)
	if err != nil {
		return Message{}, err
	}
	c := &call{p: simParams("status", text, postOptions{}), user: u, header: http.Header{}, sim: true}
	m, e := s.createLocked(c, target{flow: f}, "")
	if e != nil {
		return Message{}, simError("status", e)
	}
	return s.messageViewLocked(m), nil
}

// Comment acts as asUser posting an old-style comment on the message
// parentID of the flow: event "comment", content {title, text}, the tag
// "influx:<parentID>", in the parent's thread.
func (s *Server) Comment(flowRef, asUser string, parentID int, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, u, err := s.actorLocked(flowRef, asUser)
	if err != nil {
		return Message{}, err
	}
	parent := f.byID[parentID]
	if parent == nil || parent.removed {
		return Message{}, fmt.Errorf("flowdocktest: comment: no message %d in %s", parentID, f.path())
	}
	c := &call{p: simParams("comment", text, postOptions{}), user: u, header: http.Header{}, sim: true}
	m, e := s.createLocked(c, target{flow: f, parent: parent, comment: true}, "")
	if e != nil {
		return Message{}, simError("comment", e)
	}
	return s.messageViewLocked(m), nil
}

// Upload acts as asUser uploading a file to the flow: a "file" message
// with the :file tag, downloadable through its path.
func (s *Server) Upload(flowRef, asUser, fileName, contentType string, data []byte) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, u, err := s.actorLocked(flowRef, asUser)
	if err != nil {
		return Message{}, err
	}
	c := &call{p: params{"event": "file"}, user: u, header: http.Header{}, sim: true,
		ups: []upload{{field: "content", name: fileName, ctype: contentType, data: slices.Clone(data)}}}
	m, e := s.createLocked(c, target{flow: f}, "")
	if e != nil {
		return Message{}, simError("upload", e)
	}
	return s.messageViewLocked(m), nil
}

// PrivateMessage acts as fromUser (nick or id) sending text to the bot in
// their private conversation. The bot sees it on streams opened with
// user=1.
func (s *Server) PrivateMessage(fromUser, text string, opts ...PostOption) (Message, error) {
	var o postOptions
	for _, opt := range opts {
		opt(&o)
	}
	o.thread = ""
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userRefLocked(fromUser)
	if u == nil {
		return Message{}, fmt.Errorf("flowdocktest: unknown user %q", fromUser)
	}
	if u == s.bot {
		return Message{}, errors.New("flowdocktest: the bot cannot send itself a private message")
	}
	c := &call{p: simParams("message", text, o), user: u, header: http.Header{}, sim: true}
	m, e := s.createLocked(c, target{chat: s.chatLocked(u.id, s.bot.id, true), to: s.bot.id}, "")
	if e != nil {
		return Message{}, simError("private message", e)
	}
	return s.messageViewLocked(m), nil
}

// Edit acts as asUser changing the content of their own message id in the
// flow; it emits message-edit (and tag-change if mentions changed).
func (s *Server) Edit(flowRef, asUser string, id int, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, u, err := s.actorLocked(flowRef, asUser)
	if err != nil {
		return err
	}
	m := f.byID[id]
	if m == nil || m.removed {
		return fmt.Errorf("flowdocktest: edit: no message %d in %s", id, f.path())
	}
	c := &call{p: params{"content": text}, user: u, header: http.Header{}, sim: true}
	if _, _, e := s.editLocked(c, m); e != nil {
		return simError("edit", e)
	}
	return nil
}

// SetTags acts as asUser replacing the tags of message id in the flow; it
// emits tag-change when the tags differ.
func (s *Server) SetTags(flowRef, asUser string, id int, tags ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, u, err := s.actorLocked(flowRef, asUser)
	if err != nil {
		return err
	}
	m := f.byID[id]
	if m == nil || m.removed {
		return fmt.Errorf("flowdocktest: tag: no message %d in %s", id, f.path())
	}
	list := make([]any, len(tags))
	for i, t := range tags {
		list[i] = t
	}
	c := &call{p: params{"tags": list}, user: u, header: http.Header{}, sim: true}
	if _, _, e := s.editLocked(c, m); e != nil {
		return simError("tag", e)
	}
	return nil
}

// Present acts as the flow's integration posting with its flow_token: body
// is the JSON object of a POST /messages (event "activity" or
// "discussion", author, title, body, external_thread_id, thread, …;
// flow_token is not needed). It applies the same validation as the API.
func (s *Server) Present(flowRef string, body map[string]any) (Message, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Message{}, fmt.Errorf("flowdocktest: present: %w", err)
	}
	p := params{}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return Message{}, fmt.Errorf("flowdocktest: present: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flowRefLocked(flowRef)
	if f == nil {
		return Message{}, fmt.Errorf("flowdocktest: unknown flow %q", flowRef)
	}
	m, e := s.integrationCreateLocked(&call{p: p, header: http.Header{}, sim: true}, f, nil)
	if e != nil {
		return Message{}, simError("present", e)
	}
	return s.messageViewLocked(m), nil
}

// AddToFlow makes the bot a member of the flow and sends flow-add to the
// bot's open streams, so that the client reloads its flows and reconnects
// with a new filter, as Hubot does on a flow-add for itself (flow-add is an
// undocumented stream event). Adding a member again does nothing.
func (s *Server) AddToFlow(flowRef string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flowRefLocked(flowRef)
	if f == nil {
		return fmt.Errorf("flowdocktest: unknown flow %q", flowRef)
	}
	if f.members[s.bot.id] {
		return nil
	}
	f.members[s.bot.id] = true
	fj := s.flowJSONLocked(f, s.bot.id, false)
	s.emitUserLevelLocked(s.bot.id, map[string]any{
		"event": "flow-add", "user": itoa(s.bot.id), "sent": millis(s.now()),
		"content": map[string]any{
			"id": fj.ID, "name": fj.Name, "parameterized_name": fj.ParameterizedName,
			"organization": fj.Organization, "open": true, "joined": true, "url": fj.URL,
			"access_mode": fj.AccessMode,
		},
	})
	return nil
}

// RemoveFromFlow removes the bot from the flow and sends flow-remove to the
// bot's open streams. From then on the flow's events no longer reach the
// bot, its REST endpoints answer 404 and a stream filter naming it is
// refused with 404. Removing a non-member does nothing.
func (s *Server) RemoveFromFlow(flowRef string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flowRefLocked(flowRef)
	if f == nil {
		return fmt.Errorf("flowdocktest: unknown flow %q", flowRef)
	}
	if !f.members[s.bot.id] {
		return nil
	}
	delete(f.members, s.bot.id)
	s.emitUserLevelLocked(s.bot.id, map[string]any{
		"event": "flow-remove", "user": itoa(s.bot.id), "sent": millis(s.now()),
		"content": map[string]any{"id": f.id},
	})
	return nil
}

// ---- HTTP control endpoints ----

// serveSim serves the unauthenticated control endpoints under /_sim/.
func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	if why := foreignPage(r); why != "" {
		http.Error(w, "the emulator's controls refuse this request: "+why, http.StatusForbidden)
		return
	}
	p := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_sim"), "/")
	type route struct {
		method string
		h      func(params) (int, any, error)
	}
	routes := map[string]route{
		"":                {http.MethodGet, s.simInfo},
		"/info":           {http.MethodGet, s.simInfo},
		"/post":           {http.MethodPost, s.simPost},
		"/private":        {http.MethodPost, s.simPrivate},
		"/comment":        {http.MethodPost, s.simComment},
		"/present":        {http.MethodPost, s.simPresent},
		"/flows/add":      {http.MethodPost, s.simFlow(s.AddToFlow)},
		"/flows/remove":   {http.MethodPost, s.simFlow(s.RemoveFromFlow)},
		"/sent":           {http.MethodGet, func(params) (int, any, error) { return http.StatusOK, s.Sent(), nil }},
		"/requests":       {http.MethodGet, func(params) (int, any, error) { return http.StatusOK, s.Requests(), nil }},
		"/messages":       {http.MethodGet, s.simMessages},
		"/drop":           {http.MethodPost, func(params) (int, any, error) { s.DropConnections(); return http.StatusOK, struct{}{}, nil }},
		"/malformed":      {http.MethodPost, func(params) (int, any, error) { s.SendMalformed(); return http.StatusOK, struct{}{}, nil }},
		"/inject/event":   {http.MethodPost, s.simInjectEvent},
		"/inject/message": {http.MethodPost, s.simInjectMessage},
		"/stall":          {http.MethodPost, s.simStall},
		"/fail-streams":   {http.MethodPost, s.simFail(s.FailStreams)},
		"/fail-requests":  {http.MethodPost, s.simFail(s.FailRequests)},
	}
	rt, ok := routes[p]
	if !ok {
		writeError(w, &apiError{status: http.StatusNotFound, message: "unknown control endpoint " + r.URL.Path})
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, message: "method not allowed"})
		return
	}
	prm, _, _, perr := readParams(w, r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	status, out, err := rt.h(prm)
	if err != nil {
		writeError(w, &apiError{status: status, message: err.Error()})
		return
	}
	writeJSON(w, status, out)
}

func simBad(err error) (int, any, error) {
	if strings.Contains(err.Error(), "unknown") {
		return http.StatusNotFound, nil, err
	}
	return http.StatusBadRequest, nil, err
}

func (s *Server) simInfo(params) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type userInfo struct {
		ID    int    `json:"id"`
		Nick  string `json:"nick"`
		Name  string `json:"name"`
		Token string `json:"token"`
	}
	type flowInfo struct {
		ID        string `json:"id"`
		Flow      string `json:"flow"`
		Name      string `json:"name"`
		FlowToken string `json:"flow_token"`
		BotMember bool   `json:"bot_member"`
		Members   []int  `json:"members"`
	}
	info := struct {
		APIURL    string     `json:"api_url"`
		StreamURL string     `json:"stream_url"`
		Bot       userInfo   `json:"bot"`
		Users     []userInfo `json:"users"`
		Flows     []flowInfo `json:"flows"`
	}{APIURL: s.URL(), StreamURL: s.StreamURL()}
	for _, u := range s.userList {
		ui := userInfo{ID: u.id, Nick: u.nick, Name: u.name, Token: u.token}
		if u == s.bot {
			info.Bot = ui
		}
		info.Users = append(info.Users, ui)
	}
	for _, f := range s.flows {
		fi := flowInfo{ID: f.id, Flow: f.path(), Name: f.name, FlowToken: f.token, BotMember: f.members[s.bot.id]}
		for _, u := range s.userList {
			if f.members[u.id] {
				fi.Members = append(fi.Members, u.id)
			}
		}
		info.Flows = append(info.Flows, fi)
	}
	return http.StatusOK, info, nil
}

func required(p params, keys ...string) error {
	for _, k := range keys {
		if v, ok, err := p.str(k); err != nil || !ok || v == "" {
			return fmt.Errorf("%s is required", k)
		}
	}
	return nil
}

func (s *Server) simPost(p params) (int, any, error) {
	if err := required(p, "flow", "user", "text"); err != nil {
		return http.StatusBadRequest, nil, err
	}
	flowRef, _, _ := p.str("flow")
	who, _, _ := p.str("user")
	text, _, _ := p.str("text")
	var opts []PostOption
	if th, ok, _ := p.str("thread_id"); ok && th != "" {
		opts = append(opts, InThread(th))
	}
	if tags, ok, _ := p.list("tags"); ok {
		opts = append(opts, Tagged(tags...))
	}
	if u, ok, _ := p.str("uuid"); ok && u != "" {
		opts = append(opts, WithMessageUUID(u))
	}
	m, err := s.Post(flowRef, who, text, opts...)
	if err != nil {
		return simBad(err)
	}
	return http.StatusCreated, m.JSON, nil
}

func (s *Server) simPrivate(p params) (int, any, error) {
	if err := required(p, "user", "text"); err != nil {
		return http.StatusBadRequest, nil, err
	}
	who, _, _ := p.str("user")
	text, _, _ := p.str("text")
	m, err := s.PrivateMessage(who, text)
	if err != nil {
		return simBad(err)
	}
	return http.StatusCreated, m.JSON, nil
}

func (s *Server) simComment(p params) (int, any, error) {
	if err := required(p, "flow", "user", "text"); err != nil {
		return http.StatusBadRequest, nil, err
	}
	parent, ok, err := p.integer("message")
	if err != nil || !ok {
		return http.StatusBadRequest, nil, errors.New("message (the parent message id) is required")
	}
	flowRef, _, _ := p.str("flow")
	who, _, _ := p.str("user")
	text, _, _ := p.str("text")
	m, err := s.Comment(flowRef, who, parent, text)
	if err != nil {
		return simBad(err)
	}
	return http.StatusCreated, m.JSON, nil
}

func (s *Server) simPresent(p params) (int, any, error) {
	if err := required(p, "flow"); err != nil {
		return http.StatusBadRequest, nil, err
	}
	flowRef, _, _ := p.str("flow")
	body := map[string]any{}
	for k, v := range p {
		if k != "flow" && k != "flow_token" {
			body[k] = v
		}
	}
	if _, err := s.Present(flowRef, body); err != nil {
		return simBad(err)
	}
	return http.StatusAccepted, struct{}{}, nil
}

func (s *Server) simFlow(fn func(string) error) func(params) (int, any, error) {
	return func(p params) (int, any, error) {
		if err := required(p, "flow"); err != nil {
			return http.StatusBadRequest, nil, err
		}
		ref, _, _ := p.str("flow")
		if err := fn(ref); err != nil {
			return simBad(err)
		}
		return http.StatusOK, struct{}{}, nil
	}
}

func (s *Server) simMessages(p params) (int, any, error) {
	if ref, ok, _ := p.str("flow"); ok && ref != "" {
		ms := s.Messages(ref)
		if ms == nil {
			return http.StatusNotFound, nil, fmt.Errorf("unknown flow %q", ref)
		}
		return http.StatusOK, ms, nil
	}
	if ref, ok, _ := p.str("user"); ok && ref != "" {
		ms := s.PrivateMessages(ref)
		if ms == nil {
			return http.StatusNotFound, nil, fmt.Errorf("unknown user %q", ref)
		}
		return http.StatusOK, ms, nil
	}
	return http.StatusBadRequest, nil, errors.New("flow or user is required")
}

func (s *Server) simInjectEvent(p params) (int, any, error) {
	id, _, err := p.str("id")
	if err != nil {
		return http.StatusBadRequest, nil, errors.New("id must be a string")
	}
	data, _, err := p.str("data")
	if err != nil {
		return http.StatusBadRequest, nil, errors.New("data must be a string")
	}
	if err := s.InjectEvent(id, []byte(data)); err != nil {
		return http.StatusBadRequest, nil, err
	}
	return http.StatusOK, struct{}{}, nil
}

func (s *Server) simInjectMessage(p params) (int, any, error) {
	if err := required(p, "flow", "user", "text"); err != nil {
		return http.StatusBadRequest, nil, err
	}
	id, ok, err := p.integer("id")
	if err != nil || !ok {
		return http.StatusBadRequest, nil, errors.New("id (the message id to send) is required and must be an integer")
	}
	flowRef, _, _ := p.str("flow")
	who, _, _ := p.str("user")
	text, _, _ := p.str("text")
	m, err := s.InjectMessage(flowRef, who, int64(id), text)
	if err != nil {
		return simBad(err)
	}
	return http.StatusOK, m.JSON, nil
}

func (s *Server) simStall(p params) (int, any, error) {
	secs, ok, err := p.str("seconds")
	if err != nil || !ok {
		return http.StatusBadRequest, nil, errors.New("seconds is required")
	}
	d, err := time.ParseDuration(secs + "s")
	if err != nil {
		return http.StatusBadRequest, nil, errors.New("seconds must be a number")
	}
	s.Stall(d)
	return http.StatusOK, struct{}{}, nil
}

func (s *Server) simFail(fn func(status, n int)) func(params) (int, any, error) {
	return func(p params) (int, any, error) {
		st, ok, err := p.integer("status")
		if err != nil || !ok || st < 400 || st > 599 {
			return http.StatusBadRequest, nil, errors.New("status must be an HTTP error status (400-599)")
		}
		n, ok, err := p.integer("count")
		if err != nil {
			return http.StatusBadRequest, nil, errors.New("count must be an integer")
		}
		if !ok {
			n = 1
		}
		fn(st, n)
		return http.StatusOK, struct{}{}, nil
	}
}
