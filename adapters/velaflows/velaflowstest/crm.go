package velaflowstest

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"
)

var leadFields = []string{"firstName", "lastName", "email", "phone", "pipelineId", "stageId", "status", "source", "value", "tags", "customerId"}

func (s *Server) leadLocked(c *call) (*lead, *apiError) {
	id := c.params["id"]
	l := s.st.leadByID[id]
	if l == nil {
		return nil, notFound("Lead", id)
	}
	return l, nil
}

func (s *Server) listLeads(c *call) (int, any, *apiError) {
	p, e := s.parsePage(c.query, []string{"createdAt", "updatedAt", "firstName", "lastName", "email", "status", "value"}, true)
	if e != nil {
		return 0, nil, e
	}
	status, _ := queryValue(c.query, "status")
	pipelineID, _ := queryValue(c.query, "pipelineId")
	stageID, _ := queryValue(c.query, "stageId")
	search, _ := queryValue(c.query, "search")
	search = strings.ToLower(search)

	s.mu.Lock()
	defer s.mu.Unlock()
	items := make([]*lead, 0, len(s.st.leads))
	for _, l := range s.st.leads {
		switch {
		case status != "" && l.status != status,
			pipelineID != "" && l.pipelineID != pipelineID,
			stageID != "" && l.stageID != stageID,
			search != "" && !containsFold(search, l.firstName, l.lastName, l.email, l.phone):
			continue
		}
		items = append(items, l)
	}
	var key func(a, b *lead) int
	switch p.sortBy {
	case "updatedAt":
		key = func(a, b *lead) int { return cmpTime(a.updated, b.updated) }
	case "firstName":
		key = func(a, b *lead) int { return cmp.Compare(strings.ToLower(a.firstName), strings.ToLower(b.firstName)) }
	case "lastName":
		key = func(a, b *lead) int { return cmp.Compare(strings.ToLower(a.lastName), strings.ToLower(b.lastName)) }
	case "email":
		key = func(a, b *lead) int { return cmp.Compare(strings.ToLower(a.email), strings.ToLower(b.email)) }
	case "status":
		key = func(a, b *lead) int { return cmp.Compare(a.status, b.status) }
	case "value":
		key = func(a, b *lead) int { return cmp.Compare(valueOf(a), valueOf(b)) }
	default:
		key = func(a, b *lead) int { return cmpTime(a.created, b.created) }
	}
	sortItems(items, p.desc, key, func(l *lead) string { return l.id })
	return http.StatusOK, paginate(items, p, leadWire), nil
}

func valueOf(l *lead) float64 {
	if l.value == nil {
		return 0
	}
	return *l.value
}

func containsFold(q string, fields ...string) bool {
	for _, f := range fields {
		if f != "" && strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

func (s *Server) getLead(c *call) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.leadLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"lead": leadWire(l)}, nil
}

// leadInput is the validated body of a lead create or update; nil
// pointers are absent fields.
type leadInput struct {
	firstName, lastName, email, phone *string
	pipelineID, stageID, status       *string
	source, customerID                *string
	value                             *float64
	hasValue                          bool
	tags                              []string
	hasTags                           bool
}

// readLead reads the lead fields of b; create makes firstName, pipelineId
// and stageId required (not documented; assumed).
func readLead(b *body, create bool) leadInput {
	b.only(leadFields...)
	var in leadInput
	opt := func(name string) *string {
		if v, ok := b.str(name); ok {
			v = strings.TrimSpace(v)
			return &v
		}
		return nil
	}
	if create {
		for _, name := range []string{"firstName", "pipelineId", "stageId"} {
			if !b.has(name) {
				b.fail(name, name+" is required")
			}
		}
	}
	in.firstName = opt("firstName")
	if in.firstName != nil && *in.firstName == "" {
		b.fail("firstName", "firstName must not be empty")
	}
	in.lastName = opt("lastName")
	if in.email = opt("email"); in.email != nil {
		b.checkEmail("email", *in.email)
	}
	if in.phone = opt("phone"); in.phone != nil {
		b.checkPhone("phone", *in.phone)
	}
	in.pipelineID, in.stageID = opt("pipelineId"), opt("stageId")
	for _, f := range []struct {
		name string
		v    *string
	}{{"pipelineId", in.pipelineID}, {"stageId", in.stageID}} {
		if f.v != nil && !isObjectID(*f.v) {
			b.fail(f.name, f.name+" must be an ObjectId (24 hex characters)")
		}
	}
	if in.status = opt("status"); in.status != nil && !slices.Contains(leadStatuses, *in.status) {
		b.fail("status", "status must be one of "+strings.Join(leadStatuses, ", "))
	}
	in.source, in.customerID = opt("source"), opt("customerId")
	in.value, in.hasValue = b.number("value")
	in.tags, in.hasTags = b.strings("tags")
	return in
}

