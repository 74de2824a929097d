package jetstream

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/logs"
)

// Broker defaults; see the options.
const (
	DefaultPartitions      = 16
	DefaultOutboxLanes     = 4
	DefaultAckWait         = 30 * time.Second
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultBrokerName      = "PARLEY"
)

// Values of an outbound claim in the key bucket (see Broker).
const (
	claimSent = "sent" // delivered
	claimDone = "done" // suppressed: finished without a send

	// inboundDone prefixes the stream sequence in the dedup record of a
	// handled inbound event.
	inboundDone = "done/"
)

// A Broker is a [bot.Broker] on NATS JetStream: the Bot's inbound and
// outbound queues as streams, shared by every replica that opens a Broker
// with the same name on the same NATS system, and kept on disk by the
// server. Create one with [NewBroker] and give it to the Bot with
// bot.WithBroker, together with a [Store] for the Bot's state
// (bot.WithStore), so that ownership and cron claims are shared too.
//
// # Inbound
//
// Publish stores an inbound message in the stream <name>_IN on subject
// "parley.<name>.in.<p>", where p is the conversation's partition (a hash
// of platform and conversation, modulo the number of partitions), with the
// header Nats-Msg-Id set to "<platform>:<event id>": the server drops a
// redelivered event within the stream's duplicate window. Publish returns
// once the server has stored the message (the webhook is then answered
// 2xx); an event already recorded in the key bucket (below) is reported as
// a duplicate without publishing.
//
// Each partition has one durable consumer, "in-<p>", with MaxAckPending=1:
// one message of a partition is in hand at a time, across every replica,
// so a conversation's messages are handled in order while any replica may
// take any partition. A replica takes the message, records the event in
// the key bucket as "dedup:<platform>:<id>" = the message's stream
// sequence (with a set-if-absent, kept for the Bot's dedup TTL), handles
// it, records it as handled ("done/<sequence>"), and acknowledges it only
// then — after its handlers have returned and their replies are stored in
// the outbound stream. A message whose event is recorded under another
// sequence is a redelivery beyond the duplicate window and is acknowledged
// without handling, as is one recorded as handled (its acknowledgement was
// lost); one recorded under its own sequence but not as handled was taken
// before by a replica that died, and is handled again.
// While a message is in hand the replica tells the server so every third
// of the ack wait; a replica that dies stops doing so, and after the ack
// wait the server gives the message to another replica.
//
// # Outbound
//
// Send stores an outbound message in the stream <name>_OUT on subject
// "parley.<name>.out.<platform>.<lane>", where lane is the conversation's
// outbox lane; each lane has one durable consumer with MaxAckPending=1, so
// a conversation's messages are sent in order. Before sending, a replica
// claims the message's key in the key bucket, "out:<platform>:<key>" =
// "<sequence>/<unix nanos>" (set-if-absent); after the platform's answer it
// records "sent" (or "done" when the message was suppressed), then
// acknowledges. A message whose key is recorded as sent is acknowledged
// without sending: a handler that ran twice does not answer twice. A
// message whose key is claimed but not recorded was in hand when its
// replica died, and its outcome is unknown: the Bot asks the adapter, when
// it is a [bot.Confirmer], whether the platform has it, and sends it only
// if not (see bot.Pipeline.Deliver). A delivery that fails for good
// releases the claim and goes to the dead letters.
//
// # How long records are kept
//
// The deduplication records and outbound claims are kept for the Bot's
// dedup TTL (bot.WithDedupTTL; 25 hours by default), each with its expiry
// in its value (see [Store]). In the Broker's own bucket "<name>_KEYS"
// the server reclaims them by the bucket's maximum age, which Consume
// raises to that TTL (rounded up to whole seconds, plus one second), and
// not by a per-message TTL, which would cost the server memory for each
// record as long as it is held. A bucket created before the Broker worked
// this way gets its maximum age the first time Consume runs, and its
// records written with a per-message TTL keep it. A bucket given with
// [WithKeys] is left as it is, and its Store writes per-message TTLs.
//
// # Dead letters
//
// The Broker is a [bot.DeadLetterStore]: dead letters are messages of the
// stream <name>_DEAD (subject "parley.<name>.dead", at most
// [WithDeadLetterLimit], the oldest dropped beyond it), so every replica's
// Bot.DeadLetters lists the same letters, they survive restarts, and a
// letter's ID is its stream sequence. Replay and Discard delete the
// letter's sequence, which succeeds for one caller only: two replicas
// replaying one letter at once send it once. A letter is stored with its
// error's text; the error's type is not kept.
//
// Rate limits are paced by each replica on its own: with n replicas, a
// platform may see up to n times an adapter's declared rate.
//
// # Tracing
//
// When the Bot traces (bot.WithTracerProvider), the trace context of the
// span in the ctx of Publish and Send is stored with the message, in the
// W3C trace context headers "traceparent" and "tracestate" of the NATS
// message, and the replica that takes the message continues that trace:
// its handle or delivery span is a child of the publishing one, whichever
// replica published it.
//
// # Shutdown and reconnects
//
// When the Bot stops, Consume stops taking messages, finishes the ones in
// hand and returns; the rest stay in the streams. When the Bot stops
// because its adapters have finished their input (bot.Pipeline.Finishing),
// Consume first goes on until every message this Broker stored is done
// (and every message before one of them in its partition or lane): the
// replies to what the Bot received are delivered before its Run returns,
// as with its in-memory queues. A handler or delivery cut
// short by the shutdown deadline is not acknowledged, so it is taken again
// later. Lost connections to NATS are retried by the client: while
// disconnected, Publish fails (the platform delivers again later), Send
// tries again until NATS has stored the outbound message or Send's context
// ends (for a handler, the handler timeout), the consumers wait, and the
// records and acknowledgements of the messages in hand are retried until
// NATS is back (or the shutdown deadline passes), so that a restart of the
// NATS server loses no reply and causes no duplicate work. A request in
// flight when the connection breaks is never answered, and the Broker does
// not wait for its answer: it tries again (a record, an acknowledgement,
// an outbound message, which carries the same Nats-Msg-Id in every try, so
// that the stream keeps it once), gives the message in hand back to be
// taken again (a consumer's deduplication record or claim), or fails (an
// inbound message, which the platform delivers again).
type Broker struct {
	js     jetstream.JetStream
	keys   *Store
	cfg    brokerConfig
	prefix string // "parley.<name>."
	logs   *logs.Slot
	logger *slog.Logger
	stored storedMarks // what Inbound and Outbound stored, for a finishing Consume

	// Outbound's Nats-Msg-Id: idPrefix, random per Broker, then a count.
	idPrefix string
	idSeq    atomic.Uint64
}

