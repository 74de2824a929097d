package velaflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/logs"
	"github.com/parleybot/parley/internal/redact"
)

// Name is the platform's name: the name of the default instance's adapter
// and the Platform of its messages (see [AdapterConfig.Instance]).
const Name = "velaflows"

// Defaults of the bot adapter.
const (
	// DefaultMaxBodyBytes caps a delivery body.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultPublishTimeout bounds the wait for a full queue before a
	// delivery is answered 503.
	DefaultPublishTimeout = 5 * time.Second
	// DefaultRetryAfter is the Retry-After of a 503 answer.
	DefaultRetryAfter = 5 * time.Second
	// DefaultMaxEventAge is how old a delivery's timestamp may be: VelaFlows
	// redelivers for 24 hours, and an older event is a replay.
	DefaultMaxEventAge = 25 * time.Hour
	// DefaultMaxClockSkew is how far ahead of the adapter's clock a
	// delivery's timestamp may be: clocks kept by NTP agree far better.
	DefaultMaxClockSkew = 5 * time.Minute
	// WebhookPath is where the default instance's adapter expects to be
	// mounted, relative to the bot's public URL; a named instance's path
	// is WebhookPath + "/" + its name (see [Adapter.WebhookPath]).
	WebhookPath = "/webhooks/velaflows"
)

// EnvWebhookSecret names the variable a bot reads the webhook signing secret
// from.
const EnvWebhookSecret = "VELAFLOWS_WEBHOOK_SECRET"

// AdapterConfig configures the bot adapter. The zero value of an optional
// field selects its default.
type AdapterConfig struct {
	// Config is the API client's configuration: Token and WorkspaceID are
	// required (read from VELAFLOWS_API_TOKEN and VELAFLOWS_WORKSPACE_ID
	// when empty).
	Config
	// WebhookSecret verifies the X-Webhook-Signature of deliveries: the
	// secret of the webhook subscription, "whsec_" prefix included. It may
	// be left empty when EnsureWebhook registers the subscription, which
	// then generates one.
	WebhookSecret string
	// SecretSource names the setting WebhookSecret comes from, such as
	// "VELAFLOWS_WEBHOOK_SECRET", in the warning logged when deliveries are
	// signed with another secret (a stale secret, or a subscription
	// registered again elsewhere). Default: "AdapterConfig.WebhookSecret",
	// or "the secret EnsureWebhook registered" when WebhookSecret is empty.
	SecretSource string
	// MaxBodyBytes caps a delivery body; larger ones get 413.
	// Default: DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// PublishTimeout bounds the wait for a full queue; past it the delivery
	// is answered 503 with Retry-After and VelaFlows delivers it again.
	// Default: DefaultPublishTimeout.
	PublishTimeout time.Duration
	// RetryAfter is the Retry-After of 503 answers. Default: DefaultRetryAfter.
	RetryAfter time.Duration
	// MaxEventAge drops (with 200) deliveries whose timestamp is older:
	// the signature covers only the body, so this bounds replays. A
	// delivery without a timestamp, or dated more than MaxClockSkew ahead,
	// is refused (see [Adapter.ServeHTTP]).
	// Default: DefaultMaxEventAge; negative disables the check.
	MaxEventAge time.Duration
	// MaxClockSkew is how far ahead of the adapter's clock a delivery's
	// timestamp may be. Default: DefaultMaxClockSkew.
	MaxClockSkew time.Duration
	// WritesPer15Min is the write budget the Bot paces replies to.
	// Default: WriteRateLimit (100 per token per 15 minutes).
	WritesPer15Min int
	// Instance names the adapter among the VelaFlows adapters of one Bot,
	// one per workspace: the adapter's Name, and the Platform of its
	// messages, is "velaflows/" + Instance (see bot.InstanceName), so that
	// replies, deduplication and ownership stay with the workspace, and
	// its webhook path is WebhookPath + "/" + Instance. It must pass
	// bot.CheckInstance. A named instance needs Token and WorkspaceID set:
	// it never reads the default instance's VELAFLOWS_API_TOKEN and
	// VELAFLOWS_WORKSPACE_ID. Default: "", the default instance, named
	// "velaflows".
	Instance string
}

