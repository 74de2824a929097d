package flowdocktest

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxContent is the content limit Flowdock documents for chat and private
// messages, in characters.
const maxContent = 8096

// statusColors are the ten thread status colours Flowdock documents.
var statusColors = []string{"black", "blue", "cyan", "green", "grey", "lime", "orange", "purple", "red", "yellow"}

// A draft is a validated message about to be stored.
type draft struct {
	event   string
	flow    *flow
	chat    *chat
	to      int
	user    int
	text    string
	tags    []string // as given, not yet normalized
	uuid    string
	thread  *thread
	parent  *message
	file    *file
	extUser string
	app     string
	author  map[string]any
	title   string
	body    *string
}

// storeLocked assigns the next id of the flow or private chat, computes
// tags, starts or joins a thread, stores the message and puts it on the
// stream.
func (s *Server) storeLocked(d draft) *message {
	now := s.now()
	m := &message{
		event: d.event, flow: d.flow, chat: d.chat, to: d.to, user: d.user, text: d.text,
		uuid: d.uuid, file: d.file, extUser: d.extUser, app: d.app, author: d.author,
		title: d.title, body: d.body, sent: now,
	}
	if m.app == "" {
		m.app = "chat"
	}
	given := s.normalizeTagsLocked(d.tags)
	var derived []string
	if d.event == "message" || d.event == "status" || d.event == "comment" {
		derived = s.contentTagsLocked(d.text, d.flow, d.user)
	}
	var fileTag []string
	if d.file != nil {
		fileTag = []string{":file"}
	}
	switch {
	case d.flow != nil:
		d.flow.nextID++
		m.id = d.flow.nextID
		var influx []string
		if d.parent != nil {
			influx = []string{"influx:" + itoa(d.parent.id)}
			m.title = s.messageTitleLocked(d.parent)
		}
		m.tags = dedupTags(influx, given, derived, fileTag)
		switch d.event {
		case "message", "comment", "file":
			t := d.thread
			if t == nil && d.parent != nil {
				t = d.parent.thread
			}
			if t == nil {
				title := d.text
				if d.file != nil {
					title = d.file.name
				}
				t = s.newThreadLocked(d.flow, title, m.id, false)
			}
			t.internal++
			t.updated = now
			m.thread = t
		case "activity", "discussion":
			t := d.thread
			if d.event == "activity" {
				t.activities++
			} else {
				t.external++
			}
			if t.initial == 0 {
				t.initial = m.id
			}
			t.updated = now
			m.thread = t
		}
		d.flow.msgs = append(d.flow.msgs, m)
		d.flow.byID[m.id] = m
		if m.uuid != "" {
			d.flow.uuids[m.uuid] = true
		}
	default:
		c := d.chat
		c.nextID++
		m.id = c.nextID
		m.tags = dedupTags([]string{":unread:" + itoa(d.to)}, given, derived, fileTag)
		c.msgs = append(c.msgs, m)
		c.byID[m.id] = m
		if m.uuid != "" {
			c.uuids[m.uuid] = true
		}
		c.exists[c.a], c.exists[c.b] = true, true
		c.open[c.a], c.open[c.b] = true, true
	}
	s.publishMessageLocked(m)
	return m
}

func (s *Server) newThreadLocked(f *flow, title string, initial int, integration bool) *thread {
	now := s.now()
	s.threadSeq++
	t := &thread{id: newThreadID(), flow: f, title: title, initial: initial, integration: integration,
		created: now, updated: now, order: s.threadSeq}
	f.threads[t.id] = t
	f.threadList = append(f.threadList, t)
	return t
}

// messageTitleLocked is the title a comment shows for its parent.
func (s *Server) messageTitleLocked(m *message) string {
	switch m.event {
	case "activity", "discussion":
		if m.thread != nil {
			return m.thread.title
		}
		return m.title
	case "file":
		return m.file.name
	case "comment":
		return m.title
	}
	return m.text
}

// publishMessageLocked puts m on the stream of its flow or private chat.
func (s *Server) publishMessageLocked(m *message) {
	data, _ := json.Marshal(s.messageJSONLocked(m))
	e := logEntry{data: data}
	if m.flow != nil {
		e.flow = m.flow
	} else {
		e.chat = m.chat
	}
	s.appendEventLocked(e)
}

// target is where a post goes, from the path or the body.
type target struct {
	flow    *flow
	chat    *chat
	to      int
	thread  *thread  // from the path
	parent  *message // from the path (comment endpoint)
	comment bool     // a comment endpoint
}

var chatEvents = map[string]bool{"message": true, "status": true, "file": true}

