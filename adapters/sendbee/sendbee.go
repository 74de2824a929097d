package sendbee

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/logs"
)

// Name is the platform's name: the name of the default instance's adapter
// and the Platform of its messages (see [AdapterConfig.Instance]).
const Name = "sendbee"

// Default limits of the bot adapter.
const (
	// DefaultMaxBodyBytes caps a webhook request body.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultPublishTimeout bounds how long a webhook request waits for a
	// full queue before it is answered 503.
	DefaultPublishTimeout = 5 * time.Second
	// DefaultRetryAfter is the Retry-After of a 503 answer.
	DefaultRetryAfter = 5 * time.Second
)

// AdapterConfig configures the bot adapter. The zero value of an optional
// field selects its default.
type AdapterConfig struct {
	// Config is the API client's configuration: APIKey and APISecret are
	// required (a bot reads them from SENDBEE_API_KEY and
	// SENDBEE_API_SECRET).
	Config
	// WebhookSecret verifies the X-Authorization token of webhook requests.
	// Default: APISecret, as Sendbee signs webhooks with the API secret.
	WebhookSecret string
	// SecretSource names the setting WebhookSecret comes from, such as
	// "SENDBEE_API_SECRET", in the warning logged when webhooks are signed
	// with another secret (stale credentials). Default:
	// "AdapterConfig.WebhookSecret", or "Config.APISecret" when
	// WebhookSecret is empty.
	SecretSource string
	// TokenWindow is how old a webhook token may be. Default: 15 minutes.
	TokenWindow time.Duration
	// MaxBodyBytes caps a webhook body; larger requests get 413.
	// Default: DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// PublishTimeout bounds the wait for a full queue; past it the request
	// is answered 503 with Retry-After so that Sendbee delivers it again.
	// Default: DefaultPublishTimeout.
	PublishTimeout time.Duration
	// RetryAfter is the Retry-After of 503 answers. Default: DefaultRetryAfter.
	RetryAfter time.Duration
	// RequestsPerMinute is the outbound limit the Bot paces sends to.
	// Default: DefaultRateLimit (60, per business number).
	RequestsPerMinute int
	// WindowFallback is the approved template sent in place of a
	// free-form message outside WhatsApp's 24-hour customer-service
	// window. Without it, such a message is not sent: it goes to the
	// Bot's dead letters with a *bot.WindowClosedError (see
	// bot.ServiceWindower).
	WindowFallback *WindowFallback
	// Instance names the adapter among the Sendbee adapters of one Bot,
	// one per business number (each with its own API key): the adapter's
	// Name, and the Platform of its messages, is "sendbee/" + Instance
	// (see bot.InstanceName), so that replies, deduplication and
	// ownership stay with the number. It must pass bot.CheckInstance.
	// Default: "", the default instance, named "sendbee".
	Instance string
}

// An Adapter connects a bot.Bot to Sendbee: it is the http.Handler for
// Sendbee's webhooks (mount it on your own server), it sends the bot's
// messages through the API, and it controls the platform chatbot of each
// conversation (bot.OwnerController).
//
// Replies keep Sendbee's chatbot semantics: an ordinary bot reply is sent
// with prevent_bot_off=true, so the platform's chatbot stays on and the
// conversation stays with the bot; a reply with Handoff is sent without the
// flag, so Sendbee switches its chatbot off and the conversation becomes
// human-owned; a MessageOptions or Template payload may set the flag
// explicitly. A send that leaves the flag off reports OwnerHuman, and the
// Bot follows.
//
// A reply goes to the phone of its conversation's contact. The adapter
// learns it from the first webhook of a conversation (while its cache of
// phones has room), or else looks the conversation up through the API. A webhook token is valid for any body
// for 15 minutes, so a webhook is no proof of the contact: one that names
// another phone for a known conversation never replaces it, and the
// conversation is looked up through the API before its next send. These
// lookups are paced with the sends when the Publisher given to Run is a
// bot.Pacer (the Bot is).
//
// An Adapter is safe for concurrent use. It serves webhooks only while its
// Run is running; before and after, it answers 503.
type Adapter struct {
	name   string // Name and Instance, as bot.InstanceName made it
	client *Client
	cfg    AdapterConfig
	logger *slog.Logger
	pub    atomic.Pointer[bot.Publisher]
	pacer  atomic.Pointer[bot.Pacer]
	// rejects limits the warnings about rejected webhooks.
	rejects logs.Every

	mu        sync.Mutex
	phones    map[string]contactPhone // by conversation ID
	maxPhones int                     // bound of phones; maxPhones unless a test sets it
}

// contactPhone is the phone a conversation's replies go to.
type contactPhone struct {
	phone string
	// verified is when the API gave the phone; zero when a webhook did.
	verified time.Time
	// disputed is set when a webhook named another phone since: the next
	// send looks the conversation up, unless the API gave the phone less
	// than phoneRecheck ago.
	disputed bool
}