var (
	_ bot.Broker       = (*Broker)(nil)
	_ bot.LoggerSetter = (*Broker)(nil)
)

// SetDefaultLogger makes l the Broker's logger, unless [WithBrokerLogger]
// set one. bot.New calls it with the Bot's logger. It is safe to call at
// any time, also while the Broker consumes.
func (b *Broker) SetDefaultLogger(l *slog.Logger) { b.logs.Set(l) }

type brokerConfig struct {
	name       string
	partitions int
	lanes      int
	ackWait    time.Duration
	dupWindow  time.Duration
	replicas   int
	storage    jetstream.StorageType
	logger     *slog.Logger
	keys       *Store
	deadLimit  int
}

// A BrokerOption configures a [Broker].
type BrokerOption func(*brokerConfig)

// WithBrokerName sets the name of the Broker's streams and key bucket
// (default "PARLEY"): replicas of one bot share a name, and different bots
// on one NATS system use different names. It must be a valid stream name of
// letters, digits, '-' and '_'.
func WithBrokerName(name string) BrokerOption { return func(c *brokerConfig) { c.name = name } }

// WithPartitions sets the number of inbound partitions (default 16): how
// many conversations are handled at the same time across all replicas. It
// is fixed when the stream is created; changing it later reorders nothing
// already stored but moves conversations to other partitions, so change it
// only on an empty stream.
func WithPartitions(n int) BrokerOption { return func(c *brokerConfig) { c.partitions = n } }

