package sendbeetest

import (
	"cmp"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// maxText is WhatsApp's limit on the text of one message.
const maxText = 4096

// mediaExt maps file extensions to media types, after the formats Sendbee
// documents for sends and template attachments.
var mediaExt = map[string]string{
	".aac": "audio", ".m4a": "audio", ".amr": "audio", ".mp3": "audio", ".ogg": "audio", ".opus": "audio",
	".mp4": "video", ".3gp": "video", ".3gpp": "video",
	".jpg": "image", ".jpeg": "image", ".png": "image",
	".pdf": "document", ".doc": "document", ".docx": "document", ".ppt": "document", ".pptx": "document",
	".xls": "document", ".xlsx": "document",
}

// mediaTypeOf checks that raw is an absolute http(s) URL and derives the
// media type from its extension. A URL without an extension is accepted as
// a document (the emulator cannot fetch it); an unsupported extension is an
// error.
func mediaTypeOf(key, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", badRequest("%s must be an absolute http(s) URL, got %q", key, raw)
	}
	ext := strings.ToLower(path.Ext(u.Path))
	if ext == "" {
		return "document", nil
	}
	t, ok := mediaExt[ext]
	if !ok {
		return "", badRequest("%s: unsupported media format %s (supported: audio AAC, M4A, AMR, MP3, OGG Opus; "+
			"video MP4, 3GPP; image JPG/JPEG, PNG; document PDF, DOC(X), PPT(X), XLS(X))", key, ext)
	}
	return t, nil
}

var folders = []string{"open", "done", "spam", "notified"}

