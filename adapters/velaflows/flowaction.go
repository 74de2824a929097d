package velaflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/internal/actionargs"
)

// Flow actions: [CreateLeadAction] and [UpdateCustomerAction] do the CRM
// work of a flow's steps (see package flow). Their arguments are the
// call's Args, plain values; an argument missing from Args is read from
// the flow's Values under the same name, so a flow that saved "email"
// passes it on without naming it. An argument of the wrong type, a
// missing required argument or an argument the action does not know is a
// [*ValidationError] whose Op names the action and whose Field is
// "args.<name>" (or "values.<name>"): it is returned before any request,
// and running the call again cannot succeed.

// DefaultLeadDedupWindow is how far back [CreateLeadAction] looks for a
// lead an earlier attempt of the same call created.
const DefaultLeadDedupWindow = 24 * time.Hour

// A LeadActionOption configures [CreateLeadAction].
type LeadActionOption func(*leadAction)

// WithPipeline sets the pipeline and stage new leads go to when the call's
// Args do not name them ("pipelineId", "stageId").
func WithPipeline(pipelineID, stageID string) LeadActionOption {
	return func(a *leadAction) { a.pipelineID, a.stageID = pipelineID, stageID }
}

// WithDedupWindow sets how old a lead with the same e-mail address (or
// phone) in the same pipeline may be and still be taken for the one an
// earlier attempt created; 0 takes any such lead, whatever its age.
// The default is [DefaultLeadDedupWindow]. A negative d panics.
func WithDedupWindow(d time.Duration) LeadActionOption {
	if d < 0 {
		panic("velaflows: WithDedupWindow: negative window")
	}
	return func(a *leadAction) { a.window = d }
}

type leadAction struct {
	c                   *Client
	pipelineID, stageID string
	window              time.Duration
}

// leadArgs are the arguments CreateLeadAction knows.
var leadArgs = []string{"name", "firstName", "lastName", "email", "phone", "pipelineId", "stageId"}

// CreateLeadAction returns a flow action that creates a CRM lead
// (POST /crm/leads) from the call's arguments:
//
//	name       string  the full name: the first word is the lead's firstName, the rest its lastName
//	firstName  string  instead of name
//	lastName   string  with firstName
//	email      string  the e-mail address
//	phone      string  the phone number, international (E.164) form such as "+15550100"; spaces, dashes, dots and parentheses are removed
//	pipelineId string  the pipeline; default the one of [WithPipeline]
//	stageId    string  the stage; default the one of [WithPipeline]
//
// A first name (name or firstName), a pipeline, a stage and at least one
// of email and phone are required. name, firstName, lastName, email and
// phone missing from Args are read from the flow's Values. VelaFlows'
// lead create takes no other fields (no company, source, notes or custom
// fields), and any other argument is refused rather than dropped.
//
// VelaFlows documents no idempotency key for creates. So that a retried
// call does not create a second lead, the action first looks for the
// lead an earlier attempt created: the newest leads matching the e-mail
// address (or, without one, the phone number) through the list's search
// parameter, of the same pipeline, created within the dedup window
// ([WithDedupWindow], default [DefaultLeadDedupWindow]). When one exists
// the action does nothing. This relies on the lead list reflecting a
// created lead at once, and it also keeps a person who qualifies twice
// within the window from getting a second lead. Two attempts of one call
// running at the same time can still both create a lead: the engine runs
// a call's attempts one after the other.
//
// It panics if c is nil. The action is safe for concurrent use.
func CreateLeadAction(c *Client, opts ...LeadActionOption) flow.Action {
	if c == nil {
		panic("velaflows: CreateLeadAction: nil client")
	}
	a := &leadAction{c: c, window: DefaultLeadDedupWindow}
	for _, o := range opts {
		o(a)
	}
	return flow.ActionFunc(a.run)
}

const leadActionOp = "create lead action"

func (a *leadAction) run(ctx context.Context, call flow.ActionCall) error {
	r, err := a.request(call)
	if err != nil {
		return err
	}
	found, err := a.existing(ctx, r)
	if err != nil {
		return wrapf(err, "%s: look for an earlier attempt's lead", leadActionOp)
	}
	if found {
		return nil
	}
	if _, _, err := a.c.CreateLead(ctx, r); err != nil {
		return wrapf(err, "%s", leadActionOp)
	}
	return nil
}