// WithOutboxLanes sets the number of outbound lanes per platform (default
// 4): how many conversations of one platform are sent to at the same time.
func WithOutboxLanes(n int) BrokerOption { return func(c *brokerConfig) { c.lanes = n } }

// WithAckWait sets how long the server waits for a replica that took a
// message before giving it to another (default 30s). Replicas extend it
// while they work, so it bounds only how soon a dead replica's message is
// taken over.
func WithAckWait(d time.Duration) BrokerOption { return func(c *brokerConfig) { c.ackWait = d } }

// WithDuplicateWindow sets the streams' duplicate window (default 2
// minutes); the key bucket deduplicates beyond it.
func WithDuplicateWindow(d time.Duration) BrokerOption {
	return func(c *brokerConfig) { c.dupWindow = d }
}

// WithStreamReplicas sets the replicas of new streams and of the key
// bucket in a clustered NATS system (default 1).
func WithStreamReplicas(n int) BrokerOption { return func(c *brokerConfig) { c.replicas = n } }

// WithStreamMemoryStorage keeps new streams and the key bucket in the
// server's memory: faster, and lost when the server stops. For tests and
// benchmarks.
func WithStreamMemoryStorage() BrokerOption {
	return func(c *brokerConfig) { c.storage = jetstream.MemoryStorage }
}

// WithBrokerLogger sets the Broker's logger. Without it (or with a nil l),
// the Broker logs to the logger of the Bot it is given to (bot.WithLogger;
// see [Broker.SetDefaultLogger]), and to slog.Default() until then.
// Message text is never logged.
func WithBrokerLogger(l *slog.Logger) BrokerOption { return func(c *brokerConfig) { c.logger = l } }

// WithKeys makes the Broker keep its deduplication records and outbound
// claims in s instead of in its own bucket "<name>_KEYS".
func WithKeys(s *Store) BrokerOption { return func(c *brokerConfig) { c.keys = s } }

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// NewBroker creates (or opens, when they exist) the Broker's streams and key
// bucket on js. Replicas call it with the same options; the first one
// creates. Consumers are created by Consume.
func NewBroker(ctx context.Context, js jetstream.JetStream, opts ...BrokerOption) (*Broker, error) {
	cfg := brokerConfig{
		name: DefaultBrokerName, partitions: DefaultPartitions, lanes: DefaultOutboxLanes,
		ackWait: DefaultAckWait, dupWindow: DefaultDuplicateWindow, replicas: 1,
		storage: jetstream.FileStorage, deadLimit: DefaultDeadLetterLimit,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case !validName.MatchString(cfg.name):
		return nil, fmt.Errorf("jetstream: broker name %q: use letters, digits, '-' and '_'", cfg.name)
	case cfg.partitions < 1 || cfg.partitions > 4096:
		return nil, fmt.Errorf("jetstream: broker partitions must be 1..4096, got %d", cfg.partitions)
	case cfg.lanes < 1 || cfg.lanes > 1024:
		return nil, fmt.Errorf("jetstream: broker outbox lanes must be 1..1024, got %d", cfg.lanes)
	case cfg.ackWait < time.Second:
		return nil, fmt.Errorf("jetstream: broker ack wait must be at least 1s, got %v", cfg.ackWait)
	case cfg.dupWindow <= 0:
		return nil, fmt.Errorf("jetstream: broker duplicate window must be positive, got %v", cfg.dupWindow)
	case cfg.deadLimit < 1:
		return nil, fmt.Errorf("jetstream: broker dead-letter limit must be at least 1, got %d", cfg.deadLimit)
	}
	slot := logs.New(cfg.logger)
	b := &Broker{js: js, cfg: cfg, prefix: "parley." + cfg.name + ".", logs: slot,
		logger: slot.Logger().With("component", "jetstream-broker"), idPrefix: "out-" + rand.Text() + "-"}
	for _, s := range []struct{ stream, subjects string }{
		{cfg.name + "_IN", b.prefix + "in.*"},
		{cfg.name + "_OUT", b.prefix + "out.>"},
	} {
		// Create, never update: replicas start concurrently, and a stream
		// update racing a consumer creation is unsafe in the server. An
		// existing stream is kept as it is.
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        s.stream,
			Description: "Parley broker " + cfg.name,
			Subjects:    []string{s.subjects},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     cfg.storage,
			Replicas:    cfg.replicas,
			Duplicates:  cfg.dupWindow,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			err = nil
		}
		if err != nil {
			return nil, fmt.Errorf("jetstream: create stream %s: %w", s.stream, err)
		}
	}
	if err := b.createDeadStream(ctx); err != nil {
		return nil, err
	}
	b.keys = cfg.keys
	if b.keys == nil {
		sopts := []StoreOption{WithReplicas(cfg.replicas), WithDescription("Parley broker " + cfg.name + " dedup records and outbound claims")}
		if cfg.storage == jetstream.MemoryStorage {
			sopts = append(sopts, WithMemoryStorage())
		}
		keys, err := NewStore(ctx, js, cfg.name+"_KEYS", sopts...)
		if err != nil {
			return nil, err
		}
		keys.aged = true // see retain
		b.keys = keys
	}
	return b, nil
}