// postLocked handles a user-token post to any send endpoint: 201 and the
// message, as real clients saw (the docs say 202), or 200 with
// X-flowdock-wait-for-message.
func (s *Server) postLocked(c *call, t target, endpoint string) (int, any, *apiError) {
	m, e := s.createLocked(c, t, endpoint)
	if e != nil {
		return 0, nil, e
	}
	if m.flow != nil {
		c.header.Set("Link", "<"+s.flowURL(m.flow)+"/messages/"+itoa(m.id)+`/comments>; rel="comments"`)
	}
	status := http.StatusCreated
	if c.wait {
		status = http.StatusOK
	}
	return status, s.messageJSONLocked(m), nil
}

// createLocked validates and stores a user's post. A post by the bot
// through the REST API is recorded as sent.
func (s *Server) createLocked(c *call, t target, endpoint string) (*message, *apiError) {
	v := validation{}
	event, ok, err := c.p.str("event")
	switch {
	case err != nil:
		v.add("event", err.Error())
	case !ok || event == "":
		v.add("event", "can't be blank")
	case t.comment && event != "comment":
		v.add("event", "must be comment on this endpoint")
	case t.chat != nil && event != "message" && event != "file":
		v.add("event", "private messages support only message and file")
	case !t.comment && t.chat == nil && event == "comment":
		v.add("event", "post comments to /comments or /flows/:org/:flow/messages/:id/comments")
	case !t.comment && t.chat == nil && (event == "activity" || event == "discussion"):
		v.add("event", "activity and discussion are posted by integrations with a flow_token")
	case !t.comment && t.chat == nil && !chatEvents[event]:
		v.add("event", "is not included in the list")
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	d := draft{event: event, flow: t.flow, chat: t.chat, to: t.to, user: c.user.id, thread: t.thread, parent: t.parent}
	if event == "file" {
		fl, e := s.fileFromPostLocked(c, t)
		if e != nil {
			return nil, e
		}
		d.file = fl
	} else {
		d.text = s.contentParam(c.p, v)
	}
	s.commonParamsLocked(c, &d, t, v)
	if t.comment {
		d.thread = nil // a comment joins its parent's thread
	}
	if t.comment && d.parent == nil {
		id, ok, err := c.p.integer("message")
		switch {
		case err != nil:
			v.add("message", err.Error())
		case !ok:
			v.add("message", "can't be blank")
		default:
			if pm := t.flow.byID[id]; pm == nil || pm.removed || pm.event == "message-edit" || pm.event == "tag-change" {
				v.add("message", "is invalid")
			} else {
				d.parent = pm
			}
		}
	}
	if d.parent != nil && d.parent.event == "comment" {
		v.add("message", "cannot comment on a comment")
	}
	if e := v.err(); e != nil {
		if d.file != nil {
			delete(s.files, d.file.hash)
		}
		return nil, e
	}
	if d.event == "status" {
		d.thread = nil
	}
	m := s.storeLocked(d)
	if c.user == s.bot && !c.sim {
		s.addSentLocked(m, endpoint)
	}
	return m, nil
}

// contentParam reads a chat content string.
func (s *Server) contentParam(p params, v validation) string {
	text, ok, err := p.str("content")
	switch {
	case err != nil:
		v.add("content", err.Error())
	case !ok || strings.TrimSpace(text) == "":
		v.add("content", "can't be blank")
	case utf8.RuneCountInString(text) > maxContent:
		v.add("content", "is too long (maximum is 8096 characters)")
	}
	return text
}

// commonParamsLocked reads tags, uuid, thread_id and external_user_name.
func (s *Server) commonParamsLocked(c *call, d *draft, t target, v validation) {
	if tags, _, err := c.p.list("tags"); err != nil {
		v.add("tags", err.Error())
	} else {
		d.tags = tags
	}
	if u, ok, err := c.p.str("uuid"); err != nil {
		v.add("uuid", err.Error())
	} else if ok && u != "" {
		taken := false
		if t.flow != nil {
			taken = t.flow.uuids[u]
		} else if t.chat != nil {
			taken = t.chat.uuids[u]
		}
		if taken {
			v.add("uuid", "has already been taken")
		}
		d.uuid = u
	}
	if name, ok, err := c.p.str("external_user_name"); err != nil {
		v.add("external_user_name", err.Error())
	} else if ok && name != "" {
		d.extUser = name
		d.user = 0
	}
	if t.flow == nil || d.thread != nil {
		return
	}
	if id, ok, err := c.p.str("thread_id"); err != nil {
		v.add("thread_id", err.Error())
	} else if ok && id != "" {
		if th := t.flow.threads[id]; th != nil {
			d.thread = th
		} else {
			v.add("thread_id", "is invalid")
		}
	}
}

// fileFromPostLocked reads an upload: multipart "content" file part, or
// JSON content {data (base64), content_type, file_name}, the two upload
// encodings Flowdock documents.
func (s *Server) fileFromPostLocked(c *call, t target) (*file, *apiError) {
	var name, ctype string
	var data []byte
	v := validation{}
	switch {
	case len(c.ups) > 0:
		i := slices.IndexFunc(c.ups, func(u upload) bool { return u.field == "content" })
		if i < 0 {
			v.add("content", "can't be blank: send the file as the multipart field \"content\"")
			return nil, v.err()
		}
		up := c.ups[i]
		name, ctype, data = up.name, up.ctype, up.data
	default:
		obj, ok, err := c.p.object("content")
		if err != nil || !ok {
			v.add("content", "must be a file: multipart field \"content\", or {data, content_type, file_name}")
			return nil, v.err()
		}
		b64, _ := obj["data"].(string)
		raw, err := base64.StdEncoding.DecodeString(b64)
		if b64 == "" || err != nil {
			v.add("content.data", "must be base64-encoded file data")
		}
		name, _ = obj["file_name"].(string)
		if name == "" {
			v.add("content.file_name", "can't be blank")
		}
		ctype, _ = obj["content_type"].(string)
		if e := v.err(); e != nil {
			return nil, e
		}
		data = raw
	}
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "file"
	}
	if ctype == "" || ctype == "application/octet-stream" {
		if byExt := mime.TypeByExtension(path.Ext(name)); byExt != "" {
			ctype = byExt
		} else if ctype == "" {
			ctype = http.DetectContentType(data)
		}
	}
	fl := &file{hash: randomHex(16), name: name, ctype: ctype, data: data, flow: t.flow, chat: t.chat}
	if t.flow != nil {
		fl.path = filePath("/files/"+itoa(t.flow.org.id), fl.hash, name)
	} else {
		fl.path = filePath("/private/"+itoa(t.chat.a)+"/"+itoa(t.chat.b)+"/files", fl.hash, name)
	}
	s.files[fl.hash] = fl
	return fl, nil
}

