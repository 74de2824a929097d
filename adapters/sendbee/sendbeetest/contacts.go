package sendbeetest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// normalizePhone checks that p is an international number with a leading
// "+" (the format Sendbee documents) and removes spaces, dashes, dots and
// parentheses.
func normalizePhone(p string) (string, error) {
	p = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(strings.TrimSpace(p))
	digits, ok := strings.CutPrefix(p, "+")
	if !ok || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return "", fmt.Errorf("phone must be an international number with a leading +, such as +385911234567; got %q", p)
	}
	return p, nil
}

// checkFieldValue validates v for the type of f and returns it normalised.
// The checks are the emulator's assumption (Sendbee documents the types only).
func checkFieldValue(f *field, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch f.typ {
	case "number":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "", fmt.Errorf("%q is not a number", v)
		}
	case "boolean":
		switch strings.ToLower(v) {
		case "true", "1":
			return "true", nil
		case "false", "0":
			return "false", nil
		}
		return "", fmt.Errorf("%q is not a boolean", v)
	case "list":
		if !slices.Contains(f.options, v) {
			return "", fmt.Errorf("%q is not one of the options %s", v, strings.Join(f.options, ", "))
		}
	case "date":
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return "", fmt.Errorf("%q is not a date in the form YYYY-MM-DD", v)
		}
	}
	return v, nil
}

// resolveFields maps contact_fields names to fields. Unknown names are
// ignored with a warning, as the README documents; null clears a value.
func (st *state) resolveFields(c *call, in map[string]*string) (map[*field]*string, error) {
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	slices.Sort(names)
	out := map[*field]*string{}
	for _, name := range names {
		f := st.fieldByName(name)
		if f == nil {
			c.warn("unknown contact field ignored: %s", name)
			continue
		}
		v := in[name]
		if v != nil {
			norm, err := checkFieldValue(f, *v)
			if err != nil {
				return nil, badRequest("contact_fields.%s: %v", name, err)
			}
			v = &norm
		}
		out[f] = v
	}
	return out, nil
}

func applyFields(ct *contact, fields map[*field]*string) {
	for f, v := range fields {
		if v == nil {
			delete(ct.fields, f)
		} else {
			ct.fields[f] = *v
		}
	}
}

func addNotes(ct *contact, notes []string) {
	for _, n := range notes {
		ct.notes = append(ct.notes, note{id: newUUID(), value: n})
	}
}

// listContacts serves GET /contacts, newest first.
func (s *Server) listContacts(c *call) (*result, error) {
	c.allowQuery("tags", "status", "search_query", "page", "limit")
	status, err := c.queryEnum("status", "subscribed", "unsubscribed")
	if err != nil {
		return nil, err
	}
	tags := c.q.list("tags")
	search := c.q.texts("search_query")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wireContact
	for i := len(s.st.contacts) - 1; i >= 0; i-- {
		ct := s.st.contacts[i]
		if status != "" && ct.status != status {
			continue
		}
		if len(tags) > 0 && !slices.ContainsFunc(ct.tags, func(t *tag) bool {
			return slices.ContainsFunc(tags, func(n string) bool { return strings.EqualFold(n, t.name) })
		}) {
			continue
		}
		if !matchAny(search, ct.name, ct.phone, ct.bsuid) {
			continue
		}
		out = append(out, s.st.wireContact(ct))
	}
	return paginate(c, out)
}

// contactInput is the body shared by subscribe and update.
type contactInput struct {
	phone, bsuid, name string
	hasPhone, hasName  bool
	tags, notes        []string
	hasTags            bool
	fields             map[string]*string
	blockNotifications *bool
	blockAutomation    *bool
}

func readContactInput(c *call, phoneRequired bool) (contactInput, error) {
	var in contactInput
	var err error
	if in.phone, in.hasPhone, err = c.str("phone", phoneRequired); err != nil {
		return in, err
	}
	if in.hasPhone {
		if in.phone, err = normalizePhone(in.phone); err != nil {
			return in, badRequest("%v", err)
		}
	}
	if in.bsuid, _, err = c.str("whatsapp_user_id", false); err != nil {
		return in, err
	}
	if in.name, in.hasName, err = c.str("name", false); err != nil {
		return in, err
	}
	if in.tags, in.hasTags, err = c.strList("tags"); err != nil {
		return in, err
	}
	if in.notes, _, err = c.strList("notes"); err != nil {
		return in, err
	}
	if in.fields, _, err = c.object("contact_fields"); err != nil {
		return in, err
	}
	if in.blockNotifications, err = c.boolean("block_notifications"); err != nil {
		return in, err
	}
	if in.blockAutomation, err = c.boolean("block_automation"); err != nil {
		return in, err
	}
	return in, nil
}