// partition returns the partition of a conversation: FNV-1a over
// platform, a zero byte and conversation. It is the same hash as the Bot's
// in-memory lanes but deliberately a copy: partitions are part of the
// stored subjects, so this function must not change with the Bot's
// internals.
func partition(platform, conversation string, n int) int {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(platform); i++ {
		h ^= uint32(platform[i])
		h *= prime
	}
	h *= prime // the zero separator
	for i := 0; i < len(conversation); i++ {
		h ^= uint32(conversation[i])
		h *= prime
	}
	return int(h % uint32(n))
}

func dedupKey(m *bot.Message) string { return "dedup:" + m.Platform + ":" + m.ID }

// busy wraps err as a bot.ErrBusy: the platform should deliver again.
func busy(op string, err error) error {
	return fmt.Errorf("%w: jetstream: %s: %w", bot.ErrBusy, op, err)
}

// Inbound implements bot.Broker.
func (b *Broker) Inbound(ctx context.Context, m *bot.Message) (bool, error) {
	if m.ID != "" {
		_, err := b.get(ctx, dedupKey(m))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, bot.ErrNotFound) {
			return false, busy("dedup lookup", err)
		}
	}
	data, err := bot.MarshalMessage(m)
	if err != nil {
		return false, err
	}
	msg := &nats.Msg{Subject: b.prefix + "in." + strconv.Itoa(partition(m.Platform, m.Conversation, b.cfg.partitions)),
		Data: data, Header: nats.Header{}}
	if m.ID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, m.Platform+":"+m.ID)
	}
	injectTrace(ctx, msg.Header)
	var ack *jetstream.PubAck
	_, err = b.try(ctx, func(ctx context.Context) error {
		var err error
		ack, err = b.js.PublishMsg(ctx, msg)
		return err
	})
	if err != nil {
		return false, busy("store inbound", err)
	}
	b.stored.add(msg.Subject, ack.Sequence)
	return ack.Duplicate, nil
}

