package sendbeetest

import (
	"fmt"
	"log"
	"net/url"
	"strings"
	"time"
)

// An Option configures a [Server]. Options are applied in order by
// [NewServer] and [Start]; a later option overrides an earlier one.
type Option func(*config)

// config is the immutable configuration of a Server, set up before it starts.
type config struct {
	prefix    string
	prefixSet bool

	apiKey, apiSecret string
	businessID        string

	webhookURL       string
	webhookSecret    string
	webhookSecretSet bool
	webhookEvents    []string

	rateN   int
	ratePer time.Duration

	chatbotDefault bool
	serviceWindow  bool
	pageSize       int
	clock          func() time.Time
	tokenWindow    time.Duration
	tokenSkew      time.Duration
	logger         *log.Logger

	attempts        int
	interval        time.Duration
	deliveryTimeout time.Duration
	observer        func(Delivery)
	retryAfterCap   time.Duration
	reorderHold     time.Duration

	demo        bool
	waitTimeout time.Duration
}

func defaultConfig(prefix string) config {
	return config{
		prefix:          prefix,
		rateN:           60,
		ratePer:         time.Minute,
		chatbotDefault:  true,
		serviceWindow:   true,
		pageSize:        10,
		clock:           time.Now,
		tokenWindow:     15 * time.Minute,
		tokenSkew:       time.Minute,
		attempts:        3,
		interval:        50 * time.Millisecond,
		deliveryTimeout: 10 * time.Second,
		retryAfterCap:   5 * time.Second,
		reorderHold:     200 * time.Millisecond,
		demo:            true,
		waitTimeout:     5 * time.Second,
	}
}

// validate checks the configuration and fills in the defaults that need
// randomness.
func (c *config) validate() error {
	p, err := cleanPrefix(c.prefix)
	if err != nil {
		return err
	}
	c.prefix = p
	if c.apiKey == "" {
		c.apiKey = "sbk_" + randomHex(16)
	}
	if c.apiSecret == "" {
		c.apiSecret = "sbs_" + randomHex(24)
	}
	if !c.webhookSecretSet {
		c.webhookSecret = c.apiSecret
	}
	if c.businessID == "" {
		c.businessID = newUUID()
	}
	if c.webhookURL != "" {
		if err := checkWebhookURL(c.webhookURL); err != nil {
			return err
		}
	}
	switch {
	case c.rateN < 0:
		return fmt.Errorf("sendbeetest: negative rate limit %d", c.rateN)
	case c.rateN > 0 && c.ratePer <= 0:
		return fmt.Errorf("sendbeetest: rate limit period must be positive, got %v", c.ratePer)
	case c.pageSize < 1 || c.pageSize > maxLimit:
		return fmt.Errorf("sendbeetest: page size %d out of range 1..%d", c.pageSize, maxLimit)
	case c.clock == nil:
		return fmt.Errorf("sendbeetest: nil clock")
	case c.tokenWindow <= 0:
		return fmt.Errorf("sendbeetest: token window must be positive, got %v", c.tokenWindow)
	case c.attempts < 1:
		return fmt.Errorf("sendbeetest: redelivery attempts must be at least 1, got %d", c.attempts)
	case c.deliveryTimeout <= 0:
		return fmt.Errorf("sendbeetest: delivery timeout must be positive, got %v", c.deliveryTimeout)
	case c.interval < 0 || c.retryAfterCap < 0:
		return fmt.Errorf("sendbeetest: negative redelivery interval or Retry-After cap")
	case c.waitTimeout <= 0:
		return fmt.Errorf("sendbeetest: wait timeout must be positive, got %v", c.waitTimeout)
	}
	return nil
}

// cleanPrefix adds a missing leading slash to the API path prefix p and
// removes trailing ones. A prefix under "/_sim" is refused.
func cleanPrefix(p string) (string, error) {
	c := strings.TrimRight(p, "/")
	if c != "" && !strings.HasPrefix(c, "/") {
		c = "/" + c
	}
	if strings.HasPrefix(c, "/_sim") {
		return "", fmt.Errorf("sendbeetest: prefix %q collides with the /_sim/ control endpoints", p)
	}
	return c, nil
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("sendbeetest: webhook URL %q is not an absolute http(s) URL", raw)
	}
	return nil
}

// WithPrefix serves the API under the path prefix p, so that the API base
// URL is the server root plus p (for example "/api"). [NewServer] defaults to
// "/api", which makes a client that builds absolute paths fail loudly;
// [Start] defaults to "" (the API at the root, as on api-v2.sendbee.io). A
// missing leading slash is added and trailing slashes are removed. The
// control endpoints stay at "/_sim/" on the root whatever the prefix.
func WithPrefix(p string) Option {
	return func(c *config) { c.prefix, c.prefixSet = p, true }
}

// WithCredentials sets the API key and API secret that the server accepts
// in X-Api-Key and checks X-Auth-Token against. An empty value keeps the
// default, which is random per server (read it with [Server.APIKey] and
// [Server.APISecret]).
func WithCredentials(apiKey, apiSecret string) Option {
	return func(c *config) {
		if apiKey != "" {
			c.apiKey = apiKey
		}
		if apiSecret != "" {
			c.apiSecret = apiSecret
		}
	}
}

// WithBusinessID sets the business ID reported as "business_id" in webhook
// payloads. The default is a random UUID.
func WithBusinessID(id string) Option {
	return func(c *config) { c.businessID = id }
}

