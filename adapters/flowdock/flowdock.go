package flowdock

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/parleybot/parley/bot"
)

// The payload types can be stored by a bot.Broker.
func init() {
	bot.RegisterPayload[Activity]("flowdock.Activity")
	bot.RegisterPayload[Discussion]("flowdock.Discussion")
}

// Name is the platform's name: the name of the default instance's adapter
// and the Platform of its messages (see [AdapterConfig.Instance]).
const Name = "flowdock"

// Environment variables the example bots read, beside the client's
// EnvToken, EnvFlowToken and EnvBaseURL.
const (
	EnvStreamURL = "FLOWDOCK_STREAM_URL" // streaming API root
	EnvFlows     = "FLOWDOCK_FLOWS"      // comma-separated "org/flow" names
)

// DefaultStreamURL is the root of Flowdock's streaming API.
const DefaultStreamURL = "https://stream.flowdock.com"

// AdapterConfig configures the bot adapter. The zero value of an optional
// field selects its default.
type AdapterConfig struct {
	// Config is the API client's configuration. Token (the bot user's
	// personal API token, FLOWDOCK_API_TOKEN) is required: the stream and
	// the replies are the bot user's. FlowToken is optional and enables
	// Activity and Discussion payloads.
	Config
	// Stream tunes the streaming connection; Stream.URL defaults to
	// DefaultStreamURL (FLOWDOCK_STREAM_URL in the example bots).
	Stream StreamConfig
	// Flows limits the bot to these flows, named "org/flow"
	// (FLOWDOCK_FLOWS in the example bots, comma-separated). Default: every
	// flow the bot has joined.
	Flows []string
	// AllowAnonymous accepts messages from user "0" (anonymous posts and
	// integrations), which anyone with a flow token can send. Default:
	// they are dropped.
	AllowAnonymous bool
	// Instance names the adapter among the Flowdock adapters of one Bot,
	// one per bot user (each with its own token): the adapter's Name, and
	// the Platform of its messages and events, is "flowdock/" + Instance
	// (see bot.InstanceName). It must pass bot.CheckInstance. Default: "",
	// the default instance, named "flowdock".
	Instance string
}

// An Adapter connects a bot.Bot to Flowdock. It receives through the
// streaming API (Server-Sent Events) under a supervisor that reconnects
// with backoff, resumes with Last-Event-ID, fills any gap through the REST
// API (since_id per flow) so that each flow's messages arrive once and in
// order, drops its own echoes, and follows the bot being added to or
// removed from flows. It replies through the REST API, in the message's
// thread, with a uuid derived from the outbound key, so that a send whose
// answer was lost can be looked up instead of sent twice.
//
// A corrupt or hostile event cannot stop the stream or silence a flow;
// [Adapter.Health] counts what the stream drops, and why. An event id
// that cannot be sent back as a header (a control character or NUL, more
// than 1 KiB) is not kept: the stream resumes from the last good one. A
// reconnect the server refuses as malformed (400, 413, 414, 431) is
// retried without Last-Event-ID, and the backfill fills the gap.
//
// Flowdock numbers the events of each flow and private chat 1, 2, 3, …,
// and the adapter orders and deduplicates by that id, per conversation.
// The newest id taken as a conversation's position moves by steps of at
// most 8192 ids: an id further ahead is published but not taken as the
// position, and a replay of it is dropped (Health.IDOutliers). An id
// behind the position that was not seen, within 8192 of it, is published
// when it arrives, from the stream or from the backfill (which starts
// below the lowest such id), so an id that jumped a little ahead hides
// nothing; one already seen, or older, is a duplicate, and an id of zero or less is
// invalid (both counted in Health.Discarded). A private chat seen for the
// first time starts at its first id unless that id is beyond the newest
// message the REST API lists for it. A flow's real ids can jump further
// (more than 8192 deleted messages or edits while the bot was away): when
// the REST API lists two ids close together beyond the position, the
// position moves there. An event that repeats a message's id takes that
// message's place.
//
// Conversation is the flow id for flow messages and "private:<user id>"
// for private chats; message IDs are "<conversation>/<message id>". A
// message mentioning the bot (the ":user:<id>" tag) or sent privately is
// Direct.
//
// An Adapter is safe for concurrent use; Run is called once at a time.
type Adapter struct {
	name    string // Name and Instance, as bot.InstanceName made it
	client  *Client
	run     *Client // client without keep-alive, for Run's own REST calls
	cfg     AdapterConfig
	logger  *slog.Logger
	running atomic.Pointer[stream]

	mu    sync.Mutex
	chats map[string]Chat // flow id → its names, for REST paths
	self  string

	uuids uuidSet
}

