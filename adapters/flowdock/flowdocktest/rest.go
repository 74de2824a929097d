package flowdocktest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// A call is one authenticated REST request being served.
type call struct {
	r      *http.Request
	segs   []string
	p      params
	ups    []upload
	user   *user // nil for flow-token calls
	header http.Header
	wait   bool // X-flowdock-wait-for-message was sent
	sim    bool // a /_sim/ or Go API call acting as a user
}

type handler func(*call) (int, any, *apiError)

// A route is the set of handlers for one path shape.
type route struct {
	methods   map[string]handler
	flowToken bool // POST may authenticate with flow_token instead of a user
}

// serveREST serves the REST API. The order of checks is: injected fault,
// 404 unknown path, 405, request body, 401, then the endpoint.
func (s *Server) serveREST(w0 http.ResponseWriter, r *http.Request, p string) {
	w := &statusWriter{ResponseWriter: w0}
	rq := Request{Host: "api", Path: p}
	rec := s.recordOnce(w, r, &rq)
	defer rec()
	if st := s.popFail(&s.failREST); st != 0 {
		rq.Fault = "fail " + strconv.Itoa(st)
		writeError(w, &apiError{status: st, message: statusMessage(st)})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		switch s.popFail(&s.dropWrites) {
		case faultReset:
			rq.Fault = "reset"
			rec() // before the client can see the connection drop
			dropConnection(w0)
			return
		case faultLoseAnswer:
			rq.Fault = "lose-answer"
			w.ResponseWriter = discardWriter{header: http.Header{}}
			defer func() { rec(); dropConnection(w0) }()
		}
	}
	segs := segments(p)
	if len(segs) > 0 && segs[0] == "v1" {
		segs = segs[1:]
	}
	rt := s.match(segs)
	if rt == nil {
		writeError(w, errNotFound())
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	h := rt.methods[method]
	if h == nil {
		allow := make([]string, 0, len(rt.methods))
		for m := range rt.methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, message: "method not allowed"})
		return
	}
	prm, ups, body, perr := readParams(w, r)
	rq.Body = body
	if perr != nil {
		// Bad credentials win over a bad body, unless the body could have
		// carried a flow_token.
		s.mu.Lock()
		cr := s.authenticateLocked(r)
		s.mu.Unlock()
		rq.Auth = cr.method
		if cr.user == nil && !rt.flowToken {
			perr = &apiError{status: http.StatusUnauthorized, message: "unauthorized: authentication required"}
		}
		writeError(w, perr)
		return
	}
	c := &call{r: r, segs: segs, p: prm, ups: ups, header: http.Header{},
		wait: r.Header.Get("X-flowdock-wait-for-message") != ""}

	status, out, aerr := func() (int, any, *apiError) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rt.flowToken && method == http.MethodPost && prm.present("flow_token") {
			rq.Auth = "flow_token"
			tok, _, _ := prm.str("flow_token")
			f := s.flowTokens[tok]
			if f == nil {
				return 0, nil, &apiError{status: http.StatusUnauthorized, message: "unauthorized: unknown flow_token"}
			}
			if f.revoked {
				return 0, nil, &apiError{status: http.StatusGone, message: "gone: the source of this flow_token has been removed"}
			}
			rq.Authenticated = true
			return s.integrationRouteLocked(c, f)
		}
		cr := s.authenticateLocked(r)
		rq.Auth = cr.method
		if cr.user == nil {
			if cr.method == "" {
				return 0, nil, &apiError{status: http.StatusUnauthorized, message: "unauthorized: authentication required"}
			}
			return 0, nil, &apiError{status: http.StatusUnauthorized, message: "unauthorized: bad credentials"}
		}
		rq.Authenticated, rq.User = true, cr.user.id
		c.user = cr.user
		w.Header().Set("Flowdock-User", itoa(cr.user.id))
		return h(c)
	}()
	for k, vs := range c.header {
		w.Header()[k] = vs
	}
	switch {
	case aerr != nil:
		writeError(w, aerr)
	case out == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, out)
	}
}

