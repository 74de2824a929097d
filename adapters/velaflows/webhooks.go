package velaflows

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// Paths of the webhook subscriptions API, for [Config.SubscriptionsPath].
// VelaFlows' Python examples subscribe with POST /webhooks/subscriptions; the
// docs pages with POST /integrations/webhooks. Both take {url, events,
// secret} and answer with data.subscription.
const (
	SubscriptionsPathSeed         = "/webhooks/subscriptions"
	SubscriptionsPathIntegrations = "/integrations/webhooks"
)

// Webhook event names as VelaFlows' Python examples spell them. That
// spelling is the canonical one of this package: [CanonicalEvent] maps
// the docs' spelling to it. Names marked "derived" follow the examples'
// pattern for a docs event the examples do not show.
const (
	EventConversationCreated         = "conversation.created"
	EventConversationAssigned        = "conversation.assigned"       // derived
	EventConversationUnassigned      = "conversation.unassigned"     // derived from an assumed docs name
	EventConversationStatusChanged   = "conversation.status_changed" // derived from an assumed docs name
	EventConversationClosed          = "conversation.closed"         // derived from an assumed docs name
	EventConversationReopened        = "conversation.reopened"       // derived from an assumed docs name
	EventConversationMessageReceived = "conversation.message.received"
	EventConversationMessageSent     = "conversation.message.sent" // derived from an assumed docs name
	EventLeadCreated                 = "lead.created"              // derived
	EventLeadStageChanged            = "lead.stage_changed"
	EventCustomerCreated             = "customer.created" // the same in both spellings
	EventCustomerUpdated             = "customer.updated" // the same in both spellings; assumed
	EventCustomerMerged              = "customer.merged"  // the same in both spellings
)

// Webhook event names as the docs pages spell them. Names marked "assumed"
// are not in VelaFlows' documentation. VelaFlows
// may deliver either spelling; compare names through [CanonicalEvent].
const (
	EventInboxConversationCreated       = "inbox.conversation.created"
	EventInboxConversationAssigned      = "inbox.conversation.assigned"
	EventInboxConversationUnassigned    = "inbox.conversation.unassigned"     // not documented; assumed
	EventInboxConversationStatusChanged = "inbox.conversation.status_changed" // not documented; assumed
	EventInboxConversationClosed        = "inbox.conversation.closed"         // not documented; assumed
	EventInboxConversationReopened      = "inbox.conversation.reopened"       // not documented; assumed
	EventInboxMessageReceived           = "inbox.message.received"
	EventInboxMessageSent               = "inbox.message.sent" // not documented; assumed
	EventCRMLeadCreated                 = "crm.lead.created"
	EventCRMLeadStageChanged            = "crm.lead.stage_changed"
	EventChannelsMessageStatusChanged   = "channels.message.status_changed"
)

// eventSpellings maps a docs prefix to the prefix of VelaFlows' Python
// examples. The examples' three names (conversation.created, conversation.message.received,
// lead.stage_changed) are the docs' names with these prefixes rewritten;
// the same rewrite is applied to the other events of those entities.
var eventSpellings = []struct{ docs, seed string }{
	{"inbox.message.", "conversation.message."},
	{"inbox.conversation.", "conversation."},
	{"crm.lead.", "lead."},
}

// CanonicalEvent returns the spelling of VelaFlows' Python examples for an
// event name:
// "inbox.message.received" → "conversation.message.received",
// "inbox.conversation.created" → "conversation.created",
// "crm.lead.stage_changed" → "lead.stage_changed", and likewise for the
// other inbox.conversation.*, inbox.message.* and crm.lead.* events. Any
// other name, the examples' spellings included, is returned unchanged, so
// two names denote the same event exactly when their canonical forms are
// equal. Event names are opaque: unknown ones pass through.
func CanonicalEvent(name string) string {
	for _, s := range eventSpellings {
		if rest, ok := strings.CutPrefix(name, s.docs); ok && rest != "" {
			return s.seed + rest
		}
	}
	return name
}

// DocsEvent returns the docs' spelling of an event name, the inverse of
// [CanonicalEvent]: "conversation.message.received" →
// "inbox.message.received". Other names are returned unchanged.
func DocsEvent(name string) string {
	if strings.HasPrefix(name, "inbox.") || strings.HasPrefix(name, "crm.") {
		return name
	}
	for _, s := range eventSpellings {
		if rest, ok := strings.CutPrefix(name, s.seed); ok && rest != "" {
			return s.docs + rest
		}
	}
	return name
}

// SameEvent reports whether a and b name the same event in either
// spelling.
func SameEvent(a, b string) bool { return CanonicalEvent(a) == CanonicalEvent(b) }