// Outbound implements bot.Broker. While NATS cannot be reached (the
// connection is lost, the server restarts) it tries again until ctx is
// done, so that a handler's reply waits for NATS within the handler
// timeout. Every try of one call carries the same Nats-Msg-Id, unique to
// the call: a try that was stored but whose answer was lost is not stored
// again by the next.
func (b *Broker) Outbound(ctx context.Context, m *bot.Message) error {
	if !validName.MatchString(m.Platform) {
		return fmt.Errorf("jetstream: platform name %q cannot be a subject token", m.Platform)
	}
	data, err := bot.MarshalMessage(m)
	if err != nil {
		return err
	}
	subj := b.prefix + "out." + m.Platform + "." + strconv.Itoa(partition(m.Platform, m.Conversation, b.cfg.lanes))
	msg := &nats.Msg{Subject: subj, Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, b.idPrefix+strconv.FormatUint(b.idSeq.Add(1), 10))
	injectTrace(ctx, msg.Header)
	var ack *jetstream.PubAck
	err = b.retry(ctx, "store outbound", unreachable, func(ctx context.Context) error {
		var err error
		ack, err = b.js.PublishMsg(ctx, msg)
		return err
	})
	if err != nil {
		return busy("store outbound", err)
	}
	b.stored.add(subj, ack.Sequence)
	return nil
}

// unreachable reports whether err, from a request to JetStream, means that
// NATS could not be reached or is not ready yet, as while the server
// restarts: worth trying again.
func unreachable(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrReconnectBufExceeded) ||
		errors.Is(err, nats.ErrConnectionReconnecting)
}

// Consume implements bot.Broker: one consumer goroutine per inbound
// partition and per outbound lane of every platform. When p is finishing,
// it goes on after ctx is done until every message stored through this
// Broker's Inbound and Outbound, and every message before one of them in
// its partition or lane, is done (by this or another replica), or until
// p.Context() ends.
func (b *Broker) Consume(ctx context.Context, p *bot.Pipeline) error {
	// The consumers are created under setup, which ctx ends only when the
	// Bot is not finishing: a Bot whose input ended at once still has the
	// stored messages to answer.
	setup, cancelSetup := context.WithCancel(p.Context())
	defer cancelSetup()
	defer context.AfterFunc(ctx, func() {
		if !p.Finishing() {
			cancelSetup()
		}
	})()
	if err := b.persist(setup, "key bucket retention", func(ctx context.Context) error {
		return b.retain(ctx, p.DedupTTL())
	}); err != nil {
		return err
	}
	type job struct {
		cons   jetstream.Consumer
		handle func(jetstream.Msg)
	}
	var jobs []job
	inStream, outStream := b.cfg.name+"_IN", b.cfg.name+"_OUT"
	ackWait := b.cfg.ackWait
	for i := range b.cfg.partitions {
		c, err := b.consumer(setup, inStream, "in-"+strconv.Itoa(i), b.prefix+"in."+strconv.Itoa(i), ackWait)
		if err != nil {
			return err
		}
		w := p.Worker()
		defer w.Close()
		jobs = append(jobs, job{c, func(msg jetstream.Msg) { b.handleInbound(p, w, msg) }})
	}
	for _, platform := range p.Platforms() {
		if !validName.MatchString(platform) {
			return fmt.Errorf("jetstream: platform name %q cannot be a subject token", platform)
		}
		for i := range b.cfg.lanes {
			name := "out-" + platform + "-" + strconv.Itoa(i)
			c, err := b.consumer(setup, outStream, name, b.prefix+"out."+platform+"."+strconv.Itoa(i), ackWait)
			if err != nil {
				return err
			}
			jobs = append(jobs, job{c, func(msg jetstream.Msg) { b.handleOutbound(p, msg) }})
		}
	}

	var wg sync.WaitGroup
	progress := make(chan struct{}, 1) // a message was finished
	iters := make([]jetstream.MessagesContext, 0, len(jobs))
	for _, j := range jobs {
		// Short pull expiry and heartbeat: an iterator that stops pulling
		// (seen rarely under load with nats.go v1.55.0) notices within
		// seconds instead of the default 30.
		it, err := j.cons.Messages(jetstream.PullMaxMessages(1),
			jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(2*time.Second))
		if err != nil {
			for _, it := range iters {
				it.Drain()
			}
			wg.Wait()
			return fmt.Errorf("jetstream: consume: %w", err)
		}
		iters = append(iters, it)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				msg, err := it.Next()
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				if err != nil {
					// Missed heartbeats and the like: the iterator
					// recovers by itself.
					b.logger.LogAttrs(context.Background(), slog.LevelDebug, "consumer", slog.Any("error", err))
					continue
				}
				j.handle(msg)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}()
	}
	<-ctx.Done()
	if p.Finishing() {
		b.drain(p.Context(), progress)
	}
	for _, it := range iters {
		it.Drain() // messages already received are still handed out
	}
	wg.Wait()
	return nil
}