// subscribeContact serves POST /contacts/subscribe. Subscribing a phone that
// already exists updates that contact (tags are added, notes appended,
// fields overwritten), sets it subscribed and adds a warning.
func (s *Server) subscribeContact(c *call) (*result, error) {
	if err := c.parseBody("phone", "whatsapp_user_id", "name", "tags", "notes", "contact_fields",
		"block_notifications", "block_automation"); err != nil {
		return nil, err
	}
	in, err := readContactInput(c, true)
	if err != nil {
		return nil, err
	}
	now := s.bizNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	fields, err := s.st.resolveFields(c, in.fields)
	if err != nil {
		return nil, err
	}
	ct := s.st.contactByPhone(in.phone)
	if in.bsuid != "" {
		if other := s.st.contactByBSUID(in.bsuid); other != nil && other != ct {
			return nil, badRequest("whatsapp_user_id %s belongs to another contact", in.bsuid)
		}
	}
	if ct == nil {
		ct = s.st.newContact(in.phone, in.bsuid, in.name, now, s.cfg.chatbotDefault)
	} else {
		c.warn("contact %s already exists; it was updated", in.phone)
		if in.hasName {
			ct.name = in.name
		}
		if in.bsuid != "" {
			ct.bsuid = in.bsuid
		}
	}
	for _, n := range in.tags {
		if t := s.st.ensureTag(n); !slices.Contains(ct.tags, t) {
			ct.tags = append(ct.tags, t)
		}
	}
	addNotes(ct, in.notes)
	applyFields(ct, fields)
	if in.blockNotifications != nil {
		ct.blockNotifications = *in.blockNotifications
	}
	if in.blockAutomation != nil {
		ct.blockAutomation = *in.blockAutomation
	}
	ct.status = "subscribed"
	ct.modified = now
	return one(s.st.wireContact(ct))
}

// updateContact serves PUT /contacts: notes are appended, named
// contact_fields overwritten, tags replaced by the given list (created on
// the fly), name and phone set.
func (s *Server) updateContact(c *call) (*result, error) {
	if err := c.parseBody("id", "phone", "whatsapp_user_id", "name", "tags", "notes", "contact_fields",
		"block_notifications", "block_automation", "status"); err != nil {
		return nil, err
	}
	id, err := c.id("id")
	if err != nil {
		return nil, err
	}
	status, _, err := c.str("status", false)
	if err != nil {
		return nil, err
	}
	if status != "" && status != "subscribed" && status != "unsubscribed" {
		return nil, badRequest("status: want subscribed or unsubscribed, got %q", status)
	}
	in, err := readContactInput(c, false)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.st.contactByID(id)
	if ct == nil {
		return nil, notFound("contact not found: %s", id)
	}
	fields, err := s.st.resolveFields(c, in.fields)
	if err != nil {
		return nil, err
	}
	if in.hasPhone {
		if other := s.st.contactByPhone(in.phone); other != nil && other != ct {
			return nil, badRequest("phone %s belongs to another contact", in.phone)
		}
		ct.phone = in.phone
	}
	if in.bsuid != "" {
		if other := s.st.contactByBSUID(in.bsuid); other != nil && other != ct {
			return nil, badRequest("whatsapp_user_id %s belongs to another contact", in.bsuid)
		}
		ct.bsuid = in.bsuid
	}
	if in.hasName {
		ct.name = in.name
	}
	if in.hasTags {
		ct.tags = nil
		for _, n := range in.tags {
			if t := s.st.ensureTag(n); !slices.Contains(ct.tags, t) {
				ct.tags = append(ct.tags, t)
			}
		}
	}
	addNotes(ct, in.notes)
	applyFields(ct, fields)
	if in.blockNotifications != nil {
		ct.blockNotifications = *in.blockNotifications
	}
	if in.blockAutomation != nil {
		ct.blockAutomation = *in.blockAutomation
	}
	if status != "" {
		ct.status = status
	}
	ct.modified = s.bizNow()
	return one(s.st.wireContact(ct))
}