// listConversations serves GET /conversations, most recently active first.
// date_from and date_to (Unix seconds, inclusive) filter on the time of the
// last message, or the creation time of a conversation without messages.
func (s *Server) listConversations(c *call) (*result, error) {
	c.allowQuery("folder", "search_query", "page", "limit", "date_from", "date_to")
	folder, err := c.queryEnum("folder", folders...)
	if err != nil {
		return nil, err
	}
	from, err := c.queryInt("date_from", -1, 0)
	if err != nil {
		return nil, err
	}
	to, err := c.queryInt("date_to", -1, 0)
	if err != nil {
		return nil, err
	}
	search := c.q.texts("search_query")
	s.mu.Lock()
	defer s.mu.Unlock()
	convs := slices.Clone(s.st.convs)
	slices.SortStableFunc(convs, func(a, b *conversation) int {
		if c := b.lastActivity().Compare(a.lastActivity()); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	var out []wireConversation
	for _, cv := range convs {
		at := cv.lastActivity().Unix()
		switch {
		case folder != "" && cv.folder != folder,
			from >= 0 && at < from,
			to >= 0 && at > to,
			!matchAny(search, cv.contact.name, cv.contact.phone, cv.contact.bsuid):
			continue
		}
		out = append(out, wireConversationOf(cv))
	}
	return paginate(c, out)
}

func (s *Server) getConversation(c *call) (*result, error) {
	c.allowQuery("conversation_id")
	id, err := c.queryID("conversation_id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(id)
	if cv == nil {
		return nil, notFound("conversation not found: %s", id)
	}
	return one(wireConversationOf(cv))
}

// updateConversation serves POST /conversation: move it to folder open or
// done.
func (s *Server) updateConversation(c *call) (*result, error) {
	if err := c.parseBody("conversation_id", "folder"); err != nil {
		return nil, err
	}
	id, err := c.id("conversation_id")
	if err != nil {
		return nil, err
	}
	folder, _, err := c.str("folder", true)
	if err != nil {
		return nil, err
	}
	if folder != "open" && folder != "done" {
		return nil, badRequest("folder must be open or done, got %q", folder)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(id)
	if cv == nil {
		return nil, notFound("conversation not found: %s", id)
	}
	cv.folder = folder
	return one(wireConversationOf(cv))
}

// listMessages serves GET /conversations/messages, newest first.
func (s *Server) listMessages(c *call) (*result, error) {
	c.allowQuery("conversation_id", "page", "limit")
	id, err := c.queryID("conversation_id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(id)
	if cv == nil {
		return nil, notFound("conversation not found: %s", id)
	}
	out := make([]wireMessage, 0, len(cv.msgs))
	for i := len(cv.msgs) - 1; i >= 0; i-- {
		out = append(out, wireMessageOf(cv.msgs[i]))
	}
	return paginate(c, out)
}

// listTemplates serves GET /conversations/messages/templates. The pre-2021
// boolean "approved" parameter is still honoured, with a deprecation
// warning.
func (s *Server) listTemplates(c *call) (*result, error) {
	c.allowQuery("status", "search_query", "page", "limit", "approved")
	status, err := c.queryEnum("status", "pending", "approved", "rejected")
	if err != nil {
		return nil, err
	}
	approved := "" // the deprecated filter: "", "1" or "0"
	if v, ok := c.q.get("approved"); ok {
		c.warn("parameter approved is deprecated; use status=approved|pending|rejected")
		switch strings.ToLower(v) {
		case "1", "true":
			approved = "1"
		case "0", "false":
			approved = "0"
		default:
			return nil, badRequest("approved must be 1/0 or true/false, got %q", v)
		}
	}
	search := c.q.texts("search_query")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wireTemplate
	for _, t := range s.st.templates {
		switch {
		case status != "" && t.status != status,
			status == "" && approved == "1" && t.status != "approved",
			status == "" && approved == "0" && t.status == "approved":
			continue
		}
		if !matchAny(search, t.keyword, t.name, t.text) {
			continue
		}
		out = append(out, wireTemplateOf(t))
	}
	return paginate(c, out)
}

// recipient reads phone / whatsapp_user_id. phone wins when both are given
// (as the PHP SDK documents).
func readRecipient(c *call) (phone, bsuid string, err error) {
	phone, hasPhone, err := c.str("phone", false)
	if err != nil {
		return "", "", err
	}
	bsuid, _, err = c.str("whatsapp_user_id", false)
	if err != nil {
		return "", "", err
	}
	if !hasPhone && bsuid == "" {
		return "", "", badRequest("phone is required (or whatsapp_user_id)")
	}
	if hasPhone {
		if phone, err = normalizePhone(phone); err != nil {
			return "", "", badRequest("%v", err)
		}
	}
	return phone, bsuid, nil
}

// outbound is one message accepted by a send endpoint.
type outbound struct {
	endpoint         string
	phone, bsuid     string
	text             string // the text field as received
	body             string // what the contact sees
	mediaType, media string
	tpl              *template
	tplTags, btnTags map[string]string
	attachment       string
	preventBotOff    *bool
	agentID          string
	liveInbox        *bool
}

// readCommon reads prevent_bot_off, agent_id and live_inbox.
func readCommon(c *call, o *outbound) error {
	var err error
	if o.preventBotOff, err = c.boolean("prevent_bot_off"); err != nil {
		return err
	}
	if o.liveInbox, err = c.boolean("live_inbox"); err != nil {
		return err
	}
	agent, has, err := c.str("agent_id", false)
	if err != nil {
		return err
	}
	if has && agent != "" {
		if !isUUID(agent) {
			return badRequest("agent_id must be a UUID, got %q", agent)
		}
		o.agentID = agent
	}
	return nil
}

// sendMessage serves POST /conversations/messages/send.
func (s *Server) sendMessage(c *call) (*result, error) {
	if err := c.parseBody("phone", "whatsapp_user_id", "text", "media_url", "prevent_bot_off", "agent_id", "live_inbox"); err != nil {
		return nil, err
	}
	o := outbound{endpoint: "/conversations/messages/send"}
	var err error
	if o.phone, o.bsuid, err = readRecipient(c); err != nil {
		return nil, err
	}
	if o.text, _, err = c.str("text", false); err != nil {
		return nil, err
	}
	if o.media, _, err = c.str("media_url", false); err != nil {
		return nil, err
	}
	if o.text == "" && o.media == "" {
		return nil, badRequest("text or media_url is required")
	}
	if n := utf8.RuneCountInString(o.text); n > maxText {
		return nil, badRequest("text is %d characters long; the maximum is %d", n, maxText)
	}
	if o.media != "" {
		if o.mediaType, err = mediaTypeOf("media_url", o.media); err != nil {
			return nil, err
		}
	}
	if err := readCommon(c, &o); err != nil {
		return nil, err
	}
	o.body = o.text
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.agentID != "" && s.st.memberByID(o.agentID) == nil {
		return nil, badRequest("agent_id: no team member with id %s", o.agentID)
	}
	if err := s.windowErrorLocked(s.existingRecipientLocked(o.phone, o.bsuid), s.bizNow()); err != nil {
		return nil, err
	}
	return one(s.sendLocked(o))
}

// sendTemplate serves POST /conversations/messages/templates/send. The
// template must exist for keyword and language and be approved; every body
// placeholder needs a value in tags and every button placeholder one in
// button_tags; a media template needs an attachment URL of its kind.
func (s *Server) sendTemplate(c *call) (*result, error) {
	if err := c.parseBody("phone", "whatsapp_user_id", "template_keyword", "language", "tags", "button_tags",
		"attachment", "prevent_bot_off", "agent_id", "live_inbox"); err != nil {
		return nil, err
	}
	o := outbound{endpoint: "/conversations/messages/templates/send"}
	var err error
	if o.phone, o.bsuid, err = readRecipient(c); err != nil {
		return nil, err
	}
	keyword, _, err := c.str("template_keyword", true)
	if err != nil {
		return nil, err
	}
	lang, _, err := c.str("language", true)
	if err != nil {
		return nil, err
	}
	tags, _, err := c.object("tags")
	if err != nil {
		return nil, err
	}
	btnTags, _, err := c.object("button_tags")
	if err != nil {
		return nil, err
	}
	if o.attachment, _, err = c.str("attachment", false); err != nil {
		return nil, err
	}
	if err := readCommon(c, &o); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var tpl *template
	var langs []string
	for _, t := range s.st.templates {
		if t.keyword == keyword {
			langs = append(langs, t.language)
			if t.language == lang {
				tpl = t
			}
		}
	}
	switch {
	case tpl == nil && len(langs) == 0:
		return nil, badRequest("message template not found: %q", keyword)
	case tpl == nil:
		return nil, badRequest("message template %q has no %q version (languages: %s)", keyword, lang, strings.Join(langs, ", "))
	case tpl.status != "approved":
		return nil, badRequest("message template %q (%s) is %s; only approved templates can be sent", keyword, lang, tpl.status)
	}
	if o.tplTags, err = fillPlaceholders(c, "tags", tpl.tags, tags); err != nil {
		return nil, err
	}
	if o.btnTags, err = fillPlaceholders(c, "button_tags", tpl.buttonTags, btnTags); err != nil {
		return nil, err
	}
	switch {
	case tpl.attachment == "" && o.attachment != "":
		return nil, badRequest("message template %q does not accept an attachment", keyword)
	case tpl.attachment != "" && o.attachment == "":
		return nil, badRequest("message template %q requires an %s attachment URL", keyword, tpl.attachment)
	case tpl.attachment != "":
		kind, err := mediaTypeOf("attachment", o.attachment)
		if err != nil {
			return nil, err
		}
		if kind != tpl.attachment {
			return nil, badRequest("message template %q takes an %s attachment, got a %s URL", keyword, tpl.attachment, kind)
		}
		o.mediaType, o.media = kind, o.attachment
	}
	if o.agentID != "" && s.st.memberByID(o.agentID) == nil {
		return nil, badRequest("agent_id: no team member with id %s", o.agentID)
	}
	if cv := s.existingRecipientLocked(o.phone, o.bsuid); cv != nil && cv.contact.status == "unsubscribed" {
		return nil, unsubscribed("contact %s is unsubscribed; template messages cannot be sent to it until it subscribes again", cv.contact.id)
	}
	o.tpl = tpl
	o.body = render(tpl.text, o.tplTags)
	return one(s.sendLocked(o))
}

// fillPlaceholders checks that every placeholder has a value and warns
// about values for unknown placeholders.
func fillPlaceholders(c *call, key string, want []string, got map[string]*string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range want {
		v := got[p]
		if v == nil || strings.TrimSpace(*v) == "" {
			return nil, badRequest("%s: missing value for placeholder {{%s}}", key, p)
		}
		out[p] = *v
	}
	extra := make([]string, 0)
	for k := range got {
		if !slices.Contains(want, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		c.warn("%s: unknown placeholder ignored: %s", key, k)
	}
	return out, nil
}

func render(text string, tags map[string]string) string {
	for k, v := range tags {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	return text
}

// recipientLocked finds or creates the contact (and its conversation) for
// phone or, without a phone, whatsapp_user_id. When both are given the
// phone wins: an unknown phone gets a new contact, which takes
// the whatsapp_user_id only if no other contact has it.
func (s *Server) recipientLocked(phone, bsuid string, now time.Time) *conversation {
	if phone != "" {
		if ct := s.st.contactByPhone(phone); ct != nil {
			return ct.conv
		}
		if bsuid != "" && s.st.contactByBSUID(bsuid) != nil {
			bsuid = ""
		}
		return s.st.newContact(phone, bsuid, "", now, s.cfg.chatbotDefault).conv
	}
	if ct := s.st.contactByBSUID(bsuid); ct != nil {
		return ct.conv
	}
	return s.st.newContact("", bsuid, "", now, s.cfg.chatbotDefault).conv
}

// sendLocked stores an accepted API message, applies the chatbot rule (a
// send without prevent_bot_off: true switches the chatbot off), records
// it, and emits its events: message.sent, chatbot.status (if the state
// changed), then message.status sent and delivered (or failed). s.mu must
// be held.
func (s *Server) sendLocked(o outbound) wireSentMessage {
	now := s.bizNow()
	cv := s.recipientLocked(o.phone, o.bsuid, now)
	m := &message{
		id: newUUID(), refID: "wamid." + randomHex(16), direction: "outbound", body: o.body,
		mediaType: o.mediaType, mediaURL: o.media, status: "queued", sentAt: now,
		fromUserID: o.agentID, toUserID: cv.contact.id, source: "api",
	}
	if o.tpl != nil {
		m.template, m.templateLang = o.tpl.keyword, o.tpl.language
	}
	if o.agentID != "" {
		cv.agentID = o.agentID
		m.agentName = s.st.memberByID(o.agentID).name
	}
	s.st.addMessage(cv, m)

	changed := false
	if o.preventBotOff == nil || !*o.preventBotOff {
		changed = cv.chatbot
		cv.chatbot = false
	}

	rec := SentMessage{
		Endpoint: o.endpoint, ConversationID: cv.id, MessageID: m.id, MessageReferenceID: m.refID,
		Phone: o.phone, WhatsAppUserID: o.bsuid, Text: o.body, MediaURL: o.media, MediaType: o.mediaType,
		PreventBotOff: clonePtr(o.preventBotOff), AgentID: o.agentID, LiveInbox: clonePtr(o.liveInbox),
		ChatbotActive: cv.chatbot, Time: now,
	}
	if o.tpl != nil {
		rec.TemplateKeyword, rec.TemplateLanguage = o.tpl.keyword, o.tpl.language
		rec.TemplateTags, rec.ButtonTags, rec.Attachment = o.tplTags, o.btnTags, o.attachment
	}
	s.addSentLocked(rec)

	s.emitLocked(cv.id, EventMessageSent, messageSentData(cv, m, "api"))
	if changed {
		s.emitLocked(cv.id, EventChatbotStatus, chatbotStatusData(cv, "api_send"))
	}
	resp := wireSentMessage{ID: cv.id, MessageID: m.id, MessageReferenceID: m.refID, Status: "queued"}
	if len(s.msgFails) > 0 {
		m.status, m.failReason = "failed", s.msgFails[0]
		s.msgFails = s.msgFails[1:]
		s.emitLocked(cv.id, EventMessageStatus, messageStatusData(cv, m))
		return resp
	}
	for _, st := range []string{"sent", "delivered"} {
		m.status = st
		s.emitLocked(cv.id, EventMessageStatus, messageStatusData(cv, m))
	}
	return resp
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
