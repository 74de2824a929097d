package velaflowstest

import (
	"net/http"
	"slices"
)

// Webhook subscription endpoints. Both spellings share one set of
// subscriptions: POST /webhooks/subscriptions (Python examples) and POST
// /integrations/webhooks (docs), each with list, get, patch and delete.

func (s *Server) createSubscription(c *call) (int, any, *apiError) {
	b := c.body
	b.only("url", "events", "secret")
	url, _ := b.str("url")
	events, hasEvents := b.strings("events")
	secret, _ := b.str("secret")
	if !b.has("events") || hasEvents {
		b.errs = append(b.errs, subscriptionProblems(url, events, s.cfg.allowHTTP)...)
	} else if errs := subscriptionProblems(url, []string{"x.y"}, s.cfg.allowHTTP); len(errs) > 0 {
		b.errs = append(b.errs, errs...)
	}
	if len(b.errs) > 0 {
		return 0, nil, s.validationError(b.errs)
	}
	sub := s.wh.create(url, secret, events, c.now)
	s.wh.mu.Lock()
	w := subscriptionWire(sub)
	s.wh.mu.Unlock()
	return http.StatusCreated, map[string]any{"subscription": w}, nil
}

func (s *Server) listSubscriptions(c *call) (int, any, *apiError) {
	p, e := s.parsePage(c.query, []string{"createdAt"}, true)
	if e != nil {
		return 0, nil, e
	}
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	items := slices.Clone(s.wh.subs)
	sortItems(items, p.desc, func(a, b *subscription) int { return cmpTime(a.created, b.created) }, func(x *subscription) string { return x.id })
	return http.StatusOK, paginate(items, p, subscriptionWire), nil
}

func (s *Server) getSubscription(c *call) (int, any, *apiError) {
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	sub := s.wh.subLocked(c.params["id"])
	if sub == nil {
		return 0, nil, notFound("Webhook subscription", c.params["id"])
	}
	return http.StatusOK, map[string]any{"subscription": subscriptionWire(sub)}, nil
}

// patchSubscription applies {url?, events?, secret?, active?} (assumed,
// not documented, assumed); "active": true reactivates a deactivated subscription.
func (s *Server) patchSubscription(c *call) (int, any, *apiError) {
	b := c.body
	b.only("url", "events", "secret", "active")
	url, hasURL := b.str("url")
	events, hasEvents := b.strings("events")
	secret, hasSecret := b.str("secret")
	active, hasActive := b.boolean("active")
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	sub := s.wh.subLocked(c.params["id"])
	if sub == nil {
		return 0, nil, notFound("Webhook subscription", c.params["id"])
	}
	checkURL, checkEvents := sub.url, sub.events
	if hasURL {
		checkURL = url
	}
	if hasEvents {
		checkEvents = events
	}
	b.errs = append(b.errs, subscriptionProblems(checkURL, checkEvents, s.cfg.allowHTTP)...)
	if len(b.errs) > 0 {
		return 0, nil, s.validationError(b.errs)
	}
	if hasURL {
		sub.url = url
	}
	if hasEvents {
		sub.events = dedupe(events)
	}
	if hasSecret {
		sub.secret = secret
	}
	if hasActive {
		sub.active = active
		if active {
			sub.reason, sub.failures = "", 0
		} else {
			sub.reason = "deactivated through the API"
		}
	}
	if len(b.m) > 0 {
		sub.updated = c.now
	}
	return http.StatusOK, map[string]any{"subscription": subscriptionWire(sub)}, nil
}

// deleteSubscription removes a subscription; its queued and retrying
// deliveries stop.
func (s *Server) deleteSubscription(c *call) (int, any, *apiError) {
	d := s.wh
	d.mu.Lock()
	defer d.mu.Unlock()
	id := c.params["id"]
	if d.subLocked(id) == nil {
		return 0, nil, notFound("Webhook subscription", id)
	}
	d.subs = slices.DeleteFunc(d.subs, func(x *subscription) bool { return x.id == id })
	d.dropHeldLocked(id)
	return http.StatusOK, map[string]any{"_id": id, "deleted": true}, nil
}
