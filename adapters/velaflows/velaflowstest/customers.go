package velaflowstest

import (
	"cmp"
	"net/http"
	"strings"
	"time"
)

var customerFields = []string{"firstName", "lastName", "email", "phone", "tags"}

func (s *Server) customerLocked(c *call) (*customer, *apiError) {
	id := c.params["id"]
	cu := s.st.customerByID[id]
	if cu == nil {
		return nil, notFound("Customer", id)
	}
	return cu, nil
}

func (s *Server) listCustomers(c *call) (int, any, *apiError) {
	p, e := s.parsePage(c.query, []string{"createdAt", "updatedAt", "firstName", "lastName", "email"}, true)
	if e != nil {
		return 0, nil, e
	}
	search, _ := queryValue(c.query, "search")
	search = strings.ToLower(search)
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []*customer
	for _, cu := range s.st.customers {
		if search == "" || containsFold(search, cu.fullName(), cu.email, cu.phone, cu.handle) {
			items = append(items, cu)
		}
	}
	var key func(a, b *customer) int
	switch p.sortBy {
	case "updatedAt":
		key = func(a, b *customer) int { return cmpTime(a.updated, b.updated) }
	case "firstName":
		key = func(a, b *customer) int {
			return cmp.Compare(strings.ToLower(a.firstName), strings.ToLower(b.firstName))
		}
	case "lastName":
		key = func(a, b *customer) int { return cmp.Compare(strings.ToLower(a.lastName), strings.ToLower(b.lastName)) }
	case "email":
		key = func(a, b *customer) int { return cmp.Compare(strings.ToLower(a.email), strings.ToLower(b.email)) }
	default:
		key = func(a, b *customer) int { return cmpTime(a.created, b.created) }
	}
	sortItems(items, p.desc, key, func(cu *customer) string { return cu.id })
	return http.StatusOK, paginate(items, p, customerWire), nil
}

func (s *Server) getCustomer(c *call) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cu, e := s.customerLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"customer": customerWire(cu)}, nil
}

// applyCustomer validates the customer fields of b and, if valid, copies
// them to cu (nil only validates). It reports whether anything was given.
func applyCustomer(b *body, cu *customer, create bool) bool {
	b.only(customerFields...)
	if create && !b.has("firstName") {
		b.fail("firstName", "firstName is required")
	}
	first, hasFirst := b.str("firstName")
	if hasFirst && strings.TrimSpace(first) == "" {
		b.fail("firstName", "firstName must not be empty")
	}
	last, hasLast := b.str("lastName")
	email, hasEmail := b.str("email")
	if hasEmail {
		b.checkEmail("email", strings.TrimSpace(email))
	}
	phone, hasPhone := b.str("phone")
	if hasPhone {
		b.checkPhone("phone", strings.TrimSpace(phone))
	}
	tags, hasTags := b.strings("tags")
	if len(b.errs) > 0 || cu == nil {
		return false
	}
	if hasFirst {
		cu.firstName = strings.TrimSpace(first)
	}
	if hasLast {
		cu.lastName = strings.TrimSpace(last)
	}
	if hasEmail {
		cu.email = strings.TrimSpace(email)
	}
	if hasPhone {
		cu.phone = strings.TrimSpace(phone)
	}
	if hasTags {
		cu.tags = dedupe(tags)
	}
	return len(b.m) > 0
}

func (s *Server) createCustomer(c *call) (int, any, *apiError) {
	cu := &customer{id: "", tags: []string{}, created: c.now, updated: c.now}
	applyCustomer(c.body, cu, true)
	if len(c.body.errs) > 0 {
		return 0, nil, s.validationError(c.body.errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cu.id = s.st.ids.next(c.now)
	s.st.addCustomer(cu)
	s.emitCustomerLocked(EventCustomerCreated, cu)
	return http.StatusCreated, map[string]any{"customer": customerWire(cu)}, nil
}

// patchCustomer is the PATCH /customers/{id} {firstName, lastName, email}
// of VelaFlows' Python examples. They read data.lead._id, so the
// record is returned under both data.customer and data.lead.
func (s *Server) patchCustomer(c *call) (int, any, *apiError) {
	applyCustomer(c.body, nil, false)
	if len(c.body.errs) > 0 {
		return 0, nil, s.validationError(c.body.errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cu, e := s.customerLocked(c)
	if e != nil {
		return 0, nil, e
	}
	if applyCustomer(c.body, cu, false) {
		cu.updated = c.now
		s.emitCustomerLocked(EventCustomerUpdated, cu)
	}
	w := customerWire(cu)
	return http.StatusOK, map[string]any{"customer": w, "lead": w}, nil
}

// A Customer is a read-only view of a customer (contact).
type Customer struct {
	ID        string    `json:"_id"`
	FirstName string    `json:"firstName"`
	LastName  string    `json:"lastName"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone"`
	Handle    string    `json:"handle"` // a contact that is neither phone nor email, such as an Instagram name
	Tags      []string  `json:"tags"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func customerView(cu *customer) Customer {
	return Customer{
		ID: cu.id, FirstName: cu.firstName, LastName: cu.lastName, Email: cu.email, Phone: cu.phone,
		Handle: cu.handle, Tags: nonNil(cu.tags), CreatedAt: cu.created, UpdatedAt: cu.updated,
	}
}

// Customers returns every customer, in creation order.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Customer, len(s.st.customers))
	for i, cu := range s.st.customers {
		out[i] = customerView(cu)
	}
	return out
}

// Customer returns the customer with the given ID.
func (s *Server) Customer(id string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := s.st.customerByID[id]
	if cu == nil {
		return Customer{}, false
	}
	return customerView(cu), true
}
