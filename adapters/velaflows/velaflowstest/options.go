package velaflowstest

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"
)

// An Option configures a [Server]. Options are applied in order by
// [NewServer] and [Start]; a later option overrides an earlier one.
type Option func(*config)

// EventNaming selects which spelling of an event name a webhook delivery
// carries in "eventType" and X-Webhook-Event. Every event has two
// spellings, that of VelaFlows' Python examples
// ("conversation.message.received") and the docs'
// ("inbox.message.received"); a subscription to either receives the event.
type EventNaming int

const (
	// NamingAsSubscribed sends the spelling the subscription listed (the
	// first listed when it names both). It is the default.
	NamingAsSubscribed EventNaming = iota
	// NamingSeed always sends the spelling of VelaFlows' Python examples,
	// such as
	// "conversation.message.received".
	NamingSeed
	// NamingDocs always sends the docs' spelling, such as
	// "inbox.message.received".
	NamingDocs
)

// tokenInfo is one API token the server accepts.
type tokenInfo struct {
	token  string
	scopes []string // "*" grants every scope
}

// presetSubscription is a webhook subscription created at start.
type presetSubscription struct {
	url, secret string
	events      []string
}

// config is the configuration of a Server, fixed before it starts.
type config struct {
	prefix    string
	prefixSet bool // by WithPrefix

	token       string
	workspaceID string
	extraTokens []tokenInfo
	scopes      map[string]string // route key → scope; "" means none needed

	readLimit, writeLimit, deleteLimit int
	rateWindow                         time.Duration
	perEndpoint                        bool

	clock            func() time.Time
	pageSize         int
	validationStatus int

	retrySchedule    []time.Duration
	redeliveryWindow time.Duration
	deliveryTimeout  time.Duration
	observer         func(Delivery)
	closeGrace       time.Duration
	autoDeactivate   int
	reorderHold      time.Duration
	naming           EventNaming
	prefixedIDs      bool
	allowHTTP        bool
	subscriptions    []presetSubscription

	waitTimeout time.Duration
	demo        bool
	logger      *slog.Logger
}

func defaultConfig() config {
	return config{
		prefix:           "/api/v1",
		scopes:           DefaultScopes(),
		readLimit:        300,
		writeLimit:       100,
		deleteLimit:      50,
		rateWindow:       15 * time.Minute,
		clock:            time.Now,
		pageSize:         20,
		validationStatus: http.StatusUnprocessableEntity,
		retrySchedule:    []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
		redeliveryWindow: 24 * time.Hour,
		deliveryTimeout:  10 * time.Second,
		closeGrace:       2 * time.Second,
		autoDeactivate:   10,
		reorderHold:      200 * time.Millisecond,
		waitTimeout:      5 * time.Second,
		demo:             true,
	}
}

// cleanPrefix adds a missing leading slash to the API path prefix p and
// removes trailing ones. "/_sim" and a prefix under it are refused.
func cleanPrefix(p string) (string, error) {
	c := strings.TrimRight(p, "/")
	if c != "" && !strings.HasPrefix(c, "/") {
		c = "/" + c
	}
	if c == "/_sim" || strings.HasPrefix(c, "/_sim/") {
		return "", fmt.Errorf("velaflowstest: prefix %q collides with the /_sim/ control endpoints", p)
	}
	return c, nil
}

