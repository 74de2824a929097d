package sendbeetest

import (
	"slices"
	"strings"
	"time"
)

// The business data of one emulated Sendbee account. Every access holds
// Server.mu.

type tag struct {
	id, name string
}

type field struct {
	id, name, typ string
	options       []string
}

type note struct {
	id, value string
}

type contact struct {
	id, name, phone, bsuid string
	created, modified      time.Time
	status                 string // subscribed | unsubscribed
	tags                   []*tag
	fields                 map[*field]string
	notes                  []note
	blockNotifications     bool
	blockAutomation        bool
	conv                   *conversation
}

type conversation struct {
	id      string
	contact *contact
	folder  string // open | done | spam | notified
	chatbot bool
	created time.Time
	agentID string
	msgs    []*message // oldest first
	seq     int        // bumped on every new message; orders the list
}

type message struct {
	id, refID    string
	conv         *conversation
	direction    string // inbound | outbound
	body         string
	mediaType    string
	mediaURL     string
	status       string
	failReason   string
	sentAt       time.Time
	fromUserID   string
	toUserID     string
	source       string // customer | api | agent | demo
	agentName    string
	template     string // keyword of the template sent, if any
	templateLang string
}

type button struct {
	Index int    `json:"index"`
	Type  string `json:"type"`
	Title string `json:"title"`
	Value string `json:"value"`
}

type template struct {
	id, status, keyword, name, category, language, text string
	attachment                                          string // image | video | document | ""
	tags, buttonTags                                    []string
	buttons                                             []button
	rejectedReason                                      string
}

type team struct {
	id, name string
	members  []*member
}

type member struct {
	id, name, role    string
	online, available bool
}

type state struct {
	tags      []*tag
	fields    []*field
	contacts  []*contact // creation order
	convs     []*conversation
	templates []*template
	teams     []*team
	members   []*member
	msgs      map[string]*message
	seq       int
}

func newState() *state { return &state{msgs: map[string]*message{}} }

func (st *state) tagByID(id string) *tag {
	for _, t := range st.tags {
		if strings.EqualFold(t.id, id) {
			return t
		}
	}
	return nil
}

// tagByName finds a tag by name, ignoring case.
func (st *state) tagByName(name string) *tag {
	for _, t := range st.tags {
		if strings.EqualFold(t.name, name) {
			return t
		}
	}
	return nil
}

// ensureTag returns the tag called name, creating it if needed.
func (st *state) ensureTag(name string) *tag {
	if t := st.tagByName(name); t != nil {
		return t
	}
	t := &tag{id: newUUID(), name: name}
	st.tags = append(st.tags, t)
	return t
}

func (st *state) deleteTag(t *tag) {
	st.tags = slices.DeleteFunc(st.tags, func(x *tag) bool { return x == t })
	for _, c := range st.contacts {
		c.tags = slices.DeleteFunc(c.tags, func(x *tag) bool { return x == t })
	}
}

func (st *state) fieldByID(id string) *field {
	for _, f := range st.fields {
		if strings.EqualFold(f.id, id) {
			return f
		}
	}
	return nil
}

// fieldByName finds a contact field by exact name, then ignoring case.
func (st *state) fieldByName(name string) *field {
	for _, f := range st.fields {
		if f.name == name {
			return f
		}
	}
	for _, f := range st.fields {
		if strings.EqualFold(f.name, name) {
			return f
		}
	}
	return nil
}

func (st *state) deleteField(f *field) {
	st.fields = slices.DeleteFunc(st.fields, func(x *field) bool { return x == f })
	for _, c := range st.contacts {
		delete(c.fields, f)
	}
}

func (st *state) contactByID(id string) *contact {
	for _, c := range st.contacts {
		if strings.EqualFold(c.id, id) {
			return c
		}
	}
	return nil
}

func (st *state) contactByPhone(phone string) *contact {
	for _, c := range st.contacts {
		if c.phone != "" && c.phone == phone {
			return c
		}
	}
	return nil
}

func (st *state) contactByBSUID(id string) *contact {
	for _, c := range st.contacts {
		if c.bsuid != "" && c.bsuid == id {
			return c
		}
	}
	return nil
}

// newContact creates a subscribed contact and the conversation every
// contact is linked to.
func (st *state) newContact(phone, bsuid, name string, now time.Time, chatbot bool) *contact {
	c := &contact{
		id: newUUID(), name: name, phone: phone, bsuid: bsuid,
		created: now, modified: now, status: "subscribed",
		fields: map[*field]string{}, blockNotifications: true, blockAutomation: true,
	}
	st.contacts = append(st.contacts, c)
	c.conv = &conversation{id: newUUID(), contact: c, folder: "open", chatbot: chatbot, created: now}
	st.convs = append(st.convs, c.conv)
	return c
}

