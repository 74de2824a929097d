package velaflowstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Channel types the emulator knows (assumed; only whatsapp is
// documented).
var channelTypes = []string{"whatsapp", "instagram", "messenger", "telegram", "email", "webchat", "sms"}

var (
	conversationStatuses = []string{"open", "pending", "snoozed", "closed"}
	priorities           = []string{"low", "normal", "high", "urgent"}
	leadStatuses         = []string{"new", "contacted", "qualified", "won", "lost"}
	tagEntityTypes       = []string{"conversation", "customer", "lead"}
)

type agent struct {
	id, name string
}

type customer struct {
	id                   string
	firstName, lastName  string
	email, phone, handle string
	tags                 []string
	created, updated     time.Time
}

func (c *customer) fullName() string {
	return strings.TrimSpace(c.firstName + " " + c.lastName)
}

type conversation struct {
	id       string
	channel  string
	status   string
	priority string
	cust     *customer
	agentID  string // "" when unassigned
	tags     []string
	unread   int
	msgs     []*message
	lastMsg  time.Time // zero without messages
	created  time.Time
	updated  time.Time
}

type message struct {
	id          string
	convID      string
	typ         string
	text        string
	direction   string // inbound or outbound
	senderType  string // contact, agent or bot
	senderName  string
	senderPhone string
	senderEmail string
	status      string
	created     time.Time
}

type stage struct {
	id, name string
	order    int
}

type pipeline struct {
	id, name string
	stages   []*stage
	created  time.Time
}

func (p *pipeline) stage(id string) *stage {
	for _, st := range p.stages {
		if st.id == id {
			return st
		}
	}
	return nil
}

type lead struct {
	id                  string
	firstName, lastName string
	email, phone        string
	status              string
	pipelineID, stageID string
	source              string
	customerID          string
	value               *float64
	tags                []string
	created, updated    time.Time
}

type tag struct {
	id, name, color, entityType string
	created, updated            time.Time
}

type workflow struct {
	id, name string
	assigns  string // agent ID the workflow assigns an input conversation to; "" for none
}

type execution struct {
	id, workflowID, status string
	input                  map[string]any
	created                time.Time
}

// state is the workspace's data. It is guarded by Server.mu.
type state struct {
	ids *idGen

	agents     []*agent
	customers  []*customer
	convs      []*conversation
	pipelines  []*pipeline
	leads      []*lead
	tags       []*tag
	workflows  []*workflow
	executions []*execution

	customerByID map[string]*customer
	convByID     map[string]*conversation
	leadByID     map[string]*lead
	msgByID      map[string]*message
}

func newState() *state {
	return &state{
		ids:          newIDGen(),
		customerByID: map[string]*customer{},
		convByID:     map[string]*conversation{},
		leadByID:     map[string]*lead{},
		msgByID:      map[string]*message{},
	}
}

func (st *state) agent(id string) *agent {
	for _, a := range st.agents {
		if a.id == id {
			return a
		}
	}
	return nil
}

func (st *state) agentByName(name string) *agent {
	for _, a := range st.agents {
		if strings.EqualFold(a.name, name) {
			return a
		}
	}
	return nil
}

// agentIDFor derives a stable ObjectId-shaped ID from an agent's name.
func agentIDFor(name string) string {
	h := sha256.Sum256([]byte("velaflowstest-agent:" + strings.ToLower(name)))
	return hex.EncodeToString(h[:12])
}

func (st *state) pipeline(id string) *pipeline {
	for _, p := range st.pipelines {
		if p.id == id {
			return p
		}
	}
	return nil
}

func (st *state) tag(id string) *tag {
	for _, t := range st.tags {
		if t.id == id {
			return t
		}
	}
	return nil
}

func (st *state) workflow(id string) *workflow {
	for _, w := range st.workflows {
		if w.id == id {
			return w
		}
	}
	return nil
}

func (st *state) addCustomer(c *customer) {
	st.customers = append(st.customers, c)
	st.customerByID[c.id] = c
}

func (st *state) addConversation(cv *conversation) {
	st.convs = append(st.convs, cv)
	st.convByID[cv.id] = cv
}

func (st *state) addMessage(cv *conversation, m *message) {
	m.convID = cv.id
	cv.msgs = append(cv.msgs, m)
	st.msgByID[m.id] = m
	if m.created.After(cv.lastMsg) {
		cv.lastMsg = m.created
	}
	if m.created.After(cv.updated) {
		cv.updated = m.created
	}
	if m.direction == "inbound" {
		cv.unread++
	} else {
		cv.unread = 0
	}
}

func (st *state) addLead(l *lead) {
	st.leads = append(st.leads, l)
	st.leadByID[l.id] = l
}

func (st *state) removeLead(id string) {
	delete(st.leadByID, id)
	st.leads = slices.DeleteFunc(st.leads, func(l *lead) bool { return l.id == id })
}

// customerByContact finds a customer by phone, email or handle.
func (st *state) customerByContact(contact string) *customer {
	for _, c := range st.customers {
		if (c.phone != "" && c.phone == contact) || (c.email != "" && strings.EqualFold(c.email, contact)) ||
			(c.handle != "" && c.handle == contact) {
			return c
		}
	}
	return nil
}

// Demo data IDs. VelaFlows' Python examples use 65a1b2c3d4e5f6a7b8c9d0e1
// as a pipeline, a conversation and a customer, and
// 65a1b2c3d4e5f6a7b8c9d0e2 as a stage; the other IDs follow the pattern
// 65f0c0ffee….
const (
	// SeedConversationID is the open WhatsApp demo conversation that the
	// "Send a Message" example of VelaFlows' Python examples posts to.
	SeedConversationID = "65a1b2c3d4e5f6a7b8c9d0e1"
	// SeedCustomerID is the demo customer that the "Update a Customer"
	// example of VelaFlows' Python examples patches.
	SeedCustomerID = "65a1b2c3d4e5f6a7b8c9d0e1"
	// SeedPipelineID is the demo "Sales" pipeline of the "Create a CRM
	// Lead" example of VelaFlows' Python examples.
	SeedPipelineID = "65a1b2c3d4e5f6a7b8c9d0e1"
	// SeedStageID is the first stage ("New") of the Sales pipeline.
	SeedStageID = "65a1b2c3d4e5f6a7b8c9d0e2"
)

// seed fills the workspace with the demo data described in the package
// documentation. Times are relative to now.
func (st *state) seed(now time.Time) {
	ago := func(d time.Duration) time.Time { return now.Add(-d).Truncate(time.Millisecond) }
	day := 24 * time.Hour

	st.agents = []*agent{
		{id: "65f0c0ffee00000000009001", name: "Maya Patel"},
		{id: "65f0c0ffee00000000009002", name: "Tom Becker"},
	}

	st.pipelines = []*pipeline{
		{id: SeedPipelineID, name: "Sales", created: ago(90 * day), stages: []*stage{
			{id: SeedStageID, name: "New", order: 1},
			{id: "65a1b2c3d4e5f6a7b8c9d0e3", name: "Qualified", order: 2},
			{id: "65a1b2c3d4e5f6a7b8c9d0e4", name: "Proposal", order: 3},
			{id: "65a1b2c3d4e5f6a7b8c9d0e5", name: "Won", order: 4},
			{id: "65a1b2c3d4e5f6a7b8c9d0e6", name: "Lost", order: 5},
		}},
		{id: "65f0c0ffee0000000000c001", name: "Partnerships", created: ago(60 * day), stages: []*stage{
			{id: "65f0c0ffee0000000000c002", name: "Lead In", order: 1},
			{id: "65f0c0ffee0000000000c003", name: "Negotiation", order: 2},
			{id: "65f0c0ffee0000000000c004", name: "Signed", order: 3},
		}},
	}

	tagSeed := []struct{ id, name, color, entity string }{
		{"65f0c0ffee0000000000e001", "vip", "#f5a623", "conversation"},
		{"65f0c0ffee0000000000e002", "billing", "#4a90e2", "conversation"},
		{"65f0c0ffee0000000000e003", "urgent", "#d0021b", "conversation"},
		{"65f0c0ffee0000000000e004", "newsletter", "#7ed321", "customer"},
		{"65f0c0ffee0000000000e005", "hot", "#bd10e0", "lead"},
	}
	for i, t := range tagSeed {
		at := ago(time.Duration(80-i) * day)
		st.tags = append(st.tags, &tag{id: t.id, name: t.name, color: t.color, entityType: t.entity, created: at, updated: at})
	}

	custSeed := []struct {
		id, first, last, email, phone, handle string
		tags                                  []string
		age                                   time.Duration
	}{
		{SeedCustomerID, "Ada", "Lovelace", "ada@example.org", "+442071838750", "", nil, 30 * day},
		{"65f0c0ffee0000000000ca02", "Grace", "Hopper", "grace@example.org", "+15550100", "", []string{"newsletter"}, 20 * day},
		{"65f0c0ffee0000000000ca03", "Alan", "Turing", "", "", "@alan.turing", nil, 15 * day},
		{"65f0c0ffee0000000000ca04", "Katherine", "Johnson", "katherine@example.net", "+13035550123", "", nil, 12 * day},
		{"65f0c0ffee0000000000ca05", "Hedy", "Lamarr", "", "+436641234567", "", nil, 9 * day},
		{"65f0c0ffee0000000000ca06", "Webchat", "Visitor 4821", "", "", "visitor-4821", nil, 2 * day},
		{"65f0c0ffee0000000000ca07", "Linus", "Pauling", "", "+15035550199", "", nil, 7 * day},
	}
	for _, c := range custSeed {
		st.addCustomer(&customer{
			id: c.id, firstName: c.first, lastName: c.last, email: c.email, phone: c.phone, handle: c.handle,
			tags: slices.Clone(c.tags), created: ago(c.age), updated: ago(c.age),
		})
	}

	type msgSeed struct {
		id, dir, text, sender string
		age                   time.Duration
	}
	convSeed := []struct {
		id, channel, status, priority, customer, agent string
		tags                                           []string
		age                                            time.Duration
		msgs                                           []msgSeed
	}{
		{SeedConversationID, "whatsapp", "open", "normal", SeedCustomerID, "", []string{"vip"}, 3 * time.Hour, []msgSeed{
			{"65f0c0ffee0000000000b001", "inbound", "Hi, where is my parcel?", "contact", 3 * time.Hour},
		}},
		{"65f0c0ffee0000000000a002", "email", "open", "high", "65f0c0ffee0000000000ca02", "65f0c0ffee00000000009001", []string{"billing"}, 26 * time.Hour, []msgSeed{
			{"65f0c0ffee0000000000b002", "inbound", "I was charged twice for invoice 1042.", "contact", 26 * time.Hour},
			{"65f0c0ffee0000000000b003", "outbound", "Sorry about that, Grace. We are refunding the second charge.", "agent", 25 * time.Hour},
		}},
		{"65f0c0ffee0000000000a003", "instagram", "open", "normal", "65f0c0ffee0000000000ca03", "", nil, 50 * time.Minute, []msgSeed{
			{"65f0c0ffee0000000000b004", "inbound", "Do you ship to Manchester?", "contact", 50 * time.Minute},
		}},
		{"65f0c0ffee0000000000a004", "messenger", "closed", "low", "65f0c0ffee0000000000ca04", "65f0c0ffee00000000009002", nil, 4 * day, []msgSeed{
			{"65f0c0ffee0000000000b005", "inbound", "Can I change my delivery address?", "contact", 4 * day},
			{"65f0c0ffee0000000000b006", "outbound", "Done, the new address is saved.", "agent", 4*day - time.Hour},
		}},
		{"65f0c0ffee0000000000a005", "telegram", "pending", "normal", "65f0c0ffee0000000000ca05", "", nil, 6 * time.Hour, []msgSeed{
			{"65f0c0ffee0000000000b007", "inbound", "Is the spring sale still on?", "contact", 6 * time.Hour},
			{"65f0c0ffee0000000000b008", "outbound", "Yes, until Sunday. Anything I can help you find?", "bot", 6*time.Hour - time.Minute},
		}},
		{"65f0c0ffee0000000000a006", "webchat", "open", "urgent", "65f0c0ffee0000000000ca06", "", []string{"urgent"}, 10 * time.Minute, []msgSeed{
			{"65f0c0ffee0000000000b009", "inbound", "My account is locked!", "contact", 10 * time.Minute},
		}},
		{"65f0c0ffee0000000000a007", "sms", "closed", "normal", "65f0c0ffee0000000000ca07", "", nil, 8 * day, []msgSeed{
			{"65f0c0ffee0000000000b00a", "inbound", "STOP", "contact", 8 * day},
		}},
	}
	for _, c := range convSeed {
		cv := &conversation{
			id: c.id, channel: c.channel, status: c.status, priority: c.priority, cust: st.customerByID[c.customer],
			agentID: c.agent, tags: slices.Clone(c.tags), created: ago(c.age), updated: ago(c.age),
		}
		st.addConversation(cv)
		for _, m := range c.msgs {
			msg := &message{id: m.id, typ: "text", text: m.text, direction: m.dir, senderType: m.sender, created: ago(m.age)}
			switch m.sender {
			case "contact":
				msg.senderName, msg.senderPhone, msg.senderEmail, msg.status = cv.cust.fullName(), cv.cust.phone, cv.cust.email, "received"
			case "agent":
				if a := st.agent(c.agent); a != nil {
					msg.senderName = a.name
				}
				msg.status = "delivered"
			default:
				msg.senderName, msg.status = "VelaFlows Bot", "delivered"
			}
			st.addMessage(cv, msg)
		}
		if cv.status == "closed" {
			cv.unread = 0
		}
	}

	leadSeed := []struct {
		id, first, last, email, phone, status, pipeline, stage, source string
		value                                                          float64
		age                                                            time.Duration
	}{
		{"65f0c0ffee0000000000d001", "Grace", "Hopper", "grace@example.org", "+15550100", "new", "65f0c0ffee0000000000c001", "65f0c0ffee0000000000c002", "website", 12000, 20 * day},
		{"65f0c0ffee0000000000d002", "Margaret", "Hamilton", "margaret@example.com", "+16175550142", "contacted", SeedPipelineID, SeedStageID, "whatsapp", 4500, 18 * day},
		{"65f0c0ffee0000000000d003", "Barbara", "Liskov", "barbara@example.com", "+16175550187", "qualified", SeedPipelineID, "65a1b2c3d4e5f6a7b8c9d0e3", "referral", 8000, 14 * day},
		{"65f0c0ffee0000000000d004", "John", "Backus", "john.backus@example.com", "+14155550111", "qualified", SeedPipelineID, "65a1b2c3d4e5f6a7b8c9d0e4", "email", 15000, 10 * day},
		{"65f0c0ffee0000000000d005", "Frances", "Allen", "frances@example.com", "", "won", SeedPipelineID, "65a1b2c3d4e5f6a7b8c9d0e5", "event", 22000, 6 * day},
		{"65f0c0ffee0000000000d006", "Edsger", "Dijkstra", "edsger@example.nl", "+31205550123", "lost", SeedPipelineID, "65a1b2c3d4e5f6a7b8c9d0e6", "website", 3000, 3 * day},
	}
	for _, l := range leadSeed {
		v := l.value
		st.addLead(&lead{
			id: l.id, firstName: l.first, lastName: l.last, email: l.email, phone: l.phone, status: l.status,
			pipelineID: l.pipeline, stageID: l.stage, source: l.source, value: &v,
			created: ago(l.age), updated: ago(l.age),
		})
	}
	st.leadByID["65f0c0ffee0000000000d004"].tags = []string{"hot"}

	st.workflows = []*workflow{
		{id: "65f0c0ffee0000000000f0a1", name: "Hand off to a human agent", assigns: "65f0c0ffee00000000009001"},
		{id: "65f0c0ffee0000000000f0a2", name: "Send VIP welcome message"},
	}
}

// generateLeads adds n leads with predictable fields; lead i (1-based) was
// created n-i+1 seconds before now.
func (st *state) generateLeads(n int, now time.Time, pipelineID, stageID string) []string {
	ids := make([]string, 0, n)
	base := len(st.leads)
	for i := 1; i <= n; i++ {
		at := now.Add(-time.Duration(n-i+1) * time.Second).Truncate(time.Millisecond)
		num := base + i
		l := &lead{
			id:         st.ids.next(at),
			firstName:  "Lead",
			lastName:   fmt.Sprintf("%05d", num),
			email:      fmt.Sprintf("lead%05d@example.com", num),
			phone:      fmt.Sprintf("+1555%07d", num%10000000),
			status:     leadStatuses[num%len(leadStatuses)],
			pipelineID: pipelineID, stageID: stageID,
			source:  "import",
			created: at, updated: at,
		}
		st.addLead(l)
		ids = append(ids, l.id)
	}
	return ids
}