// validate checks the configuration and fills in the random defaults.
func (c *config) validate() error {
	p, err := cleanPrefix(c.prefix)
	if err != nil {
		return err
	}
	c.prefix = p
	if c.token == "" {
		c.token = "sk_test_" + randomAlnum(40)
	}
	if c.workspaceID == "" {
		c.workspaceID = randomHex(12)
	}
	if !isObjectID(c.workspaceID) {
		return fmt.Errorf("velaflowstest: workspace id %q is not 24 hex characters", c.workspaceID)
	}
	c.workspaceID = strings.ToLower(c.workspaceID)
	seen := map[string]bool{c.token: true}
	for _, t := range c.extraTokens {
		if t.token == "" || strings.ContainsAny(t.token, " \t\r\n") {
			return fmt.Errorf("velaflowstest: invalid extra token")
		}
		if seen[t.token] {
			return fmt.Errorf("velaflowstest: token %.16s… given twice", t.token)
		}
		seen[t.token] = true
	}
	if strings.ContainsAny(c.token, " \t\r\n") {
		return fmt.Errorf("velaflowstest: the token must not contain white space")
	}
	for key := range c.scopes {
		if _, ok := routeKeys[key]; !ok {
			return fmt.Errorf("velaflowstest: WithScopes: unknown route %q (want a key of DefaultScopes)", key)
		}
	}
	for _, sub := range c.subscriptions {
		if errs := subscriptionProblems(sub.url, sub.events, c.allowHTTP); len(errs) > 0 {
			return fmt.Errorf("velaflowstest: WithSubscription: %s", joinProblems(errs))
		}
	}
	switch {
	case c.readLimit < 0 || c.writeLimit < 0 || c.deleteLimit < 0:
		return fmt.Errorf("velaflowstest: negative rate limit")
	case c.rateWindow <= 0:
		return fmt.Errorf("velaflowstest: rate-limit window must be positive, got %v", c.rateWindow)
	case c.clock == nil:
		return fmt.Errorf("velaflowstest: nil clock")
	case c.pageSize < 1 || c.pageSize > maxLimit:
		return fmt.Errorf("velaflowstest: page size %d out of range 1..%d", c.pageSize, maxLimit)
	case c.validationStatus != http.StatusBadRequest && c.validationStatus != http.StatusUnprocessableEntity:
		return fmt.Errorf("velaflowstest: validation status must be 400 or 422, got %d", c.validationStatus)
	case c.redeliveryWindow < 0:
		return fmt.Errorf("velaflowstest: negative redelivery window")
	case c.deliveryTimeout <= 0:
		return fmt.Errorf("velaflowstest: delivery timeout must be positive, got %v", c.deliveryTimeout)
	case c.autoDeactivate < 0:
		return fmt.Errorf("velaflowstest: negative auto-deactivation threshold")
	case c.reorderHold <= 0:
		return fmt.Errorf("velaflowstest: reorder hold must be positive, got %v", c.reorderHold)
	case c.waitTimeout <= 0:
		return fmt.Errorf("velaflowstest: wait timeout must be positive, got %v", c.waitTimeout)
	case c.naming < NamingAsSubscribed || c.naming > NamingDocs:
		return fmt.Errorf("velaflowstest: unknown event naming %d", c.naming)
	}
	for _, d := range c.retrySchedule {
		if d < 0 {
			return fmt.Errorf("velaflowstest: negative retry delay %v", d)
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// WithPrefix serves the API under the path prefix p instead of "/api/v1"
// (the path of the real base URL https://api.velaflows.com/api/v1). A
// missing leading slash is added and trailing slashes are removed; "" serves
// the API at the root. The "/_sim/" control endpoints stay at the root.
func WithPrefix(p string) Option {
	return func(c *config) { c.prefix, c.prefixSet = p, true }
}

// WithCredentials sets the API token accepted in "Authorization: Bearer
// <token>" and the workspace ID required in x-workspace-id (24 hex
// characters). This token has every scope. An empty value keeps the
// default: a random token in the documented format, "sk_test_" plus 40
// alphanumerics (the documented format), and a random workspace ID. Read them with
// [Server.Token] and [Server.WorkspaceID].
func WithCredentials(token, workspaceID string) Option {
	return func(c *config) {
		if token != "" {
			c.token = token
		}
		if workspaceID != "" {
			c.workspaceID = workspaceID
		}
	}
}

// WithToken adds another API token for the same workspace, holding exactly
// the given scopes (such as "inbox:read"; "*" grants all, none grants
// nothing). A request whose route needs a scope the token lacks gets 403
// FORBIDDEN. Each token has its own rate-limit counters.
func WithToken(token string, scopes ...string) Option {
	return func(c *config) {
		c.extraTokens = append(c.extraTokens, tokenInfo{token: token, scopes: append([]string(nil), scopes...)})
	}
}

// WithScopes changes the scope each route needs. Keys are route keys as
// returned by [DefaultScopes] ("POST /inbox/conversations/{id}/messages");
// a value of "" makes the route need no scope. Routes not named keep their
// default.
func WithScopes(table map[string]string) Option {
	return func(c *config) {
		c.scopes = maps.Clone(c.scopes)
		maps.Copy(c.scopes, table)
	}
}

// WithRateLimits sets how many requests each token may make per window:
// reads (GET), writes (POST, PATCH, PUT) and deletes (DELETE) are counted
// separately in fixed windows that start with a category's first counted
// request. The defaults are 300, 100 and 50 per 15 minutes, as
// documented. A
// limit of 0 turns limiting (and the X-RateLimit-* headers) off for that
// category.
func WithRateLimits(reads, writes, deletes int, window time.Duration) Option {
	return func(c *config) {
		c.readLimit, c.writeLimit, c.deleteLimit, c.rateWindow = reads, writes, deletes, window
	}
}

// WithPerEndpointRateLimits counts each token's requests per route and
// method ("per API token, per endpoint", in VelaFlows' words) instead of per category.
// The limits of [WithRateLimits] then apply to each route separately.
func WithPerEndpointRateLimits() Option {
	return func(c *config) { c.perEndpoint = true }
}

// WithClock sets the clock used for timestamps (createdAt, webhook
// timestamp), ObjectIDs and rate-limit windows. The default is time.Now.
// Waits (slow answers, webhook retries and delays) always use real time.
// now must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithPageSize sets the page size of list endpoints called without limit.
// The default is 20, as documented; the maximum is 100.
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = n }
}

// WithValidationStatus sets the HTTP status of VALIDATION_ERROR answers:
// 422 (the default, as the API reference lists it) or 400 (as the
// rate-limits page files validation errors). The docs pages show both.
func WithValidationStatus(status int) Option {
	return func(c *config) { c.validationStatus = status }
}

// WithRetrySchedule sets the waits between the fast delivery attempts of a
// webhook event: after a failed first attempt the server waits delays[0],
// and so on, making len(delays)+1 fast attempts. The default is the
// documented 1s, 2s, 4s, 8s (5 attempts in about 15 seconds);
// tests compress it, for example to 1ms, 2ms, 4ms, 8ms. After the fast
// attempts the event is retried in the background until the redelivery
// window ([WithRedeliveryWindow]) ends.
func WithRetrySchedule(delays ...time.Duration) Option {
	return func(c *config) { c.retrySchedule = append([]time.Duration(nil), delays...) }
}

// WithRedeliveryWindow sets how long after its first attempt a failing
// webhook event keeps being retried with longer waits before it is marked
// permanently failed. The default is 24 hours, VelaFlows' documented retry
// window; 0 stops after
// the fast attempts of [WithRetrySchedule]. The waits of this slow phase
// start at twice the last fast delay and double up to a cap of window/24
// (one hour for 24 hours).
func WithRedeliveryWindow(d time.Duration) Option {
	return func(c *config) { c.redeliveryWindow = d }
}

// WithDeliveryTimeout sets how long a webhook attempt may take before it
// fails with [OutcomeTimeout]. The default is the documented 10 seconds.
func WithDeliveryTimeout(d time.Duration) Option {
	return func(c *config) { c.deliveryTimeout = d }
}

// WithDeliveryObserver makes the server call f once for every webhook
// delivery attempt, as soon as it has finished and before it is recorded
// in [Server.Deliveries] (so a Delivery that [Server.WaitDeliveries]
// returns has been reported), with the attempt's URL, event, attempt
// number, status or error, duration and [Outcome]; [Delivery.Explain]
// turns a failed one into a line for a person. It is how a program learns
// at once that deliveries fail (parley sim prints the line on its
// terminal).
//
// f runs on a goroutine of the server's, one call at a time, in the order
// the attempts finished. A slow f does not hold up delivery, but it holds
// up the reports and the recording of later attempts, so f should return
// quickly. f owns the Delivery it gets. An attempt cut short by
// [Server.Close] is recorded but not reported; the attempts that finished
// before are reported before Close returns, and no call is made after
// Close returns. f must not call Close on its own goroutine: Close waits
// for f to return, so it would never return. To stop the server from f,
// at the first failure say, call Close in a new goroutine (go s.Close()).
// The default is no observer.
func WithDeliveryObserver(f func(Delivery)) Option {
	return func(c *config) { c.observer = f }
}

// WithAutoDeactivate sets after how many consecutive permanently failed
// events a subscription is deactivated (VelaFlows documents that it
// deactivates, not the threshold). The default is 10; 0 never deactivates for failures. A
// 410 answer always deactivates at once.
func WithAutoDeactivate(n int) Option {
	return func(c *config) { c.autoDeactivate = n }
}

// WithReorderHold sets how long [Server.ReorderDeliveries] holds a lone
// event waiting for a partner before delivering it anyway. The default is
// 200ms.
func WithReorderHold(d time.Duration) Option {
	return func(c *config) { c.reorderHold = d }
}

// WithEventNaming selects the event-name spelling sent in deliveries. The
// default is [NamingAsSubscribed]; [NamingDocs] sends the docs' names such
// as "inbox.message.received" to every subscription.
func WithEventNaming(n EventNaming) Option {
	return func(c *config) { c.naming = n }
}

// WithPrefixedIDs makes webhook payloads use the prefixed IDs of the docs'
// webhook examples ("evt_…", "ws_…", "conv_…", "msg_…"; its REST examples use bare
// ObjectIDs)
// instead of bare 24-hex ObjectIDs. The REST API then also accepts a
// "conv_" prefix on conversation IDs in paths, so that a bot can pass the
// webhook's conversationId back unchanged.
func WithPrefixedIDs() Option {
	return func(c *config) { c.prefixedIDs = true }
}

// WithAllowHTTPWebhooks accepts plain-http subscription URLs on any host.
// By default a subscription URL must be https, except for loopback hosts
// (127.0.0.1, ::1, localhost), which may use http.
func WithAllowHTTPWebhooks() Option {
	return func(c *config) { c.allowHTTP = true }
}

// WithSubscription creates a webhook subscription when the server starts,
// as if a client had POSTed {url, events, secret}. secret "" sends
// deliveries unsigned. It can be given several times.
func WithSubscription(url, secret string, events ...string) Option {
	return func(c *config) {
		c.subscriptions = append(c.subscriptions, presetSubscription{url: url, secret: secret, events: append([]string(nil), events...)})
	}
}

// WithWaitTimeout sets the deadline of [Server.WaitSent],
// [Server.WaitDeliveries] and [Server.WaitEvents]. The default is 5
// seconds.
func WithWaitTimeout(d time.Duration) Option {
	return func(c *config) { c.waitTimeout = d }
}

// WithoutDemoData starts the workspace empty: no agents, customers,
// conversations, pipelines, leads, tags or workflows.
func WithoutDemoData() Option {
	return func(c *config) { c.demo = false }
}

// WithLogger makes the server log one record per API request and per
// webhook delivery attempt to l. Tokens, secrets, signatures and message
// text are never logged. The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