// checkLeadRefsLocked checks that the pipeline, stage and customer exist;
// l is the lead being updated (nil on create).
func (s *Server) checkLeadRefsLocked(b *body, in leadInput, l *lead) {
	pipelineID := ""
	if l != nil {
		pipelineID = l.pipelineID
	}
	if in.pipelineID != nil && isObjectID(*in.pipelineID) {
		pipelineID = *in.pipelineID
		if s.st.pipeline(pipelineID) == nil {
			b.fail("pipelineId", "Pipeline "+pipelineID+" not found")
		}
		if l != nil && in.stageID == nil && pipelineID != l.pipelineID {
			b.fail("stageId", "stageId is required when pipelineId changes")
		}
	}
	if in.stageID != nil && isObjectID(*in.stageID) {
		if p := s.st.pipeline(pipelineID); p != nil && p.stage(*in.stageID) == nil {
			b.fail("stageId", "Stage "+*in.stageID+" does not belong to pipeline "+pipelineID)
		}
	}
	if in.customerID != nil && *in.customerID != "" && s.st.customerByID[*in.customerID] == nil {
		b.fail("customerId", "Customer "+*in.customerID+" not found")
	}
}

func (s *Server) createLead(c *call) (int, any, *apiError) {
	in := readLead(c.body, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkLeadRefsLocked(c.body, in, nil)
	if len(c.body.errs) > 0 {
		return 0, nil, s.validationError(c.body.errs)
	}
	l := &lead{id: s.st.ids.next(c.now), status: "new", tags: []string{}, created: c.now, updated: c.now}
	applyLead(l, in)
	s.st.addLead(l)
	s.emitLeadLocked(EventLeadCreated, l, nil)
	return http.StatusCreated, map[string]any{"lead": leadWire(l)}, nil
}

// applyLead copies the present fields of in to l and reports whether the
// stage changed.
func applyLead(l *lead, in leadInput) (stageChanged bool) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&l.firstName, in.firstName)
	set(&l.lastName, in.lastName)
	set(&l.email, in.email)
	set(&l.phone, in.phone)
	set(&l.pipelineID, in.pipelineID)
	set(&l.status, in.status)
	set(&l.source, in.source)
	set(&l.customerID, in.customerID)
	if in.stageID != nil && *in.stageID != l.stageID {
		l.stageID, stageChanged = *in.stageID, true
	}
	if in.hasValue {
		l.value = in.value
	}
	if in.hasTags {
		l.tags = dedupe(in.tags)
	}
	return stageChanged
}