// Interface guards.
var (
	_ bot.LoggerSetter = (*Adapter)(nil)
	_ bot.Adapter      = (*Adapter)(nil)
	_ bot.Editor       = (*Adapter)(nil)
	_ bot.Deleter      = (*Adapter)(nil)
	_ bot.Tagger       = (*Adapter)(nil)
)

// New returns an Adapter; it fails without the personal API token, and
// when Instance is not a valid name.
func New(cfg AdapterConfig) (*Adapter, error) {
	name, err := bot.InstanceName(Name, cfg.Instance)
	if err != nil {
		return nil, fmt.Errorf("flowdock: AdapterConfig.Instance: %w", err)
	}
	if cfg.Token == "" {
		return nil, errors.New("flowdock: missing the bot's personal API token: set FLOWDOCK_API_TOKEN (or Config.Token)")
	}
	c, err := NewClient(cfg.Config)
	if err != nil {
		return nil, err
	}
	c.setAdapter(name)
	cfg.Stream.setDefaults()
	return &Adapter{name: name, client: c, run: c.withoutKeepAlive(), cfg: cfg, logger: c.logs.Logger().With("adapter", name),
		chats: map[string]Chat{}, uuids: newUUIDSet(10000)}, nil
}

// SetDefaultLogger makes l the logger of the adapter and of its client,
// unless Config.Logger set one. bot.New calls it with the Bot's logger. It
// is safe to call at any time, also while webhooks are served.
func (a *Adapter) SetDefaultLogger(l *slog.Logger) { a.client.logs.Set(l) }

// Name returns "flowdock", or "flowdock/" + AdapterConfig.Instance for a
// named instance.
func (a *Adapter) Name() string { return a.name }

// Client returns the adapter's API client.
func (a *Adapter) Client() *Client { return a.client }

// Health reports the stream's state (zero before Run).
func (a *Adapter) Health() Health {
	if s := a.running.Load(); s != nil {
		return s.health()
	}
	return Health{}
}