// request checks the call's arguments and builds the lead.
func (a *leadAction) request(call flow.ActionCall) (LeadRequest, error) {
	in := actionArgs{op: leadActionOp, call: call}
	if err := in.known(leadArgs); err != nil {
		return LeadRequest{}, err
	}
	var r LeadRequest
	var err error
	if r.FirstName, r.LastName, err = in.name(); err != nil {
		return r, err
	}
	if r.FirstName == "" {
		return r, invalid(leadActionOp, "args.name", "or args.firstName is required")
	}
	if r.Email, err = in.str("email", true); err != nil {
		return r, err
	}
	if r.Phone, err = in.str("phone", true); err != nil {
		return r, err
	}
	r.Phone = cleanPhone(r.Phone)
	if r.Email == "" && r.Phone == "" {
		return r, invalid(leadActionOp, "args.email", "or args.phone is required: it is how a retried call finds its lead")
	}
	if r.PipelineID, err = in.str("pipelineId", false); err != nil {
		return r, err
	}
	if r.StageID, err = in.str("stageId", false); err != nil {
		return r, err
	}
	if r.PipelineID == "" {
		r.PipelineID = a.pipelineID
	}
	if r.StageID == "" {
		r.StageID = a.stageID
	}
	if r.PipelineID == "" {
		return r, invalid(leadActionOp, "args.pipelineId", "is required (or set WithPipeline)")
	}
	if r.StageID == "" {
		return r, invalid(leadActionOp, "args.stageId", "is required (or set WithPipeline)")
	}
	return r, nil
}

// existing reports whether a lead like r was created within the window.
func (a *leadAction) existing(ctx context.Context, r LeadRequest) (bool, error) {
	search := r.Email
	if search == "" {
		search = r.Phone
	}
	p, _, err := a.c.Leads(ctx, LeadsOptions{ListOptions{Limit: MaxLimit, Search: search, SortBy: "createdAt", SortOrder: SortDesc}})
	if err != nil {
		return false, err
	}
	now := a.c.now()
	for _, l := range p.Items {
		switch {
		case l.PipelineID != "" && l.PipelineID != r.PipelineID,
			r.Email != "" && !strings.EqualFold(strings.TrimSpace(l.Email), r.Email),
			r.Email == "" && phoneDigits(l.Phone) != phoneDigits(r.Phone),
			a.window > 0 && !l.CreatedAt.IsZero() && now.Sub(l.CreatedAt.Time) > a.window:
			continue
		}
		return true, nil
	}
	return false, nil
}

// ErrNoCustomer is returned (wrapped) by [UpdateCustomerAction] when no
// customer matches the call.
var ErrNoCustomer = errors.New("velaflows: no such customer")

// customerArgs are the arguments UpdateCustomerAction knows.
var customerArgs = []string{"id", "name", "firstName", "lastName", "email", "phone"}

// UpdateCustomerAction returns a flow action that updates a customer
// (PATCH /customers/{id}) with the call's arguments:
//
//	id         string  the customer's id
//	name       string  the full name: the first word is firstName, the rest lastName
//	firstName  string  instead of name
//	lastName   string  with firstName
//	email      string  the e-mail address
//	phone      string  the phone number, international (E.164) form; spaces, dashes, dots and parentheses are removed
//
// The customer is the one named by id; else, when the call comes from a
// conversation of c's workspace (its Platform is the name of the adapter
// whose client c is, Adapter.Client; "velaflows" for a client of
// NewClient), the conversation's customer
// (GET /inbox/conversations/{id}, its customerId); else the customer
// whose e-mail address is email, else whose phone is phone, else whose
// e-mail address or phone is the contact's (GET /customers with the
// search parameter, matched exactly). Then name, email and phone are set
// on it (values it has already are not sent). name, firstName, lastName, email and phone missing from Args are
// read from the flow's Values. At least one value to set is required.
// When no customer matches, the error wraps [ErrNoCustomer].
//
// An update sets values, so running a call again changes nothing more;
// when the customer was found by a search and already has the values,
// no update is sent.
//
// It panics if c is nil. The action is safe for concurrent use.
func UpdateCustomerAction(c *Client) flow.Action {
	if c == nil {
		panic("velaflows: UpdateCustomerAction: nil client")
	}
	return flow.ActionFunc(func(ctx context.Context, call flow.ActionCall) error {
		return updateCustomer(ctx, c, call)
	})
}

const customerActionOp = "update customer action"

func updateCustomer(ctx context.Context, c *Client, call flow.ActionCall) error {
	in := actionArgs{op: customerActionOp, call: call}
	if err := in.known(customerArgs); err != nil {
		return err
	}
	var u CustomerUpdate
	var err error
	if u.FirstName, u.LastName, err = in.name(); err != nil {
		return err
	}
	if u.Email, err = in.str("email", true); err != nil {
		return err
	}
	if u.Phone, err = in.str("phone", true); err != nil {
		return err
	}
	u.Phone = cleanPhone(u.Phone)
	id, err := in.str("id", false)
	if err != nil {
		return err
	}
	if u == (CustomerUpdate{}) {
		return invalid(customerActionOp, "args", "have no value to set (name, firstName, lastName, email, phone)")
	}
	if id == "" && call.Platform == c.platform && call.Conversation != "" {
		conv, _, err := c.Conversation(ctx, call.Conversation)
		if err != nil {
			return wrapf(err, "%s: find the conversation's customer", customerActionOp)
		}
		id = conv.CustomerID
	}
	if id == "" {
		cu, err := findCustomer(ctx, c, u.Email, u.Phone, call)
		if err != nil {
			return err
		}
		if u = changes(cu, u); u == (CustomerUpdate{}) {
			return nil
		}
		id = cu.ID
	}
	if _, _, err := c.UpdateCustomer(ctx, id, u); err != nil {
		return wrapf(err, "%s", customerActionOp)
	}
	return nil
}