func (st *state) convByID(id string) *conversation {
	for _, c := range st.convs {
		if strings.EqualFold(c.id, id) {
			return c
		}
	}
	return nil
}

func (st *state) memberByID(id string) *member {
	for _, m := range st.members {
		if strings.EqualFold(m.id, id) {
			return m
		}
	}
	return nil
}

func (st *state) memberByName(name string) *member {
	for _, m := range st.members {
		if strings.EqualFold(m.name, name) {
			return m
		}
	}
	return nil
}

func (st *state) teamByID(id string) *team {
	for _, t := range st.teams {
		if strings.EqualFold(t.id, id) {
			return t
		}
	}
	return nil
}

// addMessage appends m to conversation c.
func (st *state) addMessage(c *conversation, m *message) {
	m.conv = c
	st.seq++
	c.seq = st.seq
	c.msgs = append(c.msgs, m)
	st.msgs[m.id] = m
}

// lastActivity is the time of the newest message, or the creation time.
func (c *conversation) lastActivity() time.Time {
	if n := len(c.msgs); n > 0 {
		return c.msgs[n-1].sentAt
	}
	return c.created
}

// seed fills st with the demo business described in doc.go. Times are
// relative to now; IDs are fixed.
func (st *state) seed(now time.Time) {
	tagLead := &tag{id: "5eed7a90-0000-4000-8000-000000000001", name: "lead"}
	tagCustomer := &tag{id: "5eed7a90-0000-4000-8000-000000000002", name: "customer"}
	tagVIP := &tag{id: "5eed7a90-0000-4000-8000-000000000003", name: "VIP"}
	tagNews := &tag{id: "5eed7a90-0000-4000-8000-000000000004", name: "newsletter"}
	st.tags = []*tag{tagLead, tagCustomer, tagVIP, tagNews}

	fCity := &field{id: "5eedf1e1-0000-4000-8000-000000000001", name: "city", typ: "text"}
	fAge := &field{id: "5eedf1e1-0000-4000-8000-000000000002", name: "age", typ: "number"}
	fPlan := &field{id: "5eedf1e1-0000-4000-8000-000000000003", name: "plan", typ: "list", options: []string{"basic", "pro", "enterprise"}}
	fBirthday := &field{id: "5eedf1e1-0000-4000-8000-000000000004", name: "birthday", typ: "date"}
	fVIP := &field{id: "5eedf1e1-0000-4000-8000-000000000005", name: "vip", typ: "boolean"}
	st.fields = []*field{fCity, fAge, fPlan, fBirthday, fVIP}

	ivana := &member{id: "5eedae00-0000-4000-8000-000000000001", name: "Ivana Horvat", role: "admin", online: true, available: true}
	markoK := &member{id: "5eedae00-0000-4000-8000-000000000002", name: "Marko Kovač", role: "agent", online: true, available: false}
	lucija := &member{id: "5eedae00-0000-4000-8000-000000000003", name: "Lucija Babić", role: "agent", online: false, available: false}
	st.members = []*member{ivana, markoK, lucija}
	st.teams = []*team{
		{id: "5eed7ea0-0000-4000-8000-000000000001", name: "Support", members: []*member{ivana, markoK}},
		{id: "5eed7ea0-0000-4000-8000-000000000002", name: "Sales", members: []*member{ivana, lucija}},
	}

	st.templates = []*template{
		{id: "5eed7e40-0000-4000-8000-000000000001", status: "approved", keyword: "welcome", name: "Welcome",
			category: "UTILITY", language: "en", text: "Welcome {{1}}! How can we help you?", tags: []string{"1"},
			buttons: []button{{Index: 0, Type: "quick_reply", Title: "Talk to an agent", Value: "agent"}}},
		{id: "5eed7e40-0000-4000-8000-000000000002", status: "approved", keyword: "welcome", name: "Welcome",
			category: "UTILITY", language: "hr", text: "Dobrodošli {{1}}! Kako vam možemo pomoći?", tags: []string{"1"}},
		{id: "5eed7e40-0000-4000-8000-000000000003", status: "approved", keyword: "order_shipped", name: "Order shipped",
			category: "UTILITY", language: "en", text: "Hi {{1}}, your order {{2}} has shipped.", tags: []string{"1", "2"},
			buttonTags: []string{"1"},
			buttons:    []button{{Index: 0, Type: "url", Title: "Track order", Value: "https://shop.example.com/track/{{1}}"}}},
		{id: "5eed7e40-0000-4000-8000-000000000004", status: "approved", keyword: "spring_sale", name: "Spring sale",
			category: "MARKETING", language: "en", text: "Spring sale: {{1}} off everything until Sunday!", tags: []string{"1"},
			attachment: "image"},
		{id: "5eed7e40-0000-4000-8000-000000000005", status: "approved", keyword: "invoice_ready", name: "Invoice ready",
			category: "UTILITY", language: "en", text: "Your invoice is attached. Thank you for your order!", attachment: "document"},
		{id: "5eed7e40-0000-4000-8000-000000000006", status: "rejected", keyword: "cold_outreach", name: "Cold outreach",
			category: "MARKETING", language: "en", text: "Hey! Buy now and get {{1}} for free!!!", tags: []string{"1"},
			rejectedReason: "The template was flagged as promotional content in a utility context."},
		{id: "5eed7e40-0000-4000-8000-000000000007", status: "pending", keyword: "appointment_reminder", name: "Appointment reminder",
			category: "UTILITY", language: "en", text: "Reminder: your appointment is on {{1}} at {{2}}.", tags: []string{"1", "2"}},
	}

	ana := &contact{
		id: "5eedc0c7-0000-4000-8000-000000000001", name: "Ana Horvat", phone: "+385911234567", bsuid: "HR.1234567890",
		created: now.Add(-72 * time.Hour), modified: now.Add(-2 * time.Hour), status: "subscribed",
		tags: []*tag{tagLead}, fields: map[*field]string{fCity: "Split", fPlan: "pro"},
		notes:              []note{{id: "5eed4073-0000-4000-8000-000000000001", value: "asked about pricing"}},
		blockNotifications: true, blockAutomation: true,
	}
	marko := &contact{
		id: "5eedc0c7-0000-4000-8000-000000000002", name: "Marko Marić", phone: "+385921112233",
		created: now.Add(-240 * time.Hour), modified: now.Add(-25 * time.Hour), status: "subscribed",
		tags: []*tag{tagCustomer, tagVIP}, fields: map[*field]string{fCity: "Zagreb", fAge: "42", fVIP: "true"},
		blockNotifications: true, blockAutomation: true,
	}
	john := &contact{
		id: "5eedc0c7-0000-4000-8000-000000000003", name: "John Smith", phone: "+14155550123",
		created: now.Add(-96 * time.Hour), modified: now.Add(-72 * time.Hour), status: "unsubscribed",
		tags: []*tag{tagNews}, fields: map[*field]string{},
		blockNotifications: true, blockAutomation: true,
	}
	st.contacts = []*contact{marko, john, ana}

	ana.conv = &conversation{id: "5eedc0de-0000-4000-8000-000000000001", contact: ana, folder: "open", chatbot: true, created: ana.created}
	marko.conv = &conversation{id: "5eedc0de-0000-4000-8000-000000000002", contact: marko, folder: "done", chatbot: false, created: marko.created}
	john.conv = &conversation{id: "5eedc0de-0000-4000-8000-000000000003", contact: john, folder: "open", chatbot: true, created: john.created}
	st.convs = []*conversation{marko.conv, john.conv, ana.conv}

	mid := func(n string) string { return "5eed0e55-0000-4000-8000-0000000000" + n }
	st.addMessage(marko.conv, &message{id: mid("01"), refID: "wamid.demo01", direction: "outbound",
		body: "Hi Marko, your order 1042 has shipped.", status: "read", sentAt: now.Add(-26 * time.Hour),
		toUserID: marko.id, source: "demo", template: "order_shipped", templateLang: "en"})
	st.addMessage(marko.conv, &message{id: mid("02"), direction: "inbound", body: "Thanks! When will it arrive?",
		status: "received", sentAt: now.Add(-25*time.Hour - 30*time.Minute), fromUserID: marko.id, source: "demo"})
	st.addMessage(marko.conv, &message{id: mid("03"), refID: "wamid.demo03", direction: "outbound",
		body: "Tomorrow before noon.", status: "read", sentAt: now.Add(-25 * time.Hour),
		fromUserID: markoK.id, toUserID: marko.id, source: "agent", agentName: markoK.name})
	st.addMessage(john.conv, &message{id: mid("04"), direction: "inbound", body: "STOP",
		status: "received", sentAt: now.Add(-72 * time.Hour), fromUserID: john.id, source: "demo"})
	st.addMessage(ana.conv, &message{id: mid("05"), direction: "inbound", body: "Hi, is the shop open today?",
		status: "received", sentAt: now.Add(-2 * time.Hour), fromUserID: ana.id, source: "demo"})
	st.addMessage(ana.conv, &message{id: mid("06"), refID: "wamid.demo06", direction: "outbound",
		body: "Yes, we are open until 20:00.", status: "read", sentAt: now.Add(-2*time.Hour + time.Minute),
		toUserID: ana.id, source: "demo"})
}
