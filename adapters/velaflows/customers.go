package velaflows

import (
	"context"
	"iter"
	"net/http"
)

// The customer endpoints other than PATCH /customers/{id} (which
// VelaFlows' Python examples show) are not documented and are assumed:
// GET /customers,
// GET /customers/{id} and POST /customers with the standard envelope.

// CustomersOptions pages and searches [Client.Customers].
type CustomersOptions struct {
	ListOptions
}

// Customers lists one page of customers: GET /customers.
func (c *Client) Customers(ctx context.Context, opts CustomersOptions) (*Page[Customer], *Response, error) {
	q, err := opts.values("list customers")
	if err != nil {
		return nil, nil, err
	}
	return getPage[Customer](ctx, c, "/customers", q)
}

// AllCustomers iterates over the customers of every page from opts.Page
// on, as [Client.AllLeads] does.
func (c *Client) AllCustomers(ctx context.Context, opts CustomersOptions) iter.Seq2[Customer, error] {
	return allPages(ctx, opts.ListOptions, func(ctx context.Context, lo ListOptions) (*Page[Customer], *Response, error) {
		o := opts
		o.ListOptions = lo
		return c.Customers(ctx, o)
	})
}

// Customer gets one customer: GET /customers/{id}, answered with
// data.customer (data.lead is read too).
func (c *Client) Customer(ctx context.Context, id string) (*Customer, *Response, error) {
	seg, err := escapeID("get customer", "id", id)
	if err != nil {
		return nil, nil, err
	}
	return getOne[Customer](ctx, c, http.MethodGet, "/customers/"+seg, nil, nil, "customer", "lead")
}

// CustomerRequest is the body of [Client.CreateCustomer]. Empty fields
// are not sent; at least one must be set.
type CustomerRequest struct {
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// CreateCustomer creates a customer: POST /customers, answered with
// data.customer.
func (c *Client) CreateCustomer(ctx context.Context, r CustomerRequest) (*Customer, *Response, error) {
	if r == (CustomerRequest{}) {
		return nil, nil, invalid("create customer", "body", "has no field set")
	}
	return getOne[Customer](ctx, c, http.MethodPost, "/customers", nil, r, "customer", "lead")
}

// CustomerUpdate is the body of [Client.UpdateCustomer], the
// {firstName, lastName, email} of VelaFlows' Python examples. Empty fields are not sent and leave the
// customer's value unchanged; at least one must be set.
type CustomerUpdate struct {
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// UpdateCustomer changes a customer: PATCH /customers/{id}. The updated
// record is read from data.customer, or from data.lead, where VelaFlows'
// Python examples read it.
func (c *Client) UpdateCustomer(ctx context.Context, id string, u CustomerUpdate) (*Customer, *Response, error) {
	const op = "update customer"
	seg, err := escapeID(op, "id", id)
	if err != nil {
		return nil, nil, err
	}
	if u == (CustomerUpdate{}) {
		return nil, nil, invalid(op, "body", "has no field to change")
	}
	return getOne[Customer](ctx, c, http.MethodPatch, "/customers/"+seg, nil, u, "customer", "lead")
}
