package velaflowstest

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func (s *Server) tagLocked(c *call) (*tag, *apiError) {
	t := s.st.tag(c.params["id"])
	if t == nil {
		return nil, notFound("Tag", c.params["id"])
	}
	return t, nil
}

// listTags is GET /tags (documented); entityType filters by conversation,
// customer or lead, and an unknown value gives an empty list.
func (s *Server) listTags(c *call) (int, any, *apiError) {
	p, e := s.parsePage(c.query, []string{"createdAt", "name"}, true)
	if e != nil {
		return 0, nil, e
	}
	entity, _ := queryValue(c.query, "entityType")
	search, _ := queryValue(c.query, "search")
	search = strings.ToLower(search)
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []*tag
	for _, t := range s.st.tags {
		if (entity == "" || t.entityType == entity) && (search == "" || strings.Contains(strings.ToLower(t.name), search)) {
			items = append(items, t)
		}
	}
	key := func(a, b *tag) int { return cmpTime(a.created, b.created) }
	if p.sortBy == "name" {
		key = func(a, b *tag) int { return cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) }
	}
	sortItems(items, p.desc, key, func(t *tag) string { return t.id })
	return http.StatusOK, paginate(items, p, tagWire), nil
}

func (s *Server) getTag(c *call) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.tagLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"tag": tagWire(t)}, nil
}

// readTag validates {name, color, entityType}.
func readTag(b *body, create bool) (name, color, entity *string) {
	b.only("name", "color", "entityType")
	get := func(field string) *string {
		if v, ok := b.str(field); ok {
			v = strings.TrimSpace(v)
			return &v
		}
		return nil
	}
	if create && !b.has("name") {
		b.fail("name", "name is required")
	}
	if name = get("name"); name != nil && *name == "" {
		b.fail("name", "name must not be empty")
	}
	if color = get("color"); color != nil && !colorRE.MatchString(*color) {
		b.fail("color", "color must look like #a1b2c3")
	}
	if entity = get("entityType"); entity != nil && !slices.Contains(tagEntityTypes, *entity) {
		b.fail("entityType", "entityType must be one of "+strings.Join(tagEntityTypes, ", "))
	}
	return name, color, entity
}

func (s *Server) tagExistsLocked(name, entity, except string) bool {
	for _, t := range s.st.tags {
		if t.id != except && t.entityType == entity && strings.EqualFold(t.name, name) {
			return true
		}
	}
	return false
}

// createTag is POST /tags (assumed); a second tag with the same name and
// entity type is 409 CONFLICT.
func (s *Server) createTag(c *call) (int, any, *apiError) {
	name, color, entity := readTag(c.body, true)
	if len(c.body.errs) > 0 {
		return 0, nil, s.validationError(c.body.errs)
	}
	t := &tag{name: *name, color: "#9b9b9b", entityType: "conversation", created: c.now, updated: c.now}
	if color != nil {
		t.color = *color
	}
	if entity != nil {
		t.entityType = *entity
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tagExistsLocked(t.name, t.entityType, "") {
		return 0, nil, conflict("Tag %q already exists for %s", t.name, t.entityType)
	}
	t.id = s.st.ids.next(c.now)
	s.st.tags = append(s.st.tags, t)
	return http.StatusCreated, map[string]any{"tag": tagWire(t)}, nil
}

func (s *Server) patchTag(c *call) (int, any, *apiError) {
	name, color, entity := readTag(c.body, false)
	if len(c.body.errs) > 0 {
		return 0, nil, s.validationError(c.body.errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.tagLocked(c)
	if e != nil {
		return 0, nil, e
	}
	newName, newEntity := t.name, t.entityType
	if name != nil {
		newName = *name
	}
	if entity != nil {
		newEntity = *entity
	}
	if s.tagExistsLocked(newName, newEntity, t.id) {
		return 0, nil, conflict("Tag %q already exists for %s", newName, newEntity)
	}
	t.name, t.entityType = newName, newEntity
	if color != nil {
		t.color = *color
	}
	if len(c.body.m) > 0 {
		t.updated = c.now
	}
	return http.StatusOK, map[string]any{"tag": tagWire(t)}, nil
}

func (s *Server) deleteTag(c *call) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.tagLocked(c)
	if e != nil {
		return 0, nil, e
	}
	s.st.tags = slices.DeleteFunc(s.st.tags, func(x *tag) bool { return x.id == t.id })
	return http.StatusOK, map[string]any{"_id": t.id, "deleted": true}, nil
}
