package velaflows

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
)

// LeadsOptions pages and sorts [Client.Leads]. The lead export of
// VelaFlows' Python examples sorts with SortBy "createdAt" and SortOrder SortDesc.
type LeadsOptions struct {
	ListOptions
}

// Leads lists one page of CRM leads: GET /crm/leads.
func (c *Client) Leads(ctx context.Context, opts LeadsOptions) (*Page[Lead], *Response, error) {
	q, err := opts.values("list leads")
	if err != nil {
		return nil, nil, err
	}
	return getPage[Lead](ctx, c, "/crm/leads", q)
}

// AllLeads iterates over the leads of every page from opts.Page on,
// MaxLimit (100) leads per request unless opts.Limit says otherwise, like
// fetch_all_pages of VelaFlows' Python examples for /crm/leads. It stops after the last page,
// when the caller stops, and at the first error (a done ctx included),
// which it yields once. Gather the leads with [Collect].
func (c *Client) AllLeads(ctx context.Context, opts LeadsOptions) iter.Seq2[Lead, error] {
	return allPages(ctx, opts.ListOptions, func(ctx context.Context, lo ListOptions) (*Page[Lead], *Response, error) {
		o := opts
		o.ListOptions = lo
		return c.Leads(ctx, o)
	})
}

// Lead gets one lead: GET /crm/leads/{id}, answered with data.lead.
func (c *Client) Lead(ctx context.Context, id string) (*Lead, *Response, error) {
	seg, err := escapeID("get lead", "id", id)
	if err != nil {
		return nil, nil, err
	}
	return getOne[Lead](ctx, c, http.MethodGet, "/crm/leads/"+seg, nil, nil, "lead")
}

// LeadRequest is the body of [Client.CreateLead]. Empty optional fields
// are not sent.
type LeadRequest struct {
	// FirstName is required.
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName,omitempty"`
	// Email is checked by the API: a malformed address is an [*APIError]
	// with CodeValidation whose FieldErrors name "email".
	Email string `json:"email,omitempty"`
	// Phone is in international (E.164) form, such as "+1234567890".
	Phone string `json:"phone,omitempty"`
	// PipelineID is the pipeline the lead is added to. Required.
	PipelineID string `json:"pipelineId"`
	// StageID is the pipeline stage the lead starts in. Required.
	StageID string `json:"stageId"`
}

// CreateLead creates a CRM lead: POST /crm/leads, answered with data.lead
// (VelaFlows' Python examples read data.lead._id). FirstName, PipelineID
// and StageID are required here: VelaFlows does not document the required
// fields, and these are assumed; the API validates the rest.
func (c *Client) CreateLead(ctx context.Context, r LeadRequest) (*Lead, *Response, error) {
	const op = "create lead"
	for _, f := range []struct{ name, v string }{{"firstName", r.FirstName}, {"pipelineId", r.PipelineID}, {"stageId", r.StageID}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, nil, invalid(op, f.name, "is required")
		}
	}
	return getOne[Lead](ctx, c, http.MethodPost, "/crm/leads", nil, r, "lead")
}

// LeadUpdate is the body of [Client.UpdateLead]. Empty fields are not
// sent and leave the lead's value unchanged; at least one must be set.
// Setting StageID moves the lead to another stage (VelaFlows emits
// lead.stage_changed).
type LeadUpdate struct {
	FirstName  string `json:"firstName,omitempty"`
	LastName   string `json:"lastName,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Status     string `json:"status,omitempty"`
	PipelineID string `json:"pipelineId,omitempty"`
	StageID    string `json:"stageId,omitempty"`
}

// UpdateLead changes a lead: PATCH /crm/leads/{id}, answered with
// data.lead. Unverified: VelaFlows does not document this
// endpoint; the path is an assumption.
func (c *Client) UpdateLead(ctx context.Context, id string, u LeadUpdate) (*Lead, *Response, error) {
	const op = "update lead"
	seg, err := escapeID(op, "id", id)
	if err != nil {
		return nil, nil, err
	}
	if u == (LeadUpdate{}) {
		return nil, nil, invalid(op, "body", "has no field to change")
	}
	return getOne[Lead](ctx, c, http.MethodPatch, "/crm/leads/"+seg, nil, u, "lead")
}

// DeleteLead deletes a lead: DELETE /crm/leads/{id}. Unverified: VelaFlows
// does not document this endpoint; the path is an assumption.
func (c *Client) DeleteLead(ctx context.Context, id string) (*Response, error) {
	seg, err := escapeID("delete lead", "id", id)
	if err != nil {
		return nil, err
	}
	return c.deleteCall(ctx, "/crm/leads/"+seg)
}

// LeadCSVHeader is the header row of [Client.ExportLeadsCSV]: the fields
// the export script of VelaFlows' Python examples writes.
var LeadCSVHeader = []string{"_id", "firstName", "lastName", "email", "phone", "status", "createdAt"}

// ExportLeadsCSV writes every CRM lead to w as CSV, newest first, like
// the export script of VelaFlows' Python examples. It reads the leads 100 at a time
// (GET /crm/leads?sortBy=createdAt&sortOrder=desc), writes the
// LeadCSVHeader row and one row per lead (createdAt in the API's form,
// "" when absent), with CRLF line ends like Python's csv module, and
// returns the number of leads written. When there are no leads it writes
// nothing and returns 0, and the caller can say "No leads found".
//
// progress, if non-nil, is called after each page with the number of
// leads written so far and the total the API reported, for a progress
// bar. On error, the rows already written stay in w.
func (c *Client) ExportLeadsCSV(ctx context.Context, w io.Writer, progress func(done, total int)) (int, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	opts := LeadsOptions{ListOptions{Page: 1, Limit: MaxLimit, SortBy: "createdAt", SortOrder: SortDesc}}
	n := 0
	for {
		p, _, err := c.Leads(ctx, opts)
		if err != nil {
			cw.Flush()
			return n, err
		}
		if n == 0 && len(p.Items) > 0 {
			if err := cw.Write(LeadCSVHeader); err != nil {
				return n, fmt.Errorf("velaflows: export leads: %w", err)
			}
		}
		for _, l := range p.Items {
			created := ""
			if !l.CreatedAt.IsZero() {
				created = l.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")
			}
			if err := cw.Write([]string{l.ID, l.FirstName, l.LastName, l.Email, l.Phone, l.Status, created}); err != nil {
				return n, fmt.Errorf("velaflows: export leads: %w", err)
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("velaflows: export leads: %w", err)
		}
		if progress != nil {
			progress(n, p.Pagination.Total)
		}
		if len(p.Items) == 0 || opts.Page >= p.Pagination.TotalPages {
			return n, nil
		}
		opts.Page++
	}
}