// match finds the route for the path segments (after /api and /v1).
func (s *Server) match(segs []string) *route {
	n := len(segs)
	if n == 0 {
		return nil
	}
	is := func(i int, lit string) bool { return n > i && segs[i] == lit }
	get := func(h handler) *route { return &route{methods: map[string]handler{http.MethodGet: h}} }
	switch segs[0] {
	case "user":
		if n == 1 {
			return get(s.getMe)
		}
	case "users":
		switch n {
		case 1:
			return get(s.getUsers)
		case 2:
			return &route{methods: map[string]handler{http.MethodGet: s.getUser, http.MethodPut: s.putUser, http.MethodPatch: s.putUser}}
		}
	case "organizations":
		switch {
		case n == 1:
			return get(s.getOrgs)
		case n == 2:
			return get(s.getOrg)
		case n == 3 && is(2, "users"):
			return get(s.getOrgUsers)
		}
	case "messages":
		if n == 1 {
			return &route{methods: map[string]handler{http.MethodPost: s.postMessages}, flowToken: true}
		}
	case "comments":
		if n == 1 {
			return &route{methods: map[string]handler{http.MethodPost: s.postComments}}
		}
	case "files":
		if n >= 4 {
			return get(s.getFile)
		}
	case "flows":
		switch {
		case n == 1:
			return get(s.listFlows(false))
		case n == 2 && is(1, "all"):
			return get(s.listFlows(true))
		case n == 2 && is(1, "find"):
			return get(s.findFlow)
		case n == 3:
			return get(s.getFlow)
		case n == 4 && is(3, "users"):
			return get(s.getFlowUsers)
		case n == 4 && is(3, "messages"):
			return &route{methods: map[string]handler{http.MethodGet: s.listFlowMessages, http.MethodPost: s.postFlowMessage}, flowToken: true}
		case n == 4 && is(3, "threads"):
			return get(s.listThreads)
		case n == 5 && is(3, "messages"):
			return &route{methods: map[string]handler{
				http.MethodGet: s.getFlowMessage, http.MethodPut: s.editFlowMessage,
				http.MethodPatch: s.editFlowMessage, http.MethodDelete: s.deleteFlowMessage}}
		case n == 5 && is(3, "threads"):
			return get(s.getThread)
		case n == 6 && is(3, "messages") && is(5, "comments"):
			return &route{methods: map[string]handler{http.MethodPost: s.postFlowComment}}
		case n == 6 && is(3, "threads") && is(5, "messages"):
			return &route{methods: map[string]handler{http.MethodGet: s.listThreadMessages, http.MethodPost: s.postThreadMessage}, flowToken: true}
		}
	case "private":
		switch {
		case n == 1:
			return get(s.listChats)
		case n == 2:
			return &route{methods: map[string]handler{http.MethodGet: s.getChat, http.MethodPut: s.putChat, http.MethodPatch: s.putChat}}
		case n == 3 && is(2, "messages"):
			return &route{methods: map[string]handler{http.MethodGet: s.listChatMessages, http.MethodPost: s.postChatMessage}}
		case n == 4 && is(2, "messages"):
			return &route{methods: map[string]handler{
				http.MethodGet: s.getChatMessage, http.MethodPut: s.editChatMessage,
				http.MethodPatch: s.editChatMessage, http.MethodDelete: s.deleteChatMessage}}
		case n >= 6 && is(3, "files"):
			return get(s.getFile)
		}
	}
	return nil
}

// integrationRouteLocked serves a flow-token post on one of the send
// endpoints that accept it.
func (s *Server) integrationRouteLocked(c *call, f *flow) (int, any, *apiError) {
	if c.segs[0] == "messages" {
		if ref, ok, _ := c.p.str("flow"); ok && ref != "" && s.flowRefLocked(ref) != f {
			return 0, nil, &apiError{status: http.StatusUnauthorized, message: "unauthorized: the flow_token belongs to another flow"}
		}
		return s.integrationPostLocked(c, f, nil)
	}
	pf := s.flowByPath[c.segs[1]+"/"+c.segs[2]]
	if pf != f {
		return 0, nil, &apiError{status: http.StatusUnauthorized, message: "unauthorized: the flow_token belongs to another flow"}
	}
	var th *thread
	if len(c.segs) == 6 {
		if th = f.threads[c.segs[4]]; th == nil {
			return 0, nil, errNotFound()
		}
	}
	return s.integrationPostLocked(c, f, th)
}

// ---- users and organizations ----

func (s *Server) getMe(c *call) (int, any, *apiError) {
	return http.StatusOK, s.userJSON(c.user), nil
}