// An Adapter connects a bot.Bot to VelaFlows: it is the http.Handler for
// VelaFlows webhook deliveries (mount it on your own server at WebhookPath),
// and it sends the bot's replies into conversations through the API.
//
// Customer messages become KindMessage; an assignment to an agent becomes a
// KindAssignment that makes the conversation human-owned; unassignment and
// closing give it back to the bot. VelaFlows has no switch of its own for
// its automation, so Bot.Handoff and Bot.Resume are local to the Bot.
//
// An Adapter is safe for concurrent use. It serves deliveries only while
// its Run is running; before and after, it answers 503.
type Adapter struct {
	name   string // Name and Instance, as bot.InstanceName made it
	client *Client
	cfg    AdapterConfig
	logger *slog.Logger
	pub    atomic.Pointer[bot.Publisher]
	secret atomic.Pointer[string]
	mu     sync.Mutex // serializes EnsureWebhook
	now    func() time.Time
	// rejects limits the warnings about rejected deliveries.
	rejects logs.Every
}

// Interface guards.
var (
	_ bot.LoggerSetter = (*Adapter)(nil)
	_ bot.Adapter      = (*Adapter)(nil)
	_ bot.Limiter      = (*Adapter)(nil)
	_ http.Handler     = (*Adapter)(nil)
)

// New returns an Adapter. It fails when a credential is missing, naming the
// variable a bot reads it from, and when Instance is not a valid name.
func New(cfg AdapterConfig) (*Adapter, error) {
	name, err := bot.InstanceName(Name, cfg.Instance)
	if err != nil {
		return nil, fmt.Errorf("velaflows: AdapterConfig.Instance: %w", err)
	}
	if cfg.Instance != "" && (strings.TrimSpace(cfg.Token) == "" || strings.TrimSpace(cfg.WorkspaceID) == "") {
		return nil, fmt.Errorf("velaflows: instance %q: Config.Token and Config.WorkspaceID are required "+
			"(a named instance does not read %s and %s)", cfg.Instance, EnvToken, EnvWorkspaceID)
	}
	c, err := NewClient(cfg.Config)
	if err != nil {
		return nil, err
	}
	c.setAdapter(name)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.MaxEventAge == 0 {
		cfg.MaxEventAge = DefaultMaxEventAge
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	if cfg.WritesPer15Min <= 0 {
		cfg.WritesPer15Min = WriteRateLimit
	}
	if cfg.SecretSource == "" {
		cfg.SecretSource = "AdapterConfig.WebhookSecret"
		if cfg.WebhookSecret == "" {
			cfg.SecretSource = "the secret EnsureWebhook registered"
		}
	}
	a := &Adapter{name: name, client: c, cfg: cfg, logger: c.logs.Logger().With("adapter", name), now: time.Now,
		rejects: logs.Every{Interval: rejectLogInterval}}
	secret := cfg.WebhookSecret
	a.secret.Store(&secret)
	return a, nil
}

// SetDefaultLogger makes l the logger of the adapter and of its client,
// unless Config.Logger set one. bot.New calls it with the Bot's logger. It
// is safe to call at any time, also while webhooks are served.
func (a *Adapter) SetDefaultLogger(l *slog.Logger) { a.client.logs.Set(l) }

// Name returns "velaflows", or "velaflows/" + AdapterConfig.Instance for a
// named instance.
func (a *Adapter) Name() string { return a.name }

// WebhookPath returns where the adapter expects to be mounted, relative to
// the bot's public URL, and where EnsureWebhook has VelaFlows deliver:
// the package's WebhookPath ("/webhooks/velaflows") for the default
// instance, WebhookPath + "/" + the instance for a named one
// ("/webhooks/velaflows/acme"), so that each workspace's subscription
// reaches its own adapter.
func (a *Adapter) WebhookPath() string {
	if _, instance := bot.SplitPlatform(a.name); instance != "" {
		return WebhookPath + "/" + instance
	}
	return WebhookPath
}

// Client returns the adapter's API client.
func (a *Adapter) Client() *Client { return a.client }

// WebhookSecret returns the secret deliveries are verified with: the
// configured one, or the one EnsureWebhook generated. Keep it (as
// VELAFLOWS_WEBHOOK_SECRET) so that a restarted bot verifies the deliveries
// of the subscription it registered.
func (a *Adapter) WebhookSecret() string { return *a.secret.Load() }

// Limits declares VelaFlows' write budget (100 per token per 15 minutes; a
// reply is a write) and its 24-hour redelivery window. VelaFlows counts in
// fixed windows, so a token bucket stays inside any window only if its
// burst plus its rate over the window is at most the budget: the adapter
// keeps a twentieth of the budget as a burst (5 of 100, so that a short
// exchange is not paced) and refills the rest over the window (95 of 100),
// which uses 95% of the budget in the long run and never exceeds it.
func (a *Adapter) Limits() bot.Limits {
	burst := max(1, a.cfg.WritesPer15Min/20)
	return bot.Limits{Requests: max(1, a.cfg.WritesPer15Min-burst), Per: RateLimitWindow, Burst: burst, RedeliveryWindow: 24 * time.Hour}
}

// Receiving reports whether Run is running, so that ServeHTTP hands
// webhooks to the Bot. Before Run and after it returns, ServeHTTP answers
// 503 with Retry-After, and the platform delivers again later.
func (a *Adapter) Receiving() bool { return a.pub.Load() != nil }

// Run makes the webhook handler publish to p until ctx is done, then
// returns nil.
func (a *Adapter) Run(ctx context.Context, p bot.Publisher) error {
	if a.WebhookSecret() == "" {
		return fmt.Errorf("velaflows: no webhook secret: set %s, or call EnsureWebhook before Run", EnvWebhookSecret)
	}
	if !a.pub.CompareAndSwap(nil, &p) {
		return errors.New("velaflows: Run called while already running")
	}
	defer a.pub.Store(nil)
	a.logger.LogAttrs(ctx, slog.LevelInfo, "receiving webhook deliveries")
	<-ctx.Done()
	return nil
}

// Send posts m's text into its conversation
// (POST /inbox/conversations/{id}/messages, {"content", "type": "text"}).
// It does not retry; a 429 comes back as *bot.RateLimitError.
func (a *Adapter) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	req, err := sendRequest(m)
	if err != nil {
		return bot.SendResult{}, err
	}
	msg, _, err := a.client.SendMessage(ctx, m.Conversation, req)
	if err != nil {
		return bot.SendResult{}, err
	}
	return bot.SendResult{ID: msg.ID}, nil
}