// phoneRecheck is how long a phone the API gave outweighs webhooks that name
// another one: within it they change nothing, so that forged webhooks cannot
// make every send cost a lookup.
const phoneRecheck = time.Minute

// Interface guards.
var (
	_ bot.LoggerSetter    = (*Adapter)(nil)
	_ bot.Adapter         = (*Adapter)(nil)
	_ bot.OwnerController = (*Adapter)(nil)
	_ bot.Limiter         = (*Adapter)(nil)
	_ http.Handler        = (*Adapter)(nil)
)

// maxPhones bounds the conversation → phone cache. A full cache learns
// nothing more from webhooks (their conversations are looked up through
// the API at their first send), and a lookup makes room by forgetting the
// phones webhooks gave, or else one phone; webhooks never make it forget a
// phone, so that a flood of forged ones for made-up conversations cannot
// clear the way for one that names another phone for a known one.
const maxPhones = 100_000

// New returns an Adapter. It fails when a credential is missing, naming
// the variable a bot reads it from, and when Instance is not a valid name.
func New(cfg AdapterConfig) (*Adapter, error) {
	name, err := bot.InstanceName(Name, cfg.Instance)
	if err != nil {
		return nil, fmt.Errorf("sendbee: AdapterConfig.Instance: %w", err)
	}
	c, err := NewClient(cfg.Config)
	if err != nil {
		return nil, err
	}
	if err := cfg.WindowFallback.check(); err != nil {
		return nil, err
	}
	c.setAdapter(name)
	if cfg.SecretSource == "" {
		cfg.SecretSource = "AdapterConfig.WebhookSecret"
		if cfg.WebhookSecret == "" {
			cfg.SecretSource = "Config.APISecret"
		}
	}
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = cfg.APISecret
	}
	if cfg.TokenWindow <= 0 {
		cfg.TokenWindow = DefaultTokenWindow
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.RequestsPerMinute <= 0 {
		cfg.RequestsPerMinute = DefaultRateLimit
	}
	return &Adapter{
		name:      name,
		rejects:   logs.Every{Interval: rejectLogInterval},
		client:    c,
		cfg:       cfg,
		logger:    c.logs.Logger().With("adapter", name),
		phones:    make(map[string]contactPhone),
		maxPhones: maxPhones,
	}, nil
}

// SetDefaultLogger makes l the logger of the adapter and of its client,
// unless Config.Logger set one. bot.New calls it with the Bot's logger. It
// is safe to call at any time, also while webhooks are served.
func (a *Adapter) SetDefaultLogger(l *slog.Logger) { a.client.logs.Set(l) }

// Name returns "sendbee", or "sendbee/" + AdapterConfig.Instance for a
// named instance.
func (a *Adapter) Name() string { return a.name }

// Client returns the adapter's API client, for operations beyond sending.
func (a *Adapter) Client() *Client { return a.client }

// Limits declares Sendbee's rate limit: 60 requests per minute per business
// number (or AdapterConfig.RequestsPerMinute), one at a time.
func (a *Adapter) Limits() bot.Limits {
	return bot.Limits{Requests: a.cfg.RequestsPerMinute, Per: time.Minute, Burst: 1}
}

// Receiving reports whether Run is running, so that ServeHTTP hands
// webhooks to the Bot. Before Run and after it returns, ServeHTTP answers
// 503 with Retry-After, and the platform delivers again later.
func (a *Adapter) Receiving() bool { return a.pub.Load() != nil }

// Run makes the webhook handler publish to p until ctx is done, then
// returns nil. When p is a bot.Pacer, the adapter's own lookups are paced
// with it, also after Run returns (the Bot delivers its queued messages
// then), until the next Run.
func (a *Adapter) Run(ctx context.Context, p bot.Publisher) error {
	if a.pub.Load() != nil {
		return errors.New("sendbee: Run called while already running")
	}
	// The Pacer first, so that it is in place once webhooks are served.
	if pc, ok := p.(bot.Pacer); ok {
		a.pacer.Store(&pc)
	} else {
		a.pacer.Store(nil)
	}
	if !a.pub.CompareAndSwap(nil, &p) {
		return errors.New("sendbee: Run called while already running")
	}
	defer a.pub.Store(nil)
	a.logger.LogAttrs(ctx, slog.LevelInfo, "receiving webhooks")
	<-ctx.Done()
	return nil
}