// WithWebhook sets the URL that receives signed webhook events. The default
// "" delivers nothing (events are still recorded, see [Server.Events]).
// [Server.SetWebhook] changes it later.
func WithWebhook(url string) Option {
	return func(c *config) { c.webhookURL = url }
}

// WithWebhookSecret sets the secret that signs X-Authorization on webhook
// requests. The default is the API secret, as the Sendbee READMEs describe.
func WithWebhookSecret(secret string) Option {
	return func(c *config) { c.webhookSecret, c.webhookSecretSet = secret, true }
}

// WithWebhookEvents limits delivery to the given event types (such as
// [EventMessageReceived]), like linking webhook types to a URL in the
// Sendbee dashboard. The default is every type.
func WithWebhookEvents(types ...string) Option {
	return func(c *config) { c.webhookEvents = append([]string(nil), types...) }
}

// WithDocumentedEventsOnly limits delivery to [EventMessageReceived], the
// one event type whose name Sendbee's public material gives, as a business
// that links only "message received" webhooks to its URL would. The other
// three types are this emulator's inventions, so a receiver must work
// without them: with this option an agent's reply and the dashboard's
// chatbot switch are delivered to nobody, and a receiver learns of them
// only from chatbot_active in the next message.received and from the API.
// It replaces what [WithWebhookEvents] set, and a later WithWebhookEvents
// replaces it.
func WithDocumentedEventsOnly() Option {
	return func(c *config) { c.webhookEvents = []string{EventMessageReceived} }
}

// WithRateLimit sets the API rate limit to n requests per period, counted for
// the whole business (every API key) in a fixed window that starts with the
// first counted request. The default is 60 per minute, Sendbee's
// documented limit. n = 0
// disables limiting and the X-RateLimit-* headers.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *config) { c.rateN, c.ratePer = n, per }
}

// WithChatbotDefault sets chatbot_active of conversations created while the
// server runs (first inbound message, first send, new subscriber). The
// default is true: the business has a chatbot configured. The seeded demo
// conversations keep their documented values.
func WithChatbotDefault(active bool) Option {
	return func(c *config) { c.chatbotDefault = active }
}

// WithoutServiceWindow makes the server accept free-form sends at any
// time, as if every customer had just written: for a test of something
// else that sends before any customer message. By default the server
// enforces WhatsApp's 24-hour customer-service window: POST
// /conversations/messages/send is refused with 400 {"error":{"detail":
// "outside the 24-hour customer service window: …","type":
// "re_engagement_required"}} unless the customer's last message in the
// conversation ([Server.CustomerMessage], POST /_sim/customer) is less
// than 24 hours old by the business time ([Server.Now],
// [Server.Advance]). A recipient that never wrote, or has no contact yet,
// has no open window; the refused send changes nothing. Template sends
// are allowed at any time.
func WithoutServiceWindow() Option {
	return func(c *config) { c.serviceWindow = false }
}

// WithPageSize sets the page size used when a list request has no limit
// parameter. The default is 10; the maximum is 100.
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = n }
}

// WithClock sets the clock used for token checks, rate-limit windows, record
// timestamps, created_at values and the tokens that sign webhooks, and
// under the business time ([Server.Advance] moves only the latter). The
// default is time.Now. Waits (delays, redelivery back-off) always use real
// time. A receiver that checks webhook tokens against its own clock must
// use a compatible clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithTokenWindow sets how old an X-Auth-Token timestamp may be. The
// default is 15 minutes, the tolerance of Sendbee's SDKs. Timestamps more
// than one minute in the
// future are always rejected.
func WithTokenWindow(d time.Duration) Option {
	return func(c *config) { c.tokenWindow = d }
}

// WithLogger makes the server log one line per API request and per webhook
// delivery attempt to l. Secrets, tokens and message text are never logged.
// The default logs nothing.
func WithLogger(l *log.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithRedelivery sets how webhook deliveries are retried: at most attempts
// tries per event copy (default 3), waiting interval after the first failure
// and doubling it after each further one (default 50ms). A failure is a
// non-2xx status or a connection error.
func WithRedelivery(attempts int, interval time.Duration) Option {
	return func(c *config) { c.attempts, c.interval = attempts, interval }
}

// WithDeliveryTimeout sets how long a webhook attempt may take, from
// sending the request to the end of the answer, before it fails with
// [OutcomeTimeout]. The default is 10 seconds (Sendbee documents none).
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

// WithRetryAfterCap caps the wait the server honours when a webhook receiver
// answers 503 or 429 with Retry-After. The default is 5 seconds.
func WithRetryAfterCap(d time.Duration) Option {
	return func(c *config) { c.retryAfterCap = d }
}

// WithReorderHold sets how long [Server.ReorderDeliveries] holds a lone event
// waiting for a partner before delivering it anyway. The default is 200ms.
func WithReorderHold(d time.Duration) Option {
	return func(c *config) { c.reorderHold = d }
}

// WithWaitTimeout sets the deadline of [Server.WaitSent] and
// [Server.WaitDeliveries]. The default is 5 seconds.
func WithWaitTimeout(d time.Duration) Option {
	return func(c *config) { c.waitTimeout = d }
}

// WithoutDemoData starts the server with an empty business: no contacts,
// tags, contact fields, conversations, templates, teams or members.
func WithoutDemoData() Option {
	return func(c *config) { c.demo = false }
}