// retain makes the Broker's own key bucket keep every entry for at least
// ttl, the Bot's dedup TTL: its stream's maximum age is raised to
// serverTTL(ttl) when it is lower (or unlimited, as in a bucket created
// before the Broker aged its entries out). The records and claims of that
// bucket are written without a per-message TTL (see Store.aged): the
// server reclaims them by age, which costs it nothing per entry, where a
// per-message TTL costs it an entry in its expiry wheel for every record
// until it expires. Entries already written with a per-message TTL keep
// it. The maximum age is only ever raised, so Bots with different dedup
// TTLs on one bucket keep entries for the longest (but two replicas that
// raise it at the same moment to different values may leave the lower
// one: give replicas one dedup TTL). A bucket given with [WithKeys] is
// left as it is, and its Store keeps per-message TTLs.
func (b *Broker) retain(ctx context.Context, ttl time.Duration) error {
	if !b.keys.aged {
		return nil
	}
	want := serverTTL(ttl)
	s, err := b.js.Stream(ctx, "KV_"+b.cfg.name+"_KEYS")
	if err != nil {
		return fmt.Errorf("jetstream: key bucket retention: %w", err)
	}
	cfg := s.CachedInfo().Config
	if cfg.MaxAge != 0 && cfg.MaxAge >= want {
		return nil
	}
	cfg.MaxAge = want
	if _, err := b.js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("jetstream: key bucket retention: %w", err)
	}
	return nil
}

// consumer creates or updates a durable consumer of one partition or lane,
// trying again while NATS is unreachable until ctx is done.
func (b *Broker) consumer(ctx context.Context, stream, name, subject string, ackWait time.Duration) (jetstream.Consumer, error) {
	var c jetstream.Consumer
	err := b.persist(ctx, "create consumer "+name, func(ctx context.Context) error {
		var err error
		c, err = b.createConsumer(ctx, stream, name, subject, ackWait)
		return err
	})
	return c, err
}

func (b *Broker) createConsumer(ctx context.Context, stream, name, subject string, ackWait time.Duration) (jetstream.Consumer, error) {
	c, err := b.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: 1,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: create consumer %s/%s: %w", stream, name, err)
	}
	return c, nil
}