// Run receives from the streaming API and publishes to p until ctx is done
// (then it returns nil), or until Flowdock refuses the credentials (then it
// returns a *StreamError).
func (a *Adapter) Run(ctx context.Context, p bot.Publisher) error {
	self, err := a.whoami(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s := &stream{
		cfg:     a.cfg.Stream,
		api:     a,
		auth:    "Basic " + base64.StdEncoding.EncodeToString([]byte(a.cfg.Token+":")),
		logger:  a.logger,
		ec:      eventContext{platform: a.name, self: self, allowAnonymous: a.cfg.AllowAnonymous},
		pub:     p,
		ownUUID: a.uuids.has,
	}
	if !a.running.CompareAndSwap(nil, s) {
		return errors.New("flowdock: Run called while already running")
	}
	defer a.running.Store(nil)
	// REST connections opened by this Run (identity, flows, backfills) are
	// closed with it, so that no connection goroutine outlives Run.
	defer a.client.CloseIdleConnections()
	err = s.run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// whoami returns the bot's user id (GET /user).
func (a *Adapter) whoami(ctx context.Context) (string, error) {
	u, _, err := a.run.CurrentUser(ctx)
	if err != nil {
		return "", wrapf(err, "who am I")
	}
	id := strconv.FormatInt(u.ID, 10)
	a.mu.Lock()
	a.self = id
	a.mu.Unlock()
	return id, nil
}

// joinedFlows lists the flows the bot has joined and keeps their names.
func (a *Adapter) joinedFlows(ctx context.Context) ([]string, map[string]string, error) {
	flows, _, err := a.run.Flows(ctx, FlowsOptions{Users: true})
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	nicks := map[string]string{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range flows {
		f := &flows[i]
		if !f.Joined || !f.Open {
			continue
		}
		if len(a.cfg.Flows) > 0 && !slices.Contains(a.cfg.Flows, f.Chat().String()) {
			continue
		}
		ids = append(ids, f.ID)
		a.chats[f.ID] = f.Chat()
		for _, u := range f.Users {
			nicks[strconv.FormatInt(u.ID, 10)] = u.Nick
		}
	}
	return ids, nicks, nil
}

// chat returns where a conversation's messages live.
func (a *Adapter) chat(ctx context.Context, conversation string) (Chat, error) {
	if uid, ok := strings.CutPrefix(conversation, privatePrefix); ok {
		n, err := strconv.ParseInt(uid, 10, 64)
		if err != nil {
			return Chat{}, fmt.Errorf("flowdock: conversation %q: bad user id", conversation)
		}
		return PrivateChat(n), nil
	}
	a.mu.Lock()
	c, ok := a.chats[conversation]
	a.mu.Unlock()
	if ok {
		return c, nil
	}
	f, _, err := a.client.FindFlow(ctx, conversation)
	if err != nil {
		return Chat{}, wrapf(err, "find flow %s", conversation)
	}
	c = f.Chat()
	a.mu.Lock()
	a.chats[conversation] = c
	a.mu.Unlock()
	return c, nil
}

// latestID returns the id of the newest message of a flow or private chat.
func (a *Adapter) latestID(ctx context.Context, conversation string) (int64, error) {
	c, err := a.chat(ctx, conversation)
	if err != nil {
		return 0, err
	}
	msgs, _, err := a.run.ListMessages(ctx, c, ListOptions{Limit: 1})
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	return msgs[len(msgs)-1].ID, nil
}

// since returns the messages of a conversation after afterID, oldest first.
func (a *Adapter) since(ctx context.Context, conversation string, afterID int64, limit int) ([]json.RawMessage, error) {
	c, err := a.chat(ctx, conversation)
	if err != nil {
		return nil, err
	}
	msgs, _, err := a.run.ListMessages(ctx, c, ListOptions{SinceID: afterID, Sort: SortAsc, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(msgs))
	for i := range msgs {
		raw, err := json.Marshal(&msgs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, nil
}

// Send posts m to its flow (in m.Thread when set) or private chat. An
// Activity or Discussion payload is posted with the flow token instead.
// The send carries a uuid derived from m.Key, the same for every attempt
// of one message: when an answer is lost, the Bot's outbox asks
// [Adapter.Delivered], which looks the uuid up, and a send that Flowdock
// refuses because the uuid is taken reports the earlier attempt's success.
func (a *Adapter) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	c, err := a.chat(ctx, m.Conversation)
	if err != nil {
		return bot.SendResult{}, err
	}
	switch p := m.Payload.(type) {
	case nil:
	case Activity:
		return a.postIntegration(ctx, c, func() (*Message, *Response, error) { return a.client.PostActivity(ctx, p) })
	case *Activity:
		return a.postIntegration(ctx, c, func() (*Message, *Response, error) { return a.client.PostActivity(ctx, *p) })
	case Discussion:
		return a.postIntegration(ctx, c, func() (*Message, *Response, error) { return a.client.PostDiscussion(ctx, p) })
	case *Discussion:
		return a.postIntegration(ctx, c, func() (*Message, *Response, error) { return a.client.PostDiscussion(ctx, *p) })
	default:
		return bot.SendResult{}, fmt.Errorf("flowdock: payload %T: %w", m.Payload, errors.ErrUnsupported)
	}
	if len(m.Attachments) > 0 {
		return bot.SendResult{}, fmt.Errorf("flowdock: attachments on send: %w (use Client.UploadFile)", errors.ErrUnsupported)
	}
	nm := NewMessage{Content: m.Text, Tags: m.Tags, UUID: uuidFor(m.Key)}
	if !c.IsPrivate() {
		nm.ThreadID = m.Thread
	}
	a.uuids.add(nm.UUID) // before sending: the echo can outrun the answer
	sent, _, err := a.client.SendMessage(ctx, c, nm)
	if err == nil {
		return bot.SendResult{ID: messageKey(m.Conversation, json.Number(strconv.FormatInt(sent.ID, 10)))}, nil
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok && len(apiErr.Errors["uuid"]) > 0 {
		// The uuid is taken: an earlier attempt of this message, whose
		// answer was lost, is in the flow.
		res := bot.SendResult{}
		if found, _, lookErr := a.client.MessageByUUID(ctx, c, nm.UUID); lookErr == nil {
			res.ID = messageKey(m.Conversation, json.Number(strconv.FormatInt(found.ID, 10)))
		}
		a.logger.LogAttrs(ctx, slog.LevelInfo, "flowdock: send refused as a duplicate uuid: an earlier attempt was delivered",
			slog.String("conversation", m.Conversation))
		return res, nil
	}
	return bot.SendResult{}, err
}

func (a *Adapter) postIntegration(ctx context.Context, c Chat, post func() (*Message, *Response, error)) (bot.SendResult, error) {
	if c.IsPrivate() {
		return bot.SendResult{}, errors.New("flowdock: activities and discussions go to flows, not private chats")
	}
	msg, _, err := post()
	if err != nil {
		return bot.SendResult{}, err
	}
	if msg != nil && msg.ID != 0 {
		return bot.SendResult{ID: strconv.FormatInt(msg.ID, 10)}, nil
	}
	return bot.SendResult{}, nil
}

// Edit changes the text of a message the bot sent; id is a SendResult.ID
// or a Message.ID ("<conversation>/<id>").
func (a *Adapter) Edit(ctx context.Context, conversation, id, text string) error {
	c, n, err := a.locate(ctx, conversation, id)
	if err != nil {
		return err
	}
	_, err = a.client.EditMessage(ctx, c, n, MessageUpdate{Content: &text})
	return err
}

// Delete deletes a message.
func (a *Adapter) Delete(ctx context.Context, conversation, id string) error {
	c, n, err := a.locate(ctx, conversation, id)
	if err != nil {
		return err
	}
	_, err = a.client.DeleteMessage(ctx, c, n)
	return err
}

// Tag replaces the tags of a message. Flowdock has no conversation tags,
// so id is required.
func (a *Adapter) Tag(ctx context.Context, conversation, id string, tags []string) error {
	if id == "" {
		return fmt.Errorf("flowdock: tag a conversation: %w", errors.ErrUnsupported)
	}
	c, n, err := a.locate(ctx, conversation, id)
	if err != nil {
		return err
	}
	if tags == nil {
		tags = []string{}
	}
	_, err = a.client.EditMessage(ctx, c, n, MessageUpdate{Tags: tags})
	return err
}

func (a *Adapter) locate(ctx context.Context, conversation, id string) (Chat, int64, error) {
	if conv, n, ok := idOf(id); ok {
		if conversation == "" {
			conversation = conv
		}
		c, err := a.chat(ctx, conversation)
		return c, n, err
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return Chat{}, 0, fmt.Errorf("flowdock: message id %q", id)
	}
	c, err := a.chat(ctx, conversation)
	return c, n, err
}

// uuidFor derives a send's uuid from its idempotency key, so that every
// attempt of one outbound message carries the same uuid.
func uuidFor(key string) string {
	if key == "" {
		return NewUUID()
	}
	sum := sha256.Sum256([]byte("parley-flowdock:" + key))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// uuidSet remembers the uuids of the bot's recent sends, to drop their
// echoes, up to a bound.
type uuidSet struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string
	next int
}

func newUUIDSet(n int) uuidSet {
	return uuidSet{set: make(map[string]struct{}, n), ring: make([]string, n)}
}

func (u *uuidSet) add(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if old := u.ring[u.next]; old != "" {
		delete(u.set, old)
	}
	u.ring[u.next] = id
	u.set[id] = struct{}{}
	u.next = (u.next + 1) % len(u.ring)
}

func (u *uuidSet) has(id string) bool {
	if id == "" {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.set[id]
	return ok
}