// findCustomer finds the customer by e-mail address, else by phone,
// trying the call's values first and the contact's after.
func findCustomer(ctx context.Context, c *Client, email, phone string, call flow.ActionCall) (*Customer, error) {
	type key struct{ email, phone string }
	var keys []key
	for _, k := range []key{{email: email}, {phone: phone}, {email: strings.TrimSpace(call.Contact.Email)}, {phone: strings.TrimSpace(call.Contact.Phone)}} {
		if (k.email != "" || k.phone != "") && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		search := k.email + k.phone
		p, _, err := c.Customers(ctx, CustomersOptions{ListOptions{Limit: MaxLimit, Search: search}})
		if err != nil {
			return nil, wrapf(err, "%s: find the customer", customerActionOp)
		}
		for i, cu := range p.Items {
			if k.email != "" && strings.EqualFold(strings.TrimSpace(cu.Email), k.email) ||
				k.phone != "" && phoneDigits(cu.Phone) == phoneDigits(k.phone) {
				return &p.Items[i], nil
			}
		}
	}
	if len(keys) == 0 {
		return nil, invalid(customerActionOp, "args.id", "is required when neither the conversation, an e-mail address nor a phone names the customer")
	}
	return nil, fmt.Errorf("velaflows: %s: no customer with that e-mail address or phone: %w", customerActionOp, ErrNoCustomer)
}

// changes returns the part of u that cu does not have yet.
func changes(cu *Customer, u CustomerUpdate) CustomerUpdate {
	if u.FirstName == cu.FirstName {
		u.FirstName = ""
	}
	if u.LastName == cu.LastName {
		u.LastName = ""
	}
	if strings.EqualFold(u.Email, strings.TrimSpace(cu.Email)) {
		u.Email = ""
	}
	if u.Phone != "" && phoneDigits(u.Phone) == phoneDigits(cu.Phone) {
		u.Phone = ""
	}
	return u
}

// cleanPhone removes the spaces, dashes, dots and parentheses people
// write phone numbers with; the API wants the international form.
func cleanPhone(p string) string {
	return strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(p)
}

// phoneDigits returns the digits of a phone number, for comparing numbers
// written with and without spaces or dashes.
func phoneDigits(p string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, p)
}

// actionArgs reads an action call's arguments.
type actionArgs struct {
	op   string
	call flow.ActionCall
}

// known refuses arguments not in names.
func (a actionArgs) known(names []string) error {
	var unknown []string
	for k := range a.call.Args {
		if !slices.Contains(names, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return invalid(a.op, "args."+unknown[0], "is not an argument of this action (it takes "+strings.Join(names, ", ")+")")
}

// str returns the string argument name, trimmed; "" when absent. With
// fromValues, an argument missing from Args is read from the flow's
// Values.
func (a actionArgs) str(name string, fromValues bool) (string, error) {
	where, from := "args.", a.call.Args
	if _, in := a.call.Args[name]; !in && fromValues {
		where, from = "values.", a.call.Values
	}
	s, p := actionargs.String(from, name)
	if p != nil {
		return "", invalid(a.op, where+p.Arg, p.Text)
	}
	return s, nil
}

// name returns the first and last names from name, or from firstName and
// lastName: from Args when they hold any of the three, else from the
// flow's Values.
func (a actionArgs) name() (first, last string, err error) {
	fromValues := true
	for _, k := range []string{"name", "firstName", "lastName"} {
		if _, ok := a.call.Args[k]; ok {
			fromValues = false
		}
	}
	full, err := a.str("name", fromValues)
	if err != nil {
		return "", "", err
	}
	if first, err = a.str("firstName", fromValues); err != nil {
		return "", "", err
	}
	if last, err = a.str("lastName", fromValues); err != nil {
		return "", "", err
	}
	switch {
	case full != "" && (first != "" || last != ""):
		if !fromValues {
			return "", "", invalid(a.op, "args.name", "and args.firstName/lastName are exclusive")
		}
		return first, last, nil // saved parts are more precise than a saved full name
	case full != "":
		first, last, _ = strings.Cut(full, " ")
		return first, strings.TrimSpace(last), nil
	}
	return first, last, nil
}
