package velaflowstest

import (
	"net/http"
	"slices"
	"strings"
)

// A routeSpec is one endpoint: method, path template (relative to the
// base URL, with {name} parameters) and the scope it needs by default.
type routeSpec struct {
	method, pattern, scope string
}

func (r routeSpec) key() string { return r.method + " " + r.pattern }

// routeSpecs lists every endpoint. Scope names follow the assumed
// (undocumented) pattern "<service>:<read|write>"; only inbox:read is documented.
var routeSpecs = []routeSpec{
	{http.MethodGet, "/inbox/conversations", "inbox:read"},
	{http.MethodGet, "/inbox/conversations/{id}", "inbox:read"},
	{http.MethodPatch, "/inbox/conversations/{id}", "inbox:write"},
	{http.MethodGet, "/inbox/conversations/{id}/messages", "inbox:read"},
	{http.MethodPost, "/inbox/conversations/{id}/messages", "inbox:write"},
	{http.MethodPost, "/inbox/conversations/{id}/assign", "inbox:write"},
	{http.MethodPost, "/inbox/conversations/{id}/unassign", "inbox:write"},
	{http.MethodPost, "/inbox/conversations/{id}/close", "inbox:write"},
	{http.MethodPost, "/inbox/conversations/{id}/reopen", "inbox:write"},

	{http.MethodGet, "/crm/leads", "crm:read"},
	{http.MethodPost, "/crm/leads", "crm:write"},
	{http.MethodGet, "/crm/leads/{id}", "crm:read"},
	{http.MethodPatch, "/crm/leads/{id}", "crm:write"},
	{http.MethodDelete, "/crm/leads/{id}", "crm:write"},
	{http.MethodPatch, "/crm/leads/{id}/stage", "crm:write"},
	{http.MethodGet, "/crm/pipelines", "crm:read"},
	{http.MethodGet, "/crm/pipelines/{id}", "crm:read"},

	{http.MethodGet, "/customers", "customers:read"},
	{http.MethodPost, "/customers", "customers:write"},
	{http.MethodGet, "/customers/{id}", "customers:read"},
	{http.MethodPatch, "/customers/{id}", "customers:write"},

	{http.MethodGet, "/tags", "tags:read"},
	{http.MethodPost, "/tags", "tags:write"},
	{http.MethodGet, "/tags/{id}", "tags:read"},
	{http.MethodPatch, "/tags/{id}", "tags:write"},
	{http.MethodDelete, "/tags/{id}", "tags:write"},

	{http.MethodGet, "/integrations/webhooks", "integrations:read"},
	{http.MethodPost, "/integrations/webhooks", "integrations:write"},
	{http.MethodGet, "/integrations/webhooks/{id}", "integrations:read"},
	{http.MethodPatch, "/integrations/webhooks/{id}", "integrations:write"},
	{http.MethodDelete, "/integrations/webhooks/{id}", "integrations:write"},
	{http.MethodGet, "/webhooks/subscriptions", "integrations:read"},
	{http.MethodPost, "/webhooks/subscriptions", "integrations:write"},
	{http.MethodGet, "/webhooks/subscriptions/{id}", "integrations:read"},
	{http.MethodPatch, "/webhooks/subscriptions/{id}", "integrations:write"},
	{http.MethodDelete, "/webhooks/subscriptions/{id}", "integrations:write"},

	{http.MethodPost, "/workflows/{id}/execute", "workflows:execute"},
}

var routeKeys = func() map[string]routeSpec {
	m := make(map[string]routeSpec, len(routeSpecs))
	for _, r := range routeSpecs {
		m[r.key()] = r
	}
	return m
}()

// DefaultScopes returns the scope every route needs by default, keyed by
// route ("GET /inbox/conversations", "POST /inbox/conversations/{id}/messages",
// …). Only inbox:read for GET /inbox/conversations is documented;
// the rest follow the assumed "<service>:<read|write>" pattern, with
// deletes needing the write scope and webhook subscriptions (both
// spellings) needing integrations:read/integrations:write. The map is a
// fresh copy; change it and pass it to [WithScopes].
func DefaultScopes() map[string]string {
	m := make(map[string]string, len(routeSpecs))
	for _, r := range routeSpecs {
		m[r.key()] = r.scope
	}
	return m
}

// A handler serves one endpoint after authentication, rate limiting, the
// scope check and body decoding. It returns the HTTP status and the value
// of "data", or an error.
type handler func(c *call) (int, any, *apiError)

func (s *Server) handlerTable() map[string]handler {
	return map[string]handler{
		"GET /inbox/conversations":                s.listConversations,
		"GET /inbox/conversations/{id}":           s.getConversation,
		"PATCH /inbox/conversations/{id}":         s.patchConversation,
		"GET /inbox/conversations/{id}/messages":  s.listMessages,
		"POST /inbox/conversations/{id}/messages": s.sendMessage,
		"POST /inbox/conversations/{id}/assign":   s.assignConversation,
		"POST /inbox/conversations/{id}/unassign": s.unassignConversation,
		"POST /inbox/conversations/{id}/close":    s.closeConversation,
		"POST /inbox/conversations/{id}/reopen":   s.reopenConversation,
		"GET /crm/leads":                          s.listLeads,
		"POST /crm/leads":                         s.createLead,
		"GET /crm/leads/{id}":                     s.getLead,
		"PATCH /crm/leads/{id}":                   s.patchLead,
		"DELETE /crm/leads/{id}":                  s.deleteLead,
		"PATCH /crm/leads/{id}/stage":             s.changeLeadStage,
		"GET /crm/pipelines":                      s.listPipelines,
		"GET /crm/pipelines/{id}":                 s.getPipeline,
		"GET /customers":                          s.listCustomers,
		"POST /customers":                         s.createCustomer,
		"GET /customers/{id}":                     s.getCustomer,
		"PATCH /customers/{id}":                   s.patchCustomer,
		"GET /tags":                               s.listTags,
		"POST /tags":                              s.createTag,
		"GET /tags/{id}":                          s.getTag,
		"PATCH /tags/{id}":                        s.patchTag,
		"DELETE /tags/{id}":                       s.deleteTag,
		"GET /integrations/webhooks":              s.listSubscriptions,
		"POST /integrations/webhooks":             s.createSubscription,
		"GET /integrations/webhooks/{id}":         s.getSubscription,
		"PATCH /integrations/webhooks/{id}":       s.patchSubscription,
		"DELETE /integrations/webhooks/{id}":      s.deleteSubscription,
		"GET /webhooks/subscriptions":             s.listSubscriptions,
		"POST /webhooks/subscriptions":            s.createSubscription,
		"GET /webhooks/subscriptions/{id}":        s.getSubscription,
		"PATCH /webhooks/subscriptions/{id}":      s.patchSubscription,
		"DELETE /webhooks/subscriptions/{id}":     s.deleteSubscription,
		"POST /workflows/{id}/execute":            s.executeWorkflow,
	}
}

// matchRoute finds the endpoint for method and path. It returns the route
// and its parameters; when only the method is wrong it returns the allowed
// methods instead, and when nothing matches both are empty.
func matchRoute(method, path string) (spec routeSpec, params map[string]string, allow []string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, r := range routeSpecs {
		p, ok := matchPattern(r.pattern, segs)
		if !ok {
			continue
		}
		if r.method == method {
			return r, p, nil
		}
		if !slices.Contains(allow, r.method) {
			allow = append(allow, r.method)
		}
	}
	return routeSpec{}, nil, allow
}

func matchPattern(pattern string, segs []string) (map[string]string, bool) {
	ps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}