func sharesFlow(s *Server, a, b int) bool {
	if a == b {
		return true
	}
	for _, f := range s.flows {
		if f.members[a] && f.members[b] {
			return true
		}
	}
	return false
}

func (s *Server) getUsers(c *call) (int, any, *apiError) {
	out := []wireUser{}
	for _, u := range s.userList {
		if sharesFlow(s, c.user.id, u.id) {
			out = append(out, s.userJSON(u))
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) userFromSeg(seg string) *user {
	id, err := strconv.Atoi(seg)
	if err != nil {
		return nil
	}
	return s.users[id]
}

func (s *Server) getUser(c *call) (int, any, *apiError) {
	u := s.userFromSeg(c.segs[1])
	if u == nil {
		return 0, nil, errNotFound()
	}
	return http.StatusOK, s.userJSON(u), nil
}

// putUser updates the caller's own nick and email and emits user-edit in
// every flow the user is in.
func (s *Server) putUser(c *call) (int, any, *apiError) {
	u := s.userFromSeg(c.segs[1])
	if u == nil {
		return 0, nil, errNotFound()
	}
	if u != c.user {
		return 0, nil, &apiError{status: http.StatusForbidden, message: "forbidden: you can update only yourself"}
	}
	v := validation{}
	nick, hasNick, err := c.p.str("nick")
	if err != nil {
		v.add("nick", err.Error())
	} else if hasNick {
		if strings.TrimSpace(nick) == "" || strings.ContainsAny(nick, " \t@,") {
			v.add("nick", "is invalid")
		} else if o := s.userByNickLocked(nick); o != nil && o != u {
			v.add("nick", "has already been taken")
		}
	}
	email, hasEmail, err := c.p.str("email")
	if err != nil {
		v.add("email", err.Error())
	} else if hasEmail && !strings.Contains(email, "@") {
		v.add("email", "is invalid")
	}
	if e := v.err(); e != nil {
		return 0, nil, e
	}
	if hasEmail {
		delete(s.byEmail, strings.ToLower(u.email))
		u.email = email
		s.byEmail[strings.ToLower(email)] = u
	}
	if hasNick && nick != u.nick {
		u.nick = nick
		s.emitUserEditLocked(u)
	}
	return http.StatusOK, struct{}{}, nil
}

func (s *Server) getOrgs(c *call) (int, any, *apiError) {
	out := []wireOrg{}
	for _, o := range s.orgs {
		out = append(out, s.orgJSONLocked(o))
	}
	return http.StatusOK, out, nil
}

func (s *Server) getOrg(c *call) (int, any, *apiError) {
	o := s.orgByParamLocked(c.segs[1])
	if o == nil {
		return 0, nil, errNotFound()
	}
	return http.StatusOK, s.orgJSONLocked(o), nil
}

func (s *Server) getOrgUsers(c *call) (int, any, *apiError) {
	o := s.orgByParamLocked(c.segs[1])
	if o == nil {
		return 0, nil, errNotFound()
	}
	type orgUser struct {
		wireUser
		Admin bool `json:"admin"`
	}
	out := []orgUser{}
	for _, u := range s.userList {
		for _, f := range s.flows {
			if f.org == o && f.members[u.id] {
				out = append(out, orgUser{wireUser: s.userJSON(u)})
				break
			}
		}
	}
	return http.StatusOK, out, nil
}

// ---- flows ----

func (s *Server) listFlows(all bool) handler {
	return func(c *call) (int, any, *apiError) {
		users, _, err := c.p.boolean("users")
		if err != nil {
			return 0, nil, validation{"users": {err.Error()}}.err()
		}
		out := []wireFlow{}
		for _, f := range s.flows {
			if f.members[c.user.id] || (all && f.access == "organization") {
				out = append(out, s.flowJSONLocked(f, c.user.id, users))
			}
		}
		return http.StatusOK, out, nil
	}
}

func (s *Server) findFlow(c *call) (int, any, *apiError) {
	id, _, _ := c.p.str("id")
	f := s.flowByID[id]
	if f == nil || !visible(f, c.user.id) {
		return 0, nil, errNotFound()
	}
	return http.StatusOK, s.flowJSONLocked(f, c.user.id, true), nil
}

func (s *Server) getFlow(c *call) (int, any, *apiError) {
	f := s.flowByPath[c.segs[1]+"/"+c.segs[2]]
	if f == nil || !visible(f, c.user.id) {
		return 0, nil, errNotFound()
	}
	return http.StatusOK, s.flowJSONLocked(f, c.user.id, true), nil
}

func (s *Server) getFlowUsers(c *call) (int, any, *apiError) {
	f := s.flowByPath[c.segs[1]+"/"+c.segs[2]]
	if f == nil || !visible(f, c.user.id) {
		return 0, nil, errNotFound()
	}
	return http.StatusOK, s.flowJSONLocked(f, c.user.id, true).Users, nil
}

// memberFlowLocked returns the flow of /flows/:org/:flow/… if the caller is
// a member; otherwise 404 {"message":"not found"}.
func (s *Server) memberFlowLocked(c *call) (*flow, *apiError) {
	f := s.flowByPath[c.segs[1]+"/"+c.segs[2]]
	if f == nil || !f.members[c.user.id] {
		return nil, errNotFound()
	}
	return f, nil
}

// messageLocked returns a live message of the flow or chat by id segment.
func messageIn(byID map[int]*message, seg string) (*message, *apiError) {
	id, err := strconv.Atoi(seg)
	if err != nil {
		return nil, errNotFound()
	}
	m := byID[id]
	if m == nil || m.removed {
		return nil, errNotFound()
	}
	return m, nil
}

// ---- flow messages ----

func (s *Server) postMessages(c *call) (int, any, *apiError) {
	ref, ok, err := c.p.str("flow")
	if err != nil || !ok || ref == "" {
		return 0, nil, validation{"flow": {"can't be blank"}}.err()
	}
	f := s.flowRefLocked(ref)
	if f == nil || !f.members[c.user.id] {
		return 0, nil, errNotFound()
	}
	return s.postLocked(c, target{flow: f}, "/messages")
}

func (s *Server) postComments(c *call) (int, any, *apiError) {
	ref, ok, err := c.p.str("flow")
	if err != nil || !ok || ref == "" {
		return 0, nil, validation{"flow": {"can't be blank"}}.err()
	}
	f := s.flowRefLocked(ref)
	if f == nil || !f.members[c.user.id] {
		return 0, nil, errNotFound()
	}
	return s.postLocked(c, target{flow: f, comment: true}, "/comments")
}

func (s *Server) postFlowMessage(c *call) (int, any, *apiError) {
	f, e := s.memberFlowLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return s.postLocked(c, target{flow: f}, "/flows/:org/:flow/messages")
}

func (s *Server) postFlowComment(c *call) (int, any, *apiError) {
	f, parent, e := s.flowMessageLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return s.postLocked(c, target{flow: f, parent: parent, comment: true}, "/flows/:org/:flow/messages/:id/comments")
}

func (s *Server) postThreadMessage(c *call) (int, any, *apiError) {
	f, e := s.memberFlowLocked(c)
	if e != nil {
		return 0, nil, e
	}
	th := f.threads[c.segs[4]]
	if th == nil {
		return 0, nil, errNotFound()
	}
	return s.postLocked(c, target{flow: f, thread: th}, "/flows/:org/:flow/threads/:id/messages")
}

// flowMessageLocked resolves /flows/:org/:flow/messages/:id.
func (s *Server) flowMessageLocked(c *call) (*flow, *message, *apiError) {
	f, e := s.memberFlowLocked(c)
	if e != nil {
		return nil, nil, e
	}
	m, e := messageIn(f.byID, c.segs[4])
	return f, m, e
}

func (s *Server) getFlowMessage(c *call) (int, any, *apiError) {
	_, m, e := s.flowMessageLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.messageJSONLocked(m), nil
}

func (s *Server) editFlowMessage(c *call) (int, any, *apiError) {
	_, m, e := s.flowMessageLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return s.editLocked(c, m)
}

func (s *Server) deleteFlowMessage(c *call) (int, any, *apiError) {
	_, m, e := s.flowMessageLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return s.deleteLocked(c, m)
}

func (s *Server) listFlowMessages(c *call) (int, any, *apiError) {
	f, e := s.memberFlowLocked(c)
	if e != nil {
		return 0, nil, e
	}
	q, e := parseListQuery(c.p)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.renderListLocked(s.filterLocked(f.msgs, q, nil)), nil
}

func (s *Server) listThreadMessages(c *call) (int, any, *apiError) {
	f, e := s.memberFlowLocked(c)
	if e != nil {
		return 0, nil, e
	}
	th := f.threads[c.segs[4]]
	if th == nil {
		return 0, nil, errNotFound()
	}
	q, e := parseListQuery(c.p)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.renderListLocked(s.filterLocked(f.msgs, q, th)), nil
}

func (s *Server) listThreads(c *call) (int, any, *apiError) {
	f, e := s.memberFlowLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return s.threadListLocked(c, f)
}

func (s *Server) getThread(c *call) (int, any, *apiError) {
	f, e := s.memberFlowLocked(c)
	if e != nil {
		return 0, nil, e
	}
	th := f.threads[c.segs[4]]
	if th == nil {
		return 0, nil, errNotFound()
	}
	return http.StatusOK, s.threadJSONLocked(th), nil
}

// ---- private conversations ----

// chatPeerLocked resolves /private/:user_id: another known user.
func (s *Server) chatPeerLocked(c *call) (*user, *apiError) {
	u := s.userFromSeg(c.segs[1])
	if u == nil || u == c.user {
		return nil, errNotFound()
	}
	return u, nil
}

func (s *Server) listChats(c *call) (int, any, *apiError) {
	out := []wireChat{}
	for _, u := range s.userList {
		if ch := s.chatLocked(c.user.id, u.id, false); ch != nil && u != c.user && ch.exists[c.user.id] {
			out = append(out, s.chatJSONLocked(ch, c.user.id))
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) getChat(c *call) (int, any, *apiError) {
	peer, e := s.chatPeerLocked(c)
	if e != nil {
		return 0, nil, e
	}
	ch := s.chatLocked(c.user.id, peer.id, true)
	ch.exists[c.user.id] = true
	return http.StatusOK, s.chatJSONLocked(ch, c.user.id), nil
}

func (s *Server) putChat(c *call) (int, any, *apiError) {
	peer, e := s.chatPeerLocked(c)
	if e != nil {
		return 0, nil, e
	}
	open, ok, err := c.p.boolean("open")
	if err != nil {
		return 0, nil, validation{"open": {err.Error()}}.err()
	}
	ch := s.chatLocked(c.user.id, peer.id, true)
	ch.exists[c.user.id] = true
	if ok {
		ch.open[c.user.id] = open
	}
	return http.StatusOK, s.chatJSONLocked(ch, c.user.id), nil
}

func (s *Server) postChatMessage(c *call) (int, any, *apiError) {
	peer, e := s.chatPeerLocked(c)
	if e != nil {
		return 0, nil, e
	}
	ch := s.chatLocked(c.user.id, peer.id, true)
	return s.postLocked(c, target{chat: ch, to: peer.id}, "/private/:user_id/messages")
}

// chatMessageLocked resolves /private/:user_id/messages/:id.
func (s *Server) chatMessageLocked(c *call) (*message, *apiError) {
	peer, e := s.chatPeerLocked(c)
	if e != nil {
		return nil, e
	}
	ch := s.chatLocked(c.user.id, peer.id, false)
	if ch == nil {
		return nil, errNotFound()
	}
	return messageIn(ch.byID, c.segs[3])
}

func (s *Server) getChatMessage(c *call) (int, any, *apiError) {
	m, e := s.chatMessageLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.messageJSONLocked(m), nil
}

func (s *Server) editChatMessage(c *call) (int, any, *apiError) {
	m, e := s.chatMessageLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return s.editLocked(c, m)
}

func (s *Server) deleteChatMessage(c *call) (int, any, *apiError) {
	m, e := s.chatMessageLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return s.deleteLocked(c, m)
}

func (s *Server) listChatMessages(c *call) (int, any, *apiError) {
	peer, e := s.chatPeerLocked(c)
	if e != nil {
		return 0, nil, e
	}
	q, e := parseListQuery(c.p)
	if e != nil {
		return 0, nil, e
	}
	ch := s.chatLocked(c.user.id, peer.id, false)
	if ch == nil {
		return http.StatusOK, []wireMessage{}, nil
	}
	return http.StatusOK, s.renderListLocked(s.filterLocked(ch.msgs, q, nil)), nil
}