// listTags serves GET /contacts/tags, filtered by a name substring.
func (s *Server) listTags(c *call) (*result, error) {
	c.allowQuery("name", "page", "limit")
	names := c.q.texts("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wireTag
	for _, t := range s.st.tags {
		if matchAny(names, t.name) {
			out = append(out, wireTag{ID: t.id, Name: t.name})
		}
	}
	return paginate(c, out)
}

func (s *Server) createTag(c *call) (*result, error) {
	if err := c.parseBody("name"); err != nil {
		return nil, err
	}
	name, _, err := c.str("name", true)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.tagByName(name) != nil {
		return nil, badRequest("tag %q already exists", name)
	}
	t := s.st.ensureTag(name)
	return one(wireTag{ID: t.id, Name: t.name})
}

func (s *Server) updateTag(c *call) (*result, error) {
	if err := c.parseBody("id", "name"); err != nil {
		return nil, err
	}
	id, err := c.id("id")
	if err != nil {
		return nil, err
	}
	name, _, err := c.str("name", true)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tagByID(id)
	if t == nil {
		return nil, notFound("tag not found: %s", id)
	}
	if other := s.st.tagByName(name); other != nil && other != t {
		return nil, badRequest("tag %q already exists", name)
	}
	t.name = name
	return one(wireTag{ID: t.id, Name: t.name})
}

func (s *Server) deleteTag(c *call) (*result, error) {
	if err := c.parseBody("id"); err != nil {
		return nil, err
	}
	id, err := c.id("id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tagByID(id)
	if t == nil {
		return nil, notFound("tag not found: %s", id)
	}
	s.st.deleteTag(t)
	return one(wireServerMessage{Message: "Tag deleted"})
}

var fieldTypes = []string{"text", "number", "list", "date", "boolean"}

// listFields serves GET /contacts/fields, filtered by a name substring.
func (s *Server) listFields(c *call) (*result, error) {
	c.allowQuery("search_query", "page", "limit")
	search := c.q.texts("search_query")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wireField
	for _, f := range s.st.fields {
		if matchAny(search, f.name) {
			out = append(out, wireFieldOf(f))
		}
	}
	return paginate(c, out)
}

// checkOptions validates list options: required and non-empty for list,
// ignored with a warning for other types.
func checkOptions(c *call, typ string, options []string, has bool) ([]string, error) {
	if typ != "list" {
		if has && len(options) > 0 {
			c.warn("options are ignored for contact fields of type %s", typ)
		}
		return nil, nil
	}
	if len(options) == 0 {
		return nil, badRequest("options are required for contact fields of type list")
	}
	return dedupe(options), nil
}

func (s *Server) createField(c *call) (*result, error) {
	if err := c.parseBody("name", "type", "options"); err != nil {
		return nil, err
	}
	name, _, err := c.str("name", true)
	if err != nil {
		return nil, err
	}
	typ, _, err := c.str("type", true)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(fieldTypes, typ) {
		return nil, badRequest("type must be one of %s, got %q", strings.Join(fieldTypes, ", "), typ)
	}
	options, has, err := c.strList("options")
	if err != nil {
		return nil, err
	}
	if options, err = checkOptions(c, typ, options, has); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.fieldByName(name) != nil {
		return nil, badRequest("contact field %q already exists", name)
	}
	f := &field{id: newUUID(), name: name, typ: typ, options: options}
	s.st.fields = append(s.st.fields, f)
	return one(wireFieldOf(f))
}

// updateField serves PUT /contacts/fields. Only id is required (the Python
// client treats name and type as optional; the PHP client sends all three).
func (s *Server) updateField(c *call) (*result, error) {
	if err := c.parseBody("id", "name", "type", "options"); err != nil {
		return nil, err
	}
	id, err := c.id("id")
	if err != nil {
		return nil, err
	}
	name, hasName, err := c.str("name", false)
	if err != nil {
		return nil, err
	}
	typ, hasType, err := c.str("type", false)
	if err != nil {
		return nil, err
	}
	if hasType && !slices.Contains(fieldTypes, typ) {
		return nil, badRequest("type must be one of %s, got %q", strings.Join(fieldTypes, ", "), typ)
	}
	options, hasOptions, err := c.strList("options")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.st.fieldByID(id)
	if f == nil {
		return nil, notFound("contact field not found: %s", id)
	}
	if !hasType {
		typ = f.typ
	}
	if !hasOptions && typ == "list" {
		options, hasOptions = f.options, true
	}
	if options, err = checkOptions(c, typ, options, hasOptions); err != nil {
		return nil, err
	}
	if hasName && name != "" {
		for _, other := range s.st.fields {
			if other != f && strings.EqualFold(other.name, name) {
				return nil, badRequest("contact field %q already exists", name)
			}
		}
		f.name = name
	}
	f.typ, f.options = typ, options
	return one(wireFieldOf(f))
}

func (s *Server) deleteField(c *call) (*result, error) {
	if err := c.parseBody("id"); err != nil {
		return nil, err
	}
	id, err := c.id("id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.st.fieldByID(id)
	if f == nil {
		return nil, notFound("contact field not found: %s", id)
	}
	s.st.deleteField(f)
	return one(wireServerMessage{Message: "Contact field deleted"})
}
