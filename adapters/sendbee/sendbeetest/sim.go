package sendbeetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// errNotFound marks unknown IDs in the simulation API.
var errNotFound = errors.New("not found")

var simMediaTypes = []string{"image", "video", "audio", "document", "sticker"}

// customer stores an inbound message from phone and emits message.received.
func (s *Server) customer(phone, name, text, mediaType, mediaURL string) (string, string, error) {
	p, err := normalizePhone(phone)
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(text) == "" && mediaURL == "" {
		return "", "", errors.New("text or media_url is required")
	}
	if mediaURL != "" {
		u, err := url.Parse(mediaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", "", fmt.Errorf("media_url must be an absolute http(s) URL, got %q", mediaURL)
		}
		if mediaType == "" {
			if mediaType, err = mediaTypeOf("media_url", mediaURL); err != nil {
				return "", "", fmt.Errorf("media_type is required: %s", err.(*apiError).detail)
			}
		}
		if !slices.Contains(simMediaTypes, mediaType) {
			return "", "", fmt.Errorf("media_type must be one of %s, got %q", strings.Join(simMediaTypes, ", "), mediaType)
		}
	} else if mediaType != "" {
		return "", "", errors.New("media_type given without media_url")
	}
	now := s.bizNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.st.contactByPhone(p)
	if ct == nil {
		ct = s.st.newContact(p, "", strings.TrimSpace(name), now, s.cfg.chatbotDefault)
	} else if ct.name == "" && name != "" {
		ct.name = strings.TrimSpace(name)
	}
	cv := ct.conv
	if cv.folder == "done" {
		cv.folder = "open"
	}
	m := &message{
		id: newUUID(), direction: "inbound", body: text, mediaType: mediaType, mediaURL: mediaURL,
		status: "received", sentAt: now, fromUserID: ct.id, source: "customer",
	}
	s.st.addMessage(cv, m)
	s.emitLocked(cv.id, EventMessageReceived, messageReceivedData(cv, m))
	return cv.id, m.id, nil
}

// CustomerMessage acts as the customer with the given phone number sending
// text to the business. On first contact it creates the contact (named
// name) and its conversation, with chatbot_active as set by
// [WithChatbotDefault]. It stores the inbound message, moves a "done"
// conversation back to "open", leaves chatbot_active unchanged (assumed:
// Sendbee does not document it)
// and emits message.received. It panics if phone is not an international
// number or text is empty, as these are mistakes in the test.
func (s *Server) CustomerMessage(phone, name, text string) (conversationID, messageID string) {
	cid, mid, err := s.customer(phone, name, text, "", "")
	if err != nil {
		panic("sendbeetest: CustomerMessage: " + err.Error())
	}
	return cid, mid
}

// CustomerMedia is like [Server.CustomerMessage] for a media message:
// mediaType is image, video, audio, document or sticker ("" derives it
// from the URL's extension), mediaURL the file and caption the optional
// text. It panics on invalid input.
func (s *Server) CustomerMedia(phone, name, mediaType, mediaURL, caption string) (conversationID, messageID string) {
	if mediaURL == "" {
		panic("sendbeetest: CustomerMedia: empty media URL")
	}
	cid, mid, err := s.customer(phone, name, caption, mediaType, mediaURL)
	if err != nil {
		panic("sendbeetest: CustomerMedia: " + err.Error())
	}
	return cid, mid
}