// NewWebhookSecret returns a new random signing secret for a webhook
// subscription: "whsec_" and 32 random bytes in unpadded base64url. Send
// it with [Client.CreateWebhookSubscription] and keep it to verify the
// X-Webhook-Signature of deliveries; VelaFlows does not return it.
func NewWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("velaflows: new webhook secret: %w", err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// Bool returns a pointer to v, for optional boolean fields such as
// [WebhookSubscriptionUpdate.Active].
func Bool(v bool) *bool { return &v }

// webhookSubscriptionRequest is the body of a create call.
type webhookSubscriptionRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret,omitempty"`
}

// CreateWebhookSubscription subscribes target to events: POST
// /webhooks/subscriptions {url, events, secret}, answered with
// data.subscription (VelaFlows' Python examples read
// data.subscription._id).
//
// target must be an absolute http or https URL (VelaFlows requires https
// for anything but local addresses). events are event names in either
// spelling, such as EventConversationMessageReceived. secret is the
// signing secret of the deliveries (see [NewWebhookSecret]); without one
// deliveries carry no X-Webhook-Signature, so always send one.
//
// The path follows [Config.SubscriptionsPath]. By default the path of
// VelaFlows' Python examples is tried first; if the gateway answers 404 for the route (a 404
// without details.resourceId), the call is sent to the docs' POST
// /integrations/webhooks instead, with the event names in the docs'
// spelling ([DocsEvent]), and the path that worked is remembered for the
// client's later subscription calls. A 404 means nothing was created, so
// the fallback cannot subscribe twice. Like every POST it is never
// retried automatically.
func (c *Client) CreateWebhookSubscription(ctx context.Context, target string, events []string, secret string) (*WebhookSubscription, *Response, error) {
	const op = "create webhook subscription"
	if err := checkWebhookURL(op, target); err != nil {
		return nil, nil, err
	}
	if err := checkEvents(op, events); err != nil {
		return nil, nil, err
	}
	var sub *WebhookSubscription
	resp, err := c.withSubscriptionsPath(func(base string) (*Response, error) {
		body := webhookSubscriptionRequest{URL: target, Events: eventsFor(base, events), Secret: secret}
		s, resp, err := getOne[WebhookSubscription](ctx, c, http.MethodPost, base, nil, body, "subscription")
		sub = s
		return resp, err
	})
	if err != nil {
		return nil, resp, err
	}
	return sub, resp, nil
}

// ListWebhookSubscriptions lists one page of webhook subscriptions: GET on
// the subscriptions path (see [Client.CreateWebhookSubscription] for how
// it is chosen). The items are read from data.items, or from
// data.subscriptions.
//
// Unverified: the docs show only the create call; the list endpoint is
// assumed.
func (c *Client) ListWebhookSubscriptions(ctx context.Context, opts ListOptions) (*Page[WebhookSubscription], *Response, error) {
	q, err := opts.values("list webhook subscriptions")
	if err != nil {
		return nil, nil, err
	}
	var page *Page[WebhookSubscription]
	resp, err := c.withSubscriptionsPath(func(base string) (*Response, error) {
		resp, data, err := c.call(ctx, http.MethodGet, base, q, nil)
		if err != nil {
			return resp, err
		}
		var d struct {
			Items         []WebhookSubscription `json:"items"`
			Subscriptions []WebhookSubscription `json:"subscriptions"`
			Pagination    *Pagination           `json:"pagination"`
		}
		if !isObject(data) {
			return resp, fmt.Errorf("velaflows: GET %s: decode data: not an object", base)
		}
		if err := json.Unmarshal(data, &d); err != nil {
			return resp, fmt.Errorf("velaflows: GET %s: decode data: %w", base, err)
		}
		page = &Page[WebhookSubscription]{Items: d.Items}
		if page.Items == nil {
			page.Items = d.Subscriptions
		}
		if page.Items == nil {
			page.Items = []WebhookSubscription{}
		}
		if d.Pagination != nil {
			page.Pagination = *d.Pagination
		}
		return resp, nil
	})
	if err != nil {
		return nil, resp, err
	}
	return page, resp, nil
}

// AllWebhookSubscriptions iterates over the webhook subscriptions of every
// page from opts.Page on, as [Client.AllConversations] does.
func (c *Client) AllWebhookSubscriptions(ctx context.Context, opts ListOptions) iter.Seq2[WebhookSubscription, error] {
	return allPages(ctx, opts, c.ListWebhookSubscriptions)
}

// WebhookSubscription gets one webhook subscription: GET on the
// subscriptions path + "/{id}", answered with data.subscription.
// Unverified: VelaFlows does not document this endpoint; it is assumed.
func (c *Client) WebhookSubscription(ctx context.Context, id string) (*WebhookSubscription, *Response, error) {
	seg, err := escapeID("get webhook subscription", "id", id)
	if err != nil {
		return nil, nil, err
	}
	var sub *WebhookSubscription
	resp, err := c.withSubscriptionsPath(func(base string) (*Response, error) {
		s, resp, err := getOne[WebhookSubscription](ctx, c, http.MethodGet, base+"/"+seg, nil, nil, "subscription")
		sub = s
		return resp, err
	})
	if err != nil {
		return nil, resp, err
	}
	return sub, resp, nil
}