// Send delivers m to its conversation's contact: free text, one media
// attachment (Attachments[0].URL, with Text as caption) or a Template
// payload. It does not retry; a 429 comes back as *bot.RateLimitError.
func (a *Adapter) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	phone, err := a.phone(ctx, m.Conversation)
	if err != nil {
		return bot.SendResult{}, err
	}
	out, err := fromMessage(m, phone)
	if err != nil {
		return bot.SendResult{}, err
	}
	var sent *SentMessage
	if out.template != nil {
		sent, _, err = a.client.SendTemplateMessage(ctx, *out.template)
	} else {
		sent, _, err = a.client.SendMessage(ctx, *out.text)
	}
	if err != nil {
		return bot.SendResult{}, a.windowError(m.Conversation, err)
	}
	res := bot.SendResult{ID: sent.MessageID}
	if !out.keepsBot {
		res.Owner = bot.OwnerHuman // without prevent_bot_off, Sendbee switched its chatbot off
	}
	return res, nil
}

// SetOwner switches the conversation's platform chatbot on (OwnerBot) or
// off (OwnerHuman) with PUT /automation/chatbot/activity.
func (a *Adapter) SetOwner(ctx context.Context, conversation string, o bot.Owner) error {
	if o != bot.OwnerBot && o != bot.OwnerHuman {
		return fmt.Errorf("sendbee: set owner: invalid owner %v", o)
	}
	_, _, err := a.client.SetChatbotActivity(ctx, conversation, o == bot.OwnerBot)
	return err
}

// Owner reads the conversation's platform chatbot state: OwnerBot while it
// is active, OwnerHuman otherwise.
func (a *Adapter) Owner(ctx context.Context, conversation string) (bot.Owner, error) {
	st, _, err := a.client.ChatbotStatus(ctx, conversation)
	if err != nil {
		return bot.OwnerUnset, err
	}
	if st.ChatbotActive {
		return bot.OwnerBot, nil
	}
	return bot.OwnerHuman, nil
}

// phone returns the contact phone of a conversation: the one known, else
// (or when a webhook disputed it) the one GET /conversation gives.
func (a *Adapter) phone(ctx context.Context, conversation string) (string, error) {
	if conversation == "" {
		return "", errors.New("sendbee: message has no conversation")
	}
	a.mu.Lock()
	p, ok := a.phones[conversation]
	a.mu.Unlock()
	if ok && (!p.disputed || time.Since(p.verified) < phoneRecheck) {
		return p.phone, nil
	}
	if err := a.pace(ctx); err != nil {
		return "", wrapf(err, "look up the conversation's contact")
	}
	conv, err := a.lookUp(ctx, conversation, "look up the conversation's contact")
	if err != nil {
		return "", err
	}
	if conv.Contact.Phone == "" {
		return "", fmt.Errorf("sendbee: conversation %s has no contact phone", conversation)
	}
	return conv.Contact.Phone, nil
}

// lookUp reads a conversation through the API (what says why, for the
// error) and learns its contact's phone, so that a send that follows
// needs no lookup of its own.
func (a *Adapter) lookUp(ctx context.Context, conversation, what string) (*Conversation, error) {
	conv, _, err := a.client.Conversation(ctx, conversation)
	if err != nil {
		return nil, wrapf(err, "%s", what)
	}
	if conv.Contact.Phone != "" {
		a.mu.Lock()
		a.storeLocked(conversation, contactPhone{phone: conv.Contact.Phone, verified: time.Now()})
		a.mu.Unlock()
	}
	return conv, nil
}

// learn records the contact phone a webhook names for a conversation. It
// never replaces a known phone: a different one marks the conversation
// disputed and learn reports the mismatch.
func (a *Adapter) learn(conversation, phone string) (mismatch bool) {
	if conversation == "" || phone == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.phones[conversation]
	switch {
	case !ok && len(a.phones) < a.maxPhones:
		a.phones[conversation] = contactPhone{phone: phone}
	case !ok:
		// Full: the first send looks the conversation up.
	case p.phone != phone:
		p.disputed = true
		a.phones[conversation] = p
		return true
	}
	return false
}

// storeLocked records p, a phone the API gave, for a conversation, making
// room if the cache is full (see maxPhones); a.mu must be held.
func (a *Adapter) storeLocked(conversation string, p contactPhone) {
	if _, ok := a.phones[conversation]; !ok && len(a.phones) >= a.maxPhones {
		maps.DeleteFunc(a.phones, func(_ string, p contactPhone) bool { return p.verified.IsZero() })
		for c := range a.phones {
			if len(a.phones) < a.maxPhones {
				break
			}
			delete(a.phones, c)
		}
	}
	a.phones[conversation] = p
}

// pace waits for the rate-limit budget the adapter shares with its sends,
// when Run was given a bot.Pacer.
func (a *Adapter) pace(ctx context.Context) error {
	if pc := a.pacer.Load(); pc != nil {
		return (*pc).Pace(ctx, a.Name())
	}
	return nil
}
