package sendbeetest

import (
	"fmt"
	"slices"
	"strings"
)

// A SeedContact is one contact for [Server.SeedContacts].
type SeedContact struct {
	// Phone is the contact's number in international format ("+…").
	// Required, and unique in the business.
	Phone string
	// Name is the contact's name; it may be empty.
	Name string
	// WhatsAppUserID is the contact's WhatsApp business-scoped user ID;
	// empty for none.
	WhatsAppUserID string
	// Tags are tag names; tags that do not exist yet are created.
	Tags []string
	// Fields maps contact field names to values. A field that does not
	// exist yet is created with type text; a value of an existing field is
	// checked against its type as POST /contacts/subscribe checks it.
	Fields map[string]string
	// Status is "subscribed" (the default, for "") or "unsubscribed".
	Status string
}

// SeedContacts adds contacts, each with the conversation every Sendbee
// contact is linked to, in one step and without requests: thousands of
// contacts take milliseconds, where POST /contacts/subscribe would take a
// request each (and the rate limit). They are added in the order given, so
// GET /contacts, newest first, lists the last one first. The contacts are
// dated by the business time ([Server.Now]); their conversations have no
// messages, are open, and have chatbot_active set as [WithChatbotDefault]
// says. Nothing is recorded as a request and no webhook event is emitted.
//
// It checks every contact before adding any: a phone that is not an
// international number, a phone or whatsapp_user_id given twice or
// already taken, an unknown status or a field value of the wrong type
// (or an empty tag or field name) returns an error naming the contact's
// index, and adds nothing. It is
// safe for concurrent use.
func (s *Server) SeedContacts(contacts ...SeedContact) error {
	now := s.bizNow()
	s.mu.Lock()
	defer s.mu.Unlock()

	phones := make(map[string]bool, len(s.st.contacts)+len(contacts))
	bsuids := map[string]bool{}
	for _, c := range s.st.contacts {
		phones[c.phone] = true
		if c.bsuid != "" {
			bsuids[c.bsuid] = true
		}
	}
	type checked struct {
		phone  string
		status string
		fields map[string]string // normalised values by field name
	}
	ok := make([]checked, len(contacts))
	newFields := map[string]bool{}
	for i, in := range contacts {
		phone, err := normalizePhone(in.Phone)
		if err != nil {
			return fmt.Errorf("sendbeetest: SeedContacts: contact %d: %v", i, err)
		}
		if phones[phone] {
			return fmt.Errorf("sendbeetest: SeedContacts: contact %d: phone %s is taken", i, phone)
		}
		phones[phone] = true
		if in.WhatsAppUserID != "" {
			if bsuids[in.WhatsAppUserID] {
				return fmt.Errorf("sendbeetest: SeedContacts: contact %d: whatsapp_user_id %s is taken", i, in.WhatsAppUserID)
			}
			bsuids[in.WhatsAppUserID] = true
		}
		status := in.Status
		switch status {
		case "":
			status = "subscribed"
		case "subscribed", "unsubscribed":
		default:
			return fmt.Errorf("sendbeetest: SeedContacts: contact %d: status must be subscribed or unsubscribed, got %q", i, in.Status)
		}
		for _, t := range in.Tags {
			if strings.TrimSpace(t) == "" {
				return fmt.Errorf("sendbeetest: SeedContacts: contact %d: empty tag name", i)
			}
		}
		fields := make(map[string]string, len(in.Fields))
		for name, v := range in.Fields {
			if strings.TrimSpace(name) == "" {
				return fmt.Errorf("sendbeetest: SeedContacts: contact %d: empty contact field name", i)
			}
			if f := s.st.fieldByName(name); f != nil {
				if v, err = checkFieldValue(f, v); err != nil {
					return fmt.Errorf("sendbeetest: SeedContacts: contact %d: contact field %s: %v", i, name, err)
				}
			} else {
				newFields[name] = true
			}
			fields[name] = v
		}
		ok[i] = checked{phone: phone, status: status, fields: fields}
	}

	names := make([]string, 0, len(newFields))
	for name := range newFields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s.st.fields = append(s.st.fields, &field{id: newUUID(), name: name, typ: "text"})
	}
	for i, in := range contacts {
		ct := s.st.newContact(ok[i].phone, in.WhatsAppUserID, in.Name, now, s.cfg.chatbotDefault)
		ct.status = ok[i].status
		for _, n := range in.Tags {
			if t := s.st.ensureTag(n); !slices.Contains(ct.tags, t) {
				ct.tags = append(ct.tags, t)
			}
		}
		for name, v := range ok[i].fields {
			ct.fields[s.st.fieldByName(name)] = v
		}
	}
	return nil
}