func (s *Server) patchLead(c *call) (int, any, *apiError) {
	in := readLead(c.body, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.leadLocked(c)
	if e != nil {
		return 0, nil, e
	}
	s.checkLeadRefsLocked(c.body, in, l)
	if len(c.body.errs) > 0 {
		return 0, nil, s.validationError(c.body.errs)
	}
	prevStage, prevPipeline := l.stageID, l.pipelineID
	stageChanged := applyLead(l, in)
	if len(c.body.m) > 0 {
		l.updated = c.now
		s.emitLeadLocked(EventLeadUpdated, l, nil)
	}
	if stageChanged {
		s.emitStageChangedLocked(l, prevPipeline, prevStage)
	}
	return http.StatusOK, map[string]any{"lead": leadWire(l)}, nil
}

func (s *Server) emitStageChangedLocked(l *lead, prevPipeline, prevStage string) {
	s.emitLeadLocked(EventLeadStageChanged, l, map[string]any{
		"pipelineId": strPtr(l.pipelineID), "stageId": l.stageID,
		"previousPipelineId": strPtr(prevPipeline), "previousStageId": strPtr(prevStage),
	})
}

// changeLeadStage is PATCH /crm/leads/{id}/stage {stageId, pipelineId?}
// (assumed). It emits lead.stage_changed only.
func (s *Server) changeLeadStage(c *call) (int, any, *apiError) {
	b := c.body
	b.only("stageId", "pipelineId")
	stageID := b.requiredStr("stageId")
	if stageID != "" && !isObjectID(stageID) {
		b.fail("stageId", "stageId must be an ObjectId (24 hex characters)")
	}
	var in leadInput
	in.stageID = &stageID
	if v, ok := b.str("pipelineId"); ok {
		in.pipelineID = &v
		if !isObjectID(v) {
			b.fail("pipelineId", "pipelineId must be an ObjectId (24 hex characters)")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.leadLocked(c)
	if e != nil {
		return 0, nil, e
	}
	if len(b.errs) == 0 {
		s.checkLeadRefsLocked(b, in, l)
	}
	if len(b.errs) > 0 {
		return 0, nil, s.validationError(b.errs)
	}
	prevStage, prevPipeline := l.stageID, l.pipelineID
	if applyLead(l, in) || prevPipeline != l.pipelineID {
		l.updated = c.now
		s.emitStageChangedLocked(l, prevPipeline, prevStage)
	}
	return http.StatusOK, map[string]any{"lead": leadWire(l)}, nil
}

func (s *Server) deleteLead(c *call) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.leadLocked(c)
	if e != nil {
		return 0, nil, e
	}
	s.st.removeLead(l.id)
	s.emitLeadLocked(EventLeadDeleted, l, nil)
	return http.StatusOK, map[string]any{"_id": l.id, "deleted": true}, nil
}

func (s *Server) listPipelines(c *call) (int, any, *apiError) {
	p, e := s.parsePage(c.query, []string{"createdAt", "name"}, false)
	if e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := slices.Clone(s.st.pipelines)
	key := func(a, b *pipeline) int { return cmpTime(a.created, b.created) }
	if p.sortBy == "name" {
		key = func(a, b *pipeline) int { return cmp.Compare(a.name, b.name) }
	}
	sortItems(items, p.desc, key, func(x *pipeline) string { return x.id })
	return http.StatusOK, paginate(items, p, pipelineWire), nil
}

func (s *Server) getPipeline(c *call) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.pipeline(c.params["id"])
	if p == nil {
		return 0, nil, notFound("Pipeline", c.params["id"])
	}
	return http.StatusOK, map[string]any{"pipeline": pipelineWire(p)}, nil
}

// AddLeads adds n generated leads to the workspace, quickly and without
// emitting events, for testing pagination and exports (for example 10,000
// leads). Lead k is "Lead 0000k", lead0000k@example.com, in the first
// stage of the first pipeline (none without demo data), created k seconds
// apart and all before now. It returns the new IDs in creation order. It
// is safe for concurrent use.
func (s *Server) AddLeads(n int) []string {
	if n <= 0 {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	pipelineID, stageID := "", ""
	if len(s.st.pipelines) > 0 {
		pipelineID = s.st.pipelines[0].id
		if len(s.st.pipelines[0].stages) > 0 {
			stageID = s.st.pipelines[0].stages[0].id
		}
	}
	return s.st.generateLeads(n, now, pipelineID, stageID)
}

// A Lead is a read-only view of a CRM lead.
type Lead struct {
	ID         string    `json:"_id"`
	FirstName  string    `json:"firstName"`
	LastName   string    `json:"lastName"`
	Email      string    `json:"email"`
	Phone      string    `json:"phone"`
	Status     string    `json:"status"`
	PipelineID string    `json:"pipelineId"`
	StageID    string    `json:"stageId"`
	Source     string    `json:"source"`
	CustomerID string    `json:"customerId"`
	Value      *float64  `json:"value"`
	Tags       []string  `json:"tags"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

func leadView(l *lead) Lead {
	var v *float64
	if l.value != nil {
		x := *l.value
		v = &x
	}
	return Lead{
		ID: l.id, FirstName: l.firstName, LastName: l.lastName, Email: l.email, Phone: l.phone, Status: l.status,
		PipelineID: l.pipelineID, StageID: l.stageID, Source: l.source, CustomerID: l.customerID, Value: v,
		Tags: nonNil(l.tags), CreatedAt: l.created, UpdatedAt: l.updated,
	}
}

// Leads returns every lead, in creation order.
func (s *Server) Leads() []Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Lead, len(s.st.leads))
	for i, l := range s.st.leads {
		out[i] = leadView(l)
	}
	return out
}

// Lead returns the lead with the given ID.
func (s *Server) Lead(id string) (Lead, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.st.leadByID[id]
	if l == nil {
		return Lead{}, false
	}
	return leadView(l), true
}