// agentID returns the ID of the team member called name, or a stable ID
// derived from the name for an agent the demo data does not know.
func agentIDFor(name string) string {
	h := sha256.Sum256([]byte("sendbeetest-agent:" + name))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-5" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

// AgentReply acts as a human agent answering from the Sendbee dashboard:
// it stores an outbound message, switches the chatbot off (as Sendbee
// documents for any agent reply), and
// emits message.sent with "source":"agent" and then chatbot.status if the
// state changed. agentName selects a team member by name; "" means the
// first member; an unknown name gets a stable invented ID. It returns the
// new message ID, or an error if the conversation does not exist or text is
// empty.
func (s *Server) AgentReply(conversationID, agentName, text string) (string, error) {
	if strings.TrimSpace(text) == "" {
		return "", errors.New("sendbeetest: AgentReply: empty text")
	}
	now := s.bizNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(conversationID)
	if cv == nil {
		return "", fmt.Errorf("sendbeetest: AgentReply: conversation %s: %w", conversationID, errNotFound)
	}
	var id, name string
	switch m := s.st.memberByName(agentName); {
	case m != nil:
		id, name = m.id, m.name
	case agentName == "" && len(s.st.members) > 0:
		id, name = s.st.members[0].id, s.st.members[0].name
	default:
		if agentName == "" {
			agentName = "Agent"
		}
		id, name = agentIDFor(agentName), agentName
	}
	m := &message{
		id: newUUID(), refID: "wamid." + randomHex(16), direction: "outbound", body: text, status: "sent",
		sentAt: now, fromUserID: id, toUserID: cv.contact.id, source: "agent", agentName: name,
	}
	s.st.addMessage(cv, m)
	changed := cv.chatbot
	cv.chatbot = false
	s.emitLocked(cv.id, EventMessageSent, messageSentData(cv, m, "agent"))
	if changed {
		s.emitLocked(cv.id, EventChatbotStatus, chatbotStatusData(cv, "agent_reply"))
	}
	return m.id, nil
}

// SetChatbot acts as the dashboard switch: it sets chatbot_active of the
// conversation and emits chatbot.status if the state changed. It returns an
// error if the conversation does not exist.
func (s *Server) SetChatbot(conversationID string, active bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(conversationID)
	if cv == nil {
		return fmt.Errorf("sendbeetest: SetChatbot: conversation %s: %w", conversationID, errNotFound)
	}
	s.setChatbotLocked(cv, active, "dashboard")
	return nil
}

// SetMessageStatus changes the delivery status of an outbound message (to
// sent, delivered, read or failed, with failReason for failed) and emits
// message.status, as WhatsApp receipts would. It returns an error for an
// unknown or inbound message or an invalid status.
func (s *Server) SetMessageStatus(messageID, status, failReason string) error {
	if !slices.Contains([]string{"sent", "delivered", "read", "failed"}, status) {
		return fmt.Errorf("sendbeetest: SetMessageStatus: status must be sent, delivered, read or failed, got %q", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.msgs[messageID]
	if m == nil || m.direction != "outbound" {
		return fmt.Errorf("sendbeetest: SetMessageStatus: outbound message %s: %w", messageID, errNotFound)
	}
	m.status, m.failReason = status, ""
	if status == "failed" {
		m.failReason = failReason
	}
	s.emitLocked(m.conv.id, EventMessageStatus, messageStatusData(m.conv, m))
	return nil
}

// SetContactStatus sets the subscription status of the contact with the
// given phone number to "subscribed" or "unsubscribed", as the customer
// opting out or in would. Sendbee's API can only subscribe a contact (POST
// /contacts/subscribe). A template send to an unsubscribed contact is
// refused. It returns an error for an unknown phone or another status.
func (s *Server) SetContactStatus(phone, status string) error {
	if status != "subscribed" && status != "unsubscribed" {
		return fmt.Errorf("sendbeetest: SetContactStatus: status must be subscribed or unsubscribed, got %q", status)
	}
	p, err := normalizePhone(phone)
	if err != nil {
		return fmt.Errorf("sendbeetest: SetContactStatus: %v", err)
	}
	now := s.bizNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.st.contactByPhone(p)
	if ct == nil {
		return fmt.Errorf("sendbeetest: SetContactStatus: contact %s: %w", p, errNotFound)
	}
	if ct.status != status {
		ct.status, ct.modified = status, now
	}
	return nil
}

// serveSim serves the control endpoints under /_sim/. They need no
// authentication, never consume faults and are not recorded.
func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	if why := foreignPage(r); why != "" {
		http.Error(w, "the emulator's controls refuse this request: "+why, http.StatusForbidden)
		return
	}
	// An endpoint answers GET with get and POST with post; nil means the
	// method is not allowed.
	type endpoint struct {
		get  func() any
		post func(body []byte) (any, error)
	}
	eps := map[string]endpoint{
		"/_sim/customer":      {post: s.simCustomer},
		"/_sim/agent":         {post: s.simAgent},
		"/_sim/chatbot":       {post: s.simChatbot},
		"/_sim/status":        {post: s.simStatus},
		"/_sim/contact":       {post: s.simContact},
		"/_sim/clock":         {get: s.simClockGet, post: s.simClockPost},
		"/_sim/sent":          {get: func() any { return s.Sent() }},
		"/_sim/conversations": {get: func() any { return s.Conversations() }},
		"/_sim/events":        {get: func() any { return s.Events() }},
		"/_sim/deliveries":    {get: func() any { return s.Deliveries() }},
		"/_sim/requests":      {get: func() any { return s.requestViews() }},
		"/_sim/":              {get: s.simIndex},
	}
	p := r.URL.Path
	if p == "/_sim" {
		p = "/_sim/"
	}
	ep, ok := eps[p]
	if !ok {
		writeSimError(w, http.StatusNotFound, "not_found", "no control endpoint "+r.URL.Path)
		return
	}
	var allowed []string
	if ep.get != nil {
		allowed = append(allowed, http.MethodGet)
	}
	if ep.post != nil {
		allowed = append(allowed, http.MethodPost)
	}
	var out any
	var err error
	switch {
	case r.Method == http.MethodGet && ep.get != nil:
		out = ep.get()
	case r.Method == http.MethodPost && ep.post != nil:
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
			writeSimError(w, http.StatusBadRequest, "validation_error", "cannot read body: "+err.Error())
			return
		}
		out, err = ep.post(buf.Bytes())
	default:
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeSimError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s needs %s, got %s", p, strings.Join(allowed, " or "), r.Method))
		return
	}
	if err != nil {
		status := http.StatusBadRequest
		typ := "validation_error"
		if errors.Is(err, errNotFound) {
			status, typ = http.StatusNotFound, "not_found"
		}
		writeSimError(w, status, typ, err.Error())
		return
	}
	writeSimJSON(w, http.StatusOK, out)
}

func writeSimJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeSimError(w http.ResponseWriter, status int, typ, detail string) {
	writeSimJSON(w, status, wireErrorBody{Error: wireError{Detail: detail, Type: typ}})
}

// decodeSim decodes a control request body strictly: unknown fields are
// errors, because these endpoints are the emulator's own.
func decodeSim(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

func (s *Server) simCustomer(body []byte) (any, error) {
	var in struct {
		Phone     string `json:"phone"`
		Name      string `json:"name"`
		Text      string `json:"text"`
		MediaType string `json:"media_type"`
		MediaURL  string `json:"media_url"`
	}
	if err := decodeSim(body, &in); err != nil {
		return nil, err
	}
	cid, mid, err := s.customer(in.Phone, in.Name, in.Text, in.MediaType, in.MediaURL)
	if err != nil {
		return nil, err
	}
	return map[string]string{"conversation_id": cid, "message_id": mid}, nil
}

func (s *Server) simAgent(body []byte) (any, error) {
	var in struct {
		ConversationID string `json:"conversation_id"`
		Agent          string `json:"agent"`
		Text           string `json:"text"`
	}
	if err := decodeSim(body, &in); err != nil {
		return nil, err
	}
	mid, err := s.AgentReply(in.ConversationID, in.Agent, in.Text)
	if err != nil {
		return nil, err
	}
	return map[string]any{"conversation_id": in.ConversationID, "message_id": mid,
		"chatbot_active": s.ChatbotActive(in.ConversationID)}, nil
}

func (s *Server) simChatbot(body []byte) (any, error) {
	var in struct {
		ConversationID string `json:"conversation_id"`
		Active         *bool  `json:"active"`
	}
	if err := decodeSim(body, &in); err != nil {
		return nil, err
	}
	if in.Active == nil {
		return nil, errors.New("active is required")
	}
	if err := s.SetChatbot(in.ConversationID, *in.Active); err != nil {
		return nil, err
	}
	return wireChatbotStatus{ConversationID: in.ConversationID, ChatbotActive: s.ChatbotActive(in.ConversationID)}, nil
}

func (s *Server) simStatus(body []byte) (any, error) {
	var in struct {
		MessageID  string `json:"message_id"`
		Status     string `json:"status"`
		FailReason string `json:"fail_reason"`
	}
	if err := decodeSim(body, &in); err != nil {
		return nil, err
	}
	if err := s.SetMessageStatus(in.MessageID, in.Status, in.FailReason); err != nil {
		return nil, err
	}
	return map[string]string{"message_id": in.MessageID, "status": in.Status}, nil
}

func (s *Server) simContact(body []byte) (any, error) {
	var in struct {
		Phone  string `json:"phone"`
		Status string `json:"status"`
	}
	if err := decodeSim(body, &in); err != nil {
		return nil, err
	}
	if err := s.SetContactStatus(in.Phone, in.Status); err != nil {
		return nil, err
	}
	p, _ := normalizePhone(in.Phone)
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.st.contactByPhone(p)
	return map[string]string{"contact_id": ct.id, "phone": ct.phone, "status": ct.status}, nil
}

// requestView is Request with its body as text, for /_sim/requests.
type requestView struct {
	Request
	Body string `json:"body"`
}

func (s *Server) requestViews() []requestView {
	reqs := s.Requests()
	out := make([]requestView, len(reqs))
	for i, r := range reqs {
		out[i] = requestView{Request: r, Body: string(r.Body)}
	}
	return out
}

func (s *Server) simIndex() any {
	s.wh.mu.Lock()
	hook := s.wh.url
	s.wh.mu.Unlock()
	out := map[string]any{
		"api_url":     s.URL(),
		"api_key":     s.cfg.apiKey,
		"business_id": s.cfg.businessID,
		"webhook_url": hook,
		"endpoints": []string{
			"POST /_sim/customer {phone,name,text,media_type,media_url}",
			"POST /_sim/agent {conversation_id,agent,text}",
			"POST /_sim/chatbot {conversation_id,active}",
			"POST /_sim/status {message_id,status,fail_reason}",
			"POST /_sim/contact {phone,status}",
			"GET /_sim/clock", "POST /_sim/clock {advance} or {set}",
			"GET /_sim/sent", "GET /_sim/conversations", "GET /_sim/events",
			"GET /_sim/deliveries", "GET /_sim/requests",
		},
	}
	if s.account != "" {
		out["account"] = s.account
	}
	return out
}