// WebhookSubscriptionUpdate is the body of
// [Client.UpdateWebhookSubscription]. Zero fields are not sent and leave
// the subscription's value unchanged; at least one must be set.
type WebhookSubscriptionUpdate struct {
	URL    string   `json:"url,omitempty"`
	Events []string `json:"events,omitempty"`
	Secret string   `json:"secret,omitempty"`
	// Active switches deliveries on or off; Bool(true) reactivates a
	// subscription VelaFlows deactivated.
	Active *bool `json:"active,omitempty"`
}

// UpdateWebhookSubscription changes a webhook subscription: PATCH on the
// subscriptions path + "/{id}", answered with data.subscription.
// Unverified: VelaFlows documents neither this endpoint nor
// reactivation; both, reactivation through active, are assumed.
func (c *Client) UpdateWebhookSubscription(ctx context.Context, id string, u WebhookSubscriptionUpdate) (*WebhookSubscription, *Response, error) {
	const op = "update webhook subscription"
	seg, err := escapeID(op, "id", id)
	if err != nil {
		return nil, nil, err
	}
	if u.URL == "" && u.Events == nil && u.Secret == "" && u.Active == nil {
		return nil, nil, invalid(op, "body", "has no field to change")
	}
	if u.URL != "" {
		if err := checkWebhookURL(op, u.URL); err != nil {
			return nil, nil, err
		}
	}
	if u.Events != nil {
		if err := checkEvents(op, u.Events); err != nil {
			return nil, nil, err
		}
	}
	var sub *WebhookSubscription
	resp, err := c.withSubscriptionsPath(func(base string) (*Response, error) {
		body := u
		if u.Events != nil {
			body.Events = eventsFor(base, u.Events)
		}
		s, resp, err := getOne[WebhookSubscription](ctx, c, http.MethodPatch, base+"/"+seg, nil, body, "subscription")
		sub = s
		return resp, err
	})
	if err != nil {
		return nil, resp, err
	}
	return sub, resp, nil
}

// DeleteWebhookSubscription deletes a webhook subscription: DELETE on the
// subscriptions path + "/{id}". Unverified: VelaFlows does not document
// this endpoint; it is assumed.
func (c *Client) DeleteWebhookSubscription(ctx context.Context, id string) (*Response, error) {
	seg, err := escapeID("delete webhook subscription", "id", id)
	if err != nil {
		return nil, err
	}
	return c.withSubscriptionsPath(func(base string) (*Response, error) {
		return c.deleteCall(ctx, base+"/"+seg)
	})
}

// SubscriptionsPath returns the webhook subscriptions path the client
// uses: the configured one, or the one that answered in the default mode,
// or "" when the default mode has not found one yet.
func (c *Client) SubscriptionsPath() string {
	if c.subsPath != "" {
		return c.subsPath
	}
	if p := c.subsFound.Load(); p != nil {
		return *p
	}
	return ""
}

// withSubscriptionsPath runs call with the subscriptions path: the
// configured or remembered one, or else the path of VelaFlows' Python
// examples, then the docs' path when the examples' route is missing. When
// both routes are missing, the answer for the examples' path is returned.
func (c *Client) withSubscriptionsPath(call func(base string) (*Response, error)) (*Response, error) {
	if p := c.SubscriptionsPath(); p != "" {
		return call(p)
	}
	resp, err := call(SubscriptionsPathSeed)
	if !routeMissing(err) {
		if err == nil {
			c.remember(SubscriptionsPathSeed)
		}
		return resp, err
	}
	resp2, err2 := call(SubscriptionsPathIntegrations)
	if routeMissing(err2) {
		return resp, err
	}
	if err2 == nil {
		c.remember(SubscriptionsPathIntegrations)
	}
	return resp2, err2
}

// remember records the subscriptions path that answered.
func (c *Client) remember(p string) { c.subsFound.CompareAndSwap(nil, &p) }

// routeMissing reports whether err is a 404 that names no resource: the
// gateway does not know the route.
func routeMissing(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.ResourceID() == ""
}

// eventsFor spells events for the subscriptions path base: the docs'
// spelling on the docs' path, as given on the examples' path.
func eventsFor(base string, events []string) []string {
	if base != SubscriptionsPathIntegrations {
		return events
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = DocsEvent(e)
	}
	return out
}

// checkWebhookURL requires an absolute http(s) URL with a host.
func checkWebhookURL(op, target string) error {
	if strings.TrimSpace(target) == "" {
		return invalid(op, "url", "is required")
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid(op, "url", "must be an absolute https URL")
	}
	return nil
}

// checkEvents requires at least one event and no empty name.
func checkEvents(op string, events []string) error {
	if len(events) == 0 {
		return invalid(op, "events", "must name at least one event")
	}
	for _, e := range events {
		if strings.TrimSpace(e) == "" || strings.ContainsAny(e, " \t\r\n") {
			return invalid(op, "events", fmt.Sprintf("has an invalid event name %q", e))
		}
	}
	return nil
}