// integrationPostLocked handles a flow_token post: activity, discussion, or
// an anonymous chat message. The answer is 202 {} (200 with the message
// when X-flowdock-wait-for-message is set).
func (s *Server) integrationPostLocked(c *call, f *flow, pathThread *thread) (int, any, *apiError) {
	m, e := s.integrationCreateLocked(c, f, pathThread)
	if e != nil {
		return 0, nil, e
	}
	s.integration = append(s.integration, s.messageViewLocked(m))
	if c.wait {
		return http.StatusOK, s.messageJSONLocked(m), nil
	}
	return http.StatusAccepted, struct{}{}, nil
}

// integrationCreateLocked validates and stores a flow-token post.
func (s *Server) integrationCreateLocked(c *call, f *flow, pathThread *thread) (*message, *apiError) {
	v := validation{}
	event, ok, err := c.p.str("event")
	switch {
	case err != nil:
		v.add("event", err.Error())
	case !ok || event == "":
		v.add("event", "can't be blank")
	case event != "activity" && event != "discussion" && event != "message":
		v.add("event", "is not included in the list")
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	d := draft{event: event, flow: f, user: 0, thread: pathThread}
	t := target{flow: f, thread: pathThread}
	if event == "message" {
		d.text = s.contentParam(c.p, v)
		s.commonParamsLocked(c, &d, t, v)
		d.user = 0
		if e := v.err(); e != nil {
			return nil, e
		}
		ext, _, _ := c.p.str("external_thread_id")
		if d.thread == nil && ext != "" {
			d.thread = f.extThreads[ext]
		}
		m := s.storeLocked(d)
		if ext != "" && f.extThreads[ext] == nil {
			f.extThreads[ext] = m.thread
		}
		return m, nil
	}
	d.app = "influx"
	// author
	if a, ok, err := c.p.object("author"); err != nil {
		v.add("author", err.Error())
	} else if !ok {
		v.add("author", "can't be blank")
	} else {
		name, _ := a["name"].(string)
		if strings.TrimSpace(name) == "" {
			v.add("author.name", "can't be blank")
		}
		for _, k := range []string{"avatar", "email"} {
			if x, has := a[k]; has && x != nil {
				if _, isStr := x.(string); !isStr {
					v.add("author."+k, "must be a string")
				}
			}
		}
		d.author = a
	}
	// title and body
	if title, ok, err := c.p.str("title"); err != nil {
		v.add("title", err.Error())
	} else if !ok || strings.TrimSpace(title) == "" {
		v.add("title", "can't be blank")
	} else {
		d.title = title
	}
	if body, ok, err := c.p.str("body"); err != nil {
		v.add("body", err.Error())
	} else if ok {
		d.body = &body
	}
	if event == "discussion" && (d.body == nil || strings.TrimSpace(*d.body) == "") {
		v.add("body", "can't be blank")
	}
	s.commonParamsLocked(c, &d, t, v)
	d.user = 0
	// thread
	ext, _, err := c.p.str("external_thread_id")
	if err != nil {
		v.add("external_thread_id", err.Error())
	}
	if d.thread == nil && ext == "" {
		v.add("external_thread_id", "can't be blank (or give thread_id)")
	}
	var spec *threadSpec
	if obj, ok, err := c.p.object("thread"); err != nil {
		v.add("thread", err.Error())
	} else if ok {
		spec = validateThread(obj, v)
	}
	existing := d.thread
	if existing == nil && ext != "" {
		existing = f.extThreads[ext]
	}
	if existing == nil && spec == nil && len(v) == 0 {
		v.add("thread", "can't be blank for a new external_thread_id")
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	if existing == nil {
		existing = s.newThreadLocked(f, spec.title, 0, true)
		f.extThreads[ext] = existing
	}
	existing.integration = true
	if spec != nil {
		spec.apply(existing)
	}
	d.thread = existing
	return s.storeLocked(d), nil
}

// threadSpec is a validated thread object of an integration post.
type threadSpec struct {
	title, body string
	externalURL *string
	status      map[string]any
	fields      []any
	actions     []any
}

func (t *threadSpec) apply(th *thread) {
	th.title, th.body, th.externalURL = t.title, t.body, t.externalURL
	th.status, th.fields, th.actions = t.status, t.fields, t.actions
}

// validateThread checks a posted thread object (title required; status
// colour, fields and ViewAction/UpdateAction actions as documented);
// problems go to v under "thread.<field>".
func validateThread(obj map[string]any, v validation) *threadSpec {
	t := &threadSpec{}
	title, _ := obj["title"].(string)
	if strings.TrimSpace(title) == "" {
		v.add("thread.title", "can't be blank")
	}
	t.title = title
	switch b := obj["body"].(type) {
	case nil:
	case string:
		t.body = b
	default:
		v.add("thread.body", "must be a string")
	}
	switch u := obj["external_url"].(type) {
	case nil:
	case string:
		if u != "" {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				v.add("thread.external_url", "is not a valid URL")
			}
			t.externalURL = &u
		}
	default:
		v.add("thread.external_url", "must be a string")
	}
	switch st := obj["status"].(type) {
	case nil:
	case map[string]any:
		color, _ := st["color"].(string)
		value, isStr := st["value"].(string)
		if !slices.Contains(statusColors, color) {
			v.add("thread.status.color", "is not included in the list: "+strings.Join(statusColors, ", "))
		}
		if !isStr || strings.TrimSpace(value) == "" {
			v.add("thread.status.value", "can't be blank")
		}
		t.status = map[string]any{"color": color, "value": value}
	default:
		v.add("thread.status", "must be an object {color, value}")
	}
	switch fs := obj["fields"].(type) {
	case nil:
	case []any:
		for _, x := range fs {
			f, ok := x.(map[string]any)
			_, lok := f["label"].(string)
			_, vok := f["value"].(string)
			if !ok || !lok || !vok {
				v.add("thread.fields", "must be a list of {label, value} strings")
				break
			}
		}
		t.fields = fs
	default:
		v.add("thread.fields", "must be a list of {label, value}")
	}
	switch as := obj["actions"].(type) {
	case nil:
	case []any:
		for _, x := range as {
			if msg := checkAction(x); msg != "" {
				v.add("thread.actions", msg)
				break
			}
		}
		t.actions = as
	default:
		v.add("thread.actions", "must be a list of actions")
	}
	return t
}

// checkAction validates a schema.org ViewAction or UpdateAction.
func checkAction(x any) string {
	a, ok := x.(map[string]any)
	if !ok {
		return "each action must be an object"
	}
	name, _ := a["name"].(string)
	if name == "" {
		return "an action needs a name"
	}
	switch a["@type"] {
	case "ViewAction":
		if _, ok := a["url"].(string); !ok {
			return "a ViewAction needs a url"
		}
	case "UpdateAction":
		tg, ok := a["target"].(map[string]any)
		if !ok || tg["@type"] != "EntryPoint" {
			return "an UpdateAction needs a target of @type EntryPoint"
		}
		if u, _ := tg["urlTemplate"].(string); u == "" {
			return "an UpdateAction target needs a urlTemplate"
		}
		if m, _ := tg["httpMethod"].(string); m == "" {
			return "an UpdateAction target needs an httpMethod"
		}
	default:
		return "@type must be ViewAction or UpdateAction"
	}
	return ""
}

// editLocked updates content and/or tags and emits message-edit and
// tag-change events with their own ids.
func (s *Server) editLocked(c *call, m *message) (int, any, *apiError) {
	hasContent, hasTags := c.p.present("content"), c.p.present("tags")
	if !hasContent && !hasTags {
		return 0, nil, &apiError{status: http.StatusBadRequest, message: "Validation error",
			errors: map[string][]string{"content": {"content or tags is required"}}}
	}
	v := validation{}
	var text string
	var tags []string
	if hasContent {
		text = s.contentParam(c.p, v)
	}
	if hasTags {
		var err error
		if tags, _, err = c.p.list("tags"); err != nil {
			v.add("tags", err.Error())
		}
	}
	if e := v.err(); e != nil {
		return 0, nil, e
	}
	if hasContent && (m.user != c.user.id || (m.event != "message" && m.event != "comment")) {
		return 0, nil, &apiError{status: http.StatusForbidden, message: "forbidden: only the author can change the content of a message or comment"}
	}
	if !hasContent && (m.event == "message-edit" || m.event == "tag-change") {
		return 0, nil, errForbidden()
	}
	s.applyEditLocked(m, c.user.id, hasContent, text, hasTags, tags)
	return http.StatusOK, struct{}{}, nil
}

// applyEditLocked changes m and emits the events. tags are as given.
func (s *Server) applyEditLocked(m *message, editor int, hasContent bool, text string, hasTags bool, tags []string) {
	oldTags := slices.Clone(m.tags)
	if hasContent && text != m.text {
		m.text = text
		m.edited = s.now()
		var updated any = text
		if m.event == "comment" {
			updated = map[string]string{"title": m.title, "text": text}
		}
		s.emitEditEventLocked(m, editor, "message-edit", map[string]any{"message": m.id, "updated_content": updated})
	}
	switch {
	case hasTags:
		m.tags = dedupTags(s.normalizeTagsLocked(tags))
	case hasContent:
		m.tags = dedupTags(m.tags, s.contentTagsLocked(m.text, m.flow, m.user))
	}
	var add, remove []string
	for _, t := range m.tags {
		if !hasTag(oldTags, t) {
			add = append(add, t)
		}
	}
	for _, t := range oldTags {
		if !hasTag(m.tags, t) {
			remove = append(remove, t)
		}
	}
	if len(add) > 0 || len(remove) > 0 {
		if add == nil {
			add = []string{}
		}
		if remove == nil {
			remove = []string{}
		}
		s.emitEditEventLocked(m, editor, "tag-change", map[string]any{"message": m.id, "add": add, "remove": remove})
	}
}

// emitEditEventLocked stores a message-edit or tag-change event with the
// next id of the flow or chat and streams it.
func (s *Server) emitEditEventLocked(m *message, editor int, event string, content any) {
	e := &message{event: event, flow: m.flow, chat: m.chat, user: editor, meta: content, sent: s.now()}
	if m.flow != nil {
		m.flow.nextID++
		e.id = m.flow.nextID
		m.flow.msgs = append(m.flow.msgs, e)
		m.flow.byID[e.id] = e
	} else {
		m.chat.nextID++
		e.id = m.chat.nextID
		e.to = m.to
		if editor == m.to {
			e.to = m.chat.other(editor)
		}
		m.chat.msgs = append(m.chat.msgs, e)
		m.chat.byID[e.id] = e
	}
	s.publishMessageLocked(e)
}

// deleteLocked applies Flowdock's documented delete rules: integration
// items are removed by anyone (204), own files are removed (204), own chat
// messages are truncated to "" (200 {}), anything else is 403.
func (s *Server) deleteLocked(c *call, m *message) (int, any, *apiError) {
	switch {
	case m.event == "activity" || m.event == "discussion":
		m.removed = true
		return http.StatusNoContent, nil, nil
	case m.event == "file" && m.user == c.user.id:
		m.removed = true
		m.file.removed = true
		return http.StatusNoContent, nil, nil
	case m.chatContent() && m.user == c.user.id:
		m.text = ""
		m.deleted = true
		return http.StatusOK, struct{}{}, nil
	}
	return 0, nil, &apiError{status: http.StatusForbidden, message: "forbidden: you can delete only your own messages"}
}