// keepLeased tells the server that msg is still in hand every third of the
// ack wait until the returned function is called.
func (b *Broker) keepLeased(msg jetstream.Msg, ackWait time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// handleInbound takes one inbound message; see Broker.
func (b *Broker) handleInbound(p *bot.Pipeline, w *bot.Worker, msg jetstream.Msg) {
	ctx := p.Context()
	m, meta, ok := b.decode(msg)
	if !ok {
		return
	}
	seq := strconv.FormatUint(meta.Sequence.Stream, 10)
	if m.ID != "" {
		fresh, err := b.setIfAbsent(ctx, dedupKey(m), []byte(seq), p.DedupTTL())
		if err != nil {
			b.retryLater(msg, "dedup record", err)
			return
		}
		if !fresh {
			v, err := b.get(ctx, dedupKey(m))
			if err != nil && !errors.Is(err, bot.ErrNotFound) {
				b.retryLater(msg, "dedup lookup", err)
				return
			}
			rec := string(v)
			switch {
			case err == nil && rec == inboundDone+seq:
				// Handled, but the acknowledgement was lost.
				b.ack(ctx, msg)
				return
			case err == nil && rec != seq:
				p.Duplicate(m)
				b.ack(ctx, msg)
				return
			}
			// Recorded under this very message: a replica took it
			// before and died while handling it. Handle it again.
		}
	}
	stop := b.keepLeased(msg, b.cfg.ackWait)
	w.HandleContext(extractTrace(ctx, msg.Headers()), m)
	stop()
	if ctx.Err() != nil {
		// Cut short by the shutdown deadline: let it be taken again.
		_ = msg.Nak()
		return
	}
	if m.ID != "" {
		err := b.persist(ctx, "inbound done record", func(ctx context.Context) error {
			return b.keys.Set(ctx, dedupKey(m), []byte(inboundDone+seq), p.DedupTTL())
		})
		if err != nil {
			return // shutdown: redelivered later, and handled again
		}
	}
	b.ack(ctx, msg)
}

// handleOutbound takes one outbound message; see Broker.
func (b *Broker) handleOutbound(p *bot.Pipeline, msg jetstream.Msg) {
	ctx := p.Context()
	m, meta, ok := b.decode(msg)
	if !ok {
		return
	}
	claim := "out:" + m.Platform + ":" + m.Key
	rec := strconv.FormatUint(meta.Sequence.Stream, 10) + "/" + strconv.FormatInt(time.Now().UnixNano(), 10)
	fresh, err := b.setIfAbsent(ctx, claim, []byte(rec), p.DedupTTL())
	if err != nil {
		b.retryLater(msg, "outbound claim", err)
		return
	}
	var since time.Time
	if !fresh {
		v, err := b.get(ctx, claim)
		switch {
		case err != nil:
			// Unreadable, or released since (a failed delivery): take the
			// message again shortly and claim afresh.
			b.retryLater(msg, "outbound claim lookup", err)
			return
		case string(v) == claimSent || string(v) == claimDone:
			p.Skipped(m)
			b.ack(ctx, msg)
			return
		}
		_, nanos, _ := strings.Cut(string(v), "/")
		n, err := strconv.ParseInt(nanos, 10, 64)
		if err != nil {
			n = 1 // unreadable: in doubt since any time
		}
		since = time.Unix(0, n)
	}
	stop := b.keepLeased(msg, b.cfg.ackWait)
	out := p.Deliver(extractTrace(ctx, msg.Headers()), m, since)
	stop()
	if out == bot.OutcomeInterrupted {
		// Cut short by the shutdown deadline (and not dead-lettered): keep
		// the claim, so that the next try confirms with the platform, and
		// let it be taken again.
		_ = msg.Nak()
		return
	}
	err = b.persist(ctx, "outbound "+out.String()+" record", func(ctx context.Context) error {
		switch out {
		case bot.OutcomeSent:
			return b.keys.Set(ctx, claim, []byte(claimSent), p.DedupTTL())
		case bot.OutcomeSuppressed:
			return b.keys.Set(ctx, claim, []byte(claimDone), p.DedupTTL())
		}
		return b.keys.Delete(ctx, claim)
	})
	if err != nil {
		// Not recorded by the shutdown deadline: the message is taken
		// again later, and the claim makes that a confirmation with the
		// platform, not a blind resend.
		return
	}
	b.ack(ctx, msg)
}

// decode reads a stored message; one that cannot be read is terminated
// (never redelivered) and logged.
func (b *Broker) decode(msg jetstream.Msg) (*bot.Message, *jetstream.MsgMetadata, bool) {
	meta, err := msg.Metadata()
	if err != nil {
		b.logger.LogAttrs(context.Background(), slog.LevelError, "stored message without metadata; dropped",
			slog.String("subject", msg.Subject()), slog.Any("error", err))
		_ = msg.Term()
		return nil, nil, false
	}
	m, err := bot.UnmarshalMessage(msg.Data())
	if err != nil {
		b.logger.LogAttrs(context.Background(), slog.LevelError, "stored message cannot be decoded; dropped",
			slog.String("subject", msg.Subject()), slog.Uint64("seq", meta.Sequence.Stream), slog.Any("error", err))
		_ = msg.TermWithReason("undecodable")
		return nil, nil, false
	}
	return m, meta, true
}

// ack acknowledges msg and waits for the server's confirmation, trying
// again while NATS is unreachable (until ctx, the Bot's shutdown deadline,
// is done), so that a finished message is not handed out again. A message
// whose acknowledgement is lost after all is redelivered, and the key
// bucket's record makes that harmless.
func (b *Broker) ack(ctx context.Context, msg jetstream.Msg) {
	_ = b.persist(ctx, "acknowledgement", func(ctx context.Context) error { return msg.DoubleAck(ctx) })
}

// persist calls fn until it succeeds or ctx is done (see retry), and
// returns the last error when ctx ends first. It is how the Broker writes
// what must not be lost to a NATS that is restarting or briefly
// unreachable.
func (b *Broker) persist(ctx context.Context, what string, fn func(context.Context) error) error {
	err := b.retry(ctx, what, nil, fn)
	if err != nil {
		b.logger.LogAttrs(context.Background(), slog.LevelWarn, what+" failed at shutdown", slog.Any("error", err))
	}
	return err
}

// tryTimeout bounds one try of a request to NATS.
const tryTimeout = 10 * time.Second

// retry calls fn until it succeeds, ctx is done, or fn fails with an error
// that again does not accept (nil accepts every error), with a backoff
// from 50ms to 2s between tries. Each try is bounded by tryTimeout and is
// cut short when the connection to NATS breaks (see try); a try cut short
// is always tried again. It returns the last error.
func (b *Broker) retry(ctx context.Context, what string, again func(error) bool, fn func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for n := 1; ; n++ {
		cut, err := b.try(ctx, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || (!cut && again != nil && !again(err)) {
			return err
		}
		if n == 1 || n%20 == 0 {
			b.logger.LogAttrs(ctx, slog.LevelWarn, what+" failed; trying again", slog.Int("try", n), slog.Any("error", err))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait = min(wait*2, 2*time.Second)
	}
}

// try calls fn once with a context that ends after tryTimeout, or as soon
// as the client's connection to NATS breaks: NATS delivers a request at
// most once, and one already written when the connection breaks is never
// answered, so waiting for its answer would only hold the caller until the
// timeout. A request made while the client is reconnecting is held by the
// client and sent once it is back. cut reports that fn failed because its
// context ended while ctx had not.
func (b *Broker) try(ctx context.Context, fn func(context.Context) error) (cut bool, err error) {
	tctx, cancel := context.WithTimeout(ctx, tryTimeout)
	defer cancel()
	var lost atomic.Bool
	if nc := b.js.Conn(); nc != nil {
		broken := nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
		defer nc.RemoveStatusListener(broken)
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			select {
			case <-broken:
				lost.Store(true)
				cancel()
			case <-done:
			}
		})
		defer wg.Wait()
		defer close(done)
	}
	err = fn(tctx)
	cut = err != nil && tctx.Err() != nil && ctx.Err() == nil
	if cut && lost.Load() {
		err = fmt.Errorf("connection to NATS lost: %w", err)
	}
	return cut, err
}

// get and setIfAbsent are the key bucket's Get and SetIfAbsent in one try
// (see try): a caller whose request is lost with the connection learns so
// at once, not when the request times out.
func (b *Broker) get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	_, err := b.try(ctx, func(ctx context.Context) error {
		var err error
		v, err = b.keys.Get(ctx, key)
		return err
	})
	return v, err
}

func (b *Broker) setIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	var fresh bool
	_, err := b.try(ctx, func(ctx context.Context) error {
		var err error
		fresh, err = b.keys.SetIfAbsent(ctx, key, value, ttl)
		return err
	})
	return fresh, err
}

// retryLater gives msg back to be taken again after a short delay.
func (b *Broker) retryLater(msg jetstream.Msg, what string, err error) {
	b.logger.LogAttrs(context.Background(), slog.LevelWarn, what+" failed; the message will be taken again",
		slog.String("subject", msg.Subject()), slog.Any("error", err))
	_ = msg.NakWithDelay(time.Second)
}