// webhookEvents are the events the adapter subscribes to, in the spelling
// of VelaFlows' Python examples (conversation.*, not inbox.*).
var webhookEvents = []string{
	EventConversationMessageReceived, EventConversationCreated, EventConversationAssigned,
	EventConversationUnassigned, EventConversationClosed, EventConversationReopened,
}

// EnsureWebhook makes sure VelaFlows delivers the bot's events to
// publicURL + a.WebhookPath(), signed with the adapter's secret, and returns
// the subscription. Without a configured secret it generates one (read it
// back with WebhookSecret). An existing subscription for the same URL is
// reused rather than duplicated: it is updated to the adapter's events, to
// active, and — when the secret was generated here — to the new secret.
func (a *Adapter) EnsureWebhook(ctx context.Context, publicURL string) (*WebhookSubscription, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !strings.HasPrefix(publicURL, "http://") && !strings.HasPrefix(publicURL, "https://") {
		return nil, fmt.Errorf("velaflows: public URL %q: want http(s)://host[:port][/path]", redact.URL(publicURL))
	}
	target := strings.TrimSuffix(publicURL, "/") + a.WebhookPath()
	secret, generated := a.WebhookSecret(), false
	if secret == "" {
		s, err := NewWebhookSecret()
		if err != nil {
			return nil, err
		}
		secret, generated = s, true
	}
	var existing *WebhookSubscription
	for sub, err := range a.client.AllWebhookSubscriptions(ctx, ListOptions{}) {
		if err != nil {
			return nil, wrapf(err, "list webhook subscriptions")
		}
		if sub.URL == target {
			existing = &sub
			break
		}
	}
	var (
		sub *WebhookSubscription
		err error
	)
	if existing == nil {
		sub, _, err = a.client.CreateWebhookSubscription(ctx, target, webhookEvents, secret)
	} else {
		upd := WebhookSubscriptionUpdate{Events: webhookEvents, Active: Bool(true)}
		if generated {
			upd.Secret = secret
		}
		sub, _, err = a.client.UpdateWebhookSubscription(ctx, existing.ID, upd)
	}
	if err != nil {
		return nil, wrapf(err, "register webhook %s", redact.URL(target))
	}
	a.secret.Store(&secret)
	a.logger.LogAttrs(ctx, slog.LevelInfo, "webhook subscription ready",
		slog.String("url", redact.URL(target)), slog.String("subscription", sub.ID), slog.Bool("reused", existing != nil))
	return sub, nil
}
