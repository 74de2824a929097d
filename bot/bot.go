package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/parleybot/parley/internal/errtext"
)

// A Bot receives messages from its adapters, routes them through its Router
// to handlers, and delivers replies through its outbox. Create one with New,
// register routes and jobs, then call Run.
//
// A Bot embeds its *Router, so b.Use, b.Handle and b.HandleFunc register
// routes directly. All methods are safe for concurrent use; registration
// (Use, Handle, Schedule) must happen before Run.
type Bot struct {
	*Router

	cfg      config
	logger   *slog.Logger
	store    Store // state: ownership, handler state
	keys     Store // dedup entries and outbound claims
	adapters map[string]Adapter
	order    []Adapter
	in       *lanes
	out      *outbox
	own      ownership
	sched    *scheduler
	stats    stats
	feed     feed
	tracer   trace.Tracer // nil: no tracing (see WithTracerProvider)
	traces   sync.Map     // *Message → trace.SpanContext; see queuedTrace

	bgMu      sync.Mutex
	bg        []func(ctx context.Context)       // see Background; before Run
	bgStart   func(f func(ctx context.Context)) // starts f while Run runs them; nil before
	bgStopped bool                              // Run has stopped taking them
	bgWG      sync.WaitGroup

	state  atomic.Int32 // 0 new, 1 running, 2 stopped
	keySeq atomic.Uint64
	nonce  string // distinguishes generated outbound keys of this process
}

// New returns a Bot configured by opts. It fails when an option is invalid,
// no adapter is given, or two adapters share a name.
func New(opts ...Option) (*Bot, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if len(cfg.adapters) == 0 {
		return nil, errors.New("bot: no adapter: use WithAdapters")
	}
	if cfg.logger == nil {
		cfg.logger = quietLogger()
	}
	if cfg.keys == nil {
		cfg.keys = cfg.store
	}
	if cfg.store == nil {
		cfg.store = NewMemoryStore()
	}
	if cfg.keys == nil {
		cfg.keys = NewMemoryStore()
	}
	cfg.outbox.setDefaults()

	b := &Bot{
		cfg:      cfg,
		logger:   cfg.logger.With("component", "bot"),
		store:    cfg.store,
		keys:     cfg.keys,
		adapters: make(map[string]Adapter, len(cfg.adapters)),
		in:       newLanes(cfg.workers, cfg.queueSize),
		tracer:   newTracer(cfg.tracerProvider),
	}
	b.feed.text, b.feed.base = cfg.eventText, time.Now()
	var window time.Duration
	for _, a := range cfg.adapters {
		name := a.Name()
		if name == "" {
			return nil, errors.New("bot: adapter with an empty name")
		}
		if _, dup := b.adapters[name]; dup {
			return nil, fmt.Errorf("bot: two adapters are named %q", name)
		}
		b.adapters[name] = a
		b.order = append(b.order, a)
		if l, ok := a.(Limiter); ok {
			window = max(window, l.Limits().RedeliveryWindow)
		}
	}
	if b.cfg.dedupTTL == 0 {
		if window == 0 {
			window = 24 * time.Hour
		}
		b.cfg.dedupTTL = window + time.Hour
	}
	// Everything the Bot runs logs to its logger, unless given its own.
	for _, a := range b.order {
		setDefaultLogger(a, cfg.logger)
	}
	for _, c := range []any{cfg.store, cfg.keys, cfg.broker} {
		setDefaultLogger(c, cfg.logger)
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	b.nonce = hex.EncodeToString(nonce[:])

	b.Router = NewRouter()
	b.Router.SetLogger(b.logger)
	b.own = ownership{store: b.store, idle: cfg.idleTimeout, logger: b.logger, stats: &b.stats,
		checks: newOwnerChecks(b.order, cfg.ownerRecheck), filter: filterFor(b.store)}
	b.out = newOutbox(b)
	b.sched = newScheduler(cfg.loc, b.logger, b.store, cfg.jobTimeout)
	b.sched.feed = &b.feed
	b.sched.onError = cfg.onError
	return b, nil
}

// setDefaultLogger gives l to c if c is a LoggerSetter.
func setDefaultLogger(c any, l *slog.Logger) {
	if s, ok := c.(LoggerSetter); ok {
		s.SetDefaultLogger(l)
	}
}

// Store returns the Bot's Store. Handlers keep their state there under keys
// prefixed with their own name.
func (b *Bot) Store() Store { return b.store }

// Logger returns the Bot's logger, with the attribute component=bot.
func (b *Bot) Logger() *slog.Logger { return b.logger }

// Location returns the Bot's time zone.
func (b *Bot) Location() *time.Location { return b.cfg.loc }

// Adapter returns the adapter named name, or nil.
func (b *Bot) Adapter(name string) Adapter { return b.adapters[name] }

// Stats returns a snapshot of the Bot's counters.
func (b *Bot) Stats() Stats {
	s := b.stats.snapshot()
	s.JobRuns = b.sched.runs.Load()
	return s
}

// Pending returns how many inbound messages wait for a handler and how many
// outbound messages wait for delivery in this process's queues. Messages
// held by a durable Broker for any replica are counted by the Broker.
func (b *Bot) Pending() (inbound, outbound int) {
	inbound = b.in.len()
	for _, po := range b.out.platforms {
		outbound += po.lanes.len()
	}
	return inbound, outbound
}

// Jobs lists the scheduled jobs with their next fire times (zero before
// Run).
func (b *Bot) Jobs() []ScheduledJob { return b.sched.entries() }

// Schedule runs j on the cron spec, in the Bot's time zone unless the spec
// starts with CRON_TZ=<zone>. Specs have five fields (minute to weekday), an
// optional leading seconds field, or a descriptor such as "@hourly" or
// "@every 90s". A malformed spec is returned as an error naming the problem.
// Jobs run from Run until shutdown, never overlapping themselves (a fire
// that comes while the previous run is still going is skipped); a panic in
// a job is recovered and logged. Each job gets ctx, cancelled at shutdown
// and bounded by WithJobTimeout, and the Bot as its Sender. Outbound
// messages a job sends get the idempotency key "cron:<name>:<fire time>:<n>",
// and with a Store shared by several processes each fire runs once.
// Schedule may be called before Run or while it runs (the job then starts
// with its next fire time). It panics if name is empty or taken, j is nil,
// or Run has returned.
func (b *Bot) Schedule(name, spec string, j Job) error {
	return b.sched.add(name, spec, j)
}

// Unschedule removes the job called name and reports whether there was
// one; a fire of it already running finishes. It is safe to call while Run
// runs, for example to replace a job with Unschedule then Schedule.
func (b *Bot) Unschedule(name string) bool { return b.sched.remove(name) }

// Background registers f to run on a goroutine of its own while the Bot
// runs: Run starts it with the adapters, cancels its ctx when shutdown
// begins (as it stops the adapters), and waits for it to return before it
// drains the queues, so f may Publish until ctx is done. A panic in f is
// recovered and logged. It is for packages that poll or keep timers for a
// Bot (the flow engine's timer sweep), so that nothing they start outlives
// Run. Given while Run runs, f starts at once. Background panics if f is
// nil, or once Run has begun its shutdown.
func (b *Bot) Background(f func(ctx context.Context)) {
	if f == nil {
		panic("bot: Background with a nil function")
	}
	b.bgMu.Lock()
	defer b.bgMu.Unlock()
	switch {
	case b.bgStopped:
		panic("bot: Background after Run began its shutdown")
	case b.bgStart != nil:
		b.bgStart(f)
	default:
		b.bg = append(b.bg, f)
	}
}

// startBackground starts the Background functions with ctx, and those
// given later until stop is called; stop returns a channel closed once
// they all returned.
func (b *Bot) startBackground(ctx context.Context) (stop func() <-chan struct{}) {
	b.bgMu.Lock()
	defer b.bgMu.Unlock()
	// Called with bgMu held, so that no start races with stop's Wait.
	b.bgStart = func(f func(ctx context.Context)) {
		b.bgWG.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					b.report(ctx, "background task panicked", fmt.Errorf("panic: %v", p),
						slog.String("stack", string(debug.Stack())))
				}
			}()
			f(ctx)
		})
	}
	for _, f := range b.bg {
		b.bgStart(f)
	}
	b.bg = nil
	return func() <-chan struct{} {
		b.bgMu.Lock()
		b.bgStopped = true
		b.bgMu.Unlock()
		return waitChan(&b.bgWG)
	}
}

// Publish deduplicates m and queues it for its conversation's worker; see
// [Publisher]. Adapters call it from Run; applications and tests may call it
// to inject messages. Messages published before Run wait in the queue.
func (b *Bot) Publish(ctx context.Context, m *Message) error {
	if m == nil || m.Platform == "" || m.Conversation == "" {
		return errors.New("bot: publish: message needs Platform and Conversation")
	}
	if _, ok := b.adapters[m.Platform]; !ok {
		return unknownPlatform("bot: publish", m.Platform)
	}
	if b.state.Load() == 2 {
		return ErrClosed
	}
	if b.tracer == nil {
		return b.publish(ctx, m, nil)
	}
	ctx, span := b.tracer.Start(ctx, SpanPublish, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(inboundAttrs(m)...))
	err := b.publish(ctx, m, span)
	failed(span, err)
	span.End()
	return err
}

// publish is Publish past the checks of m; span is its span, nil when the
// Bot does not trace.
func (b *Bot) publish(ctx context.Context, m *Message, span trace.Span) error {
	if b.feed.wants(EventReceived) {
		b.event(EventReceived, m, nil)
	}
	if br := b.cfg.broker; br != nil {
		dup, err := br.Inbound(ctx, m)
		if err != nil {
			return wrap("bot: publish", err)
		}
		if dup {
			b.countDuplicate(ctx, m, span)
		} else {
			b.countReceived(ctx, m)
		}
		return nil
	}
	key := joinedKey{"dedup:", m.Platform, m.ID}
	if m.ID != "" {
		fresh, err := key.claim(ctx, b.keys, b.cfg.dedupTTL)
		if err != nil {
			return wrap("bot: publish: dedup", err)
		}
		if !fresh {
			b.countDuplicate(ctx, m, span)
			return nil
		}
	}
	if span != nil {
		b.queuedTrace(m, span.SpanContext())
	}
	if err := b.in.push(ctx, m); err != nil {
		if span != nil {
			b.traces.Delete(m)
		}
		if m.ID != "" {
			// Not queued: forget the ID so that the platform's redelivery
			// is handled as the first delivery it is.
			_ = key.delete(context.WithoutCancel(ctx), b.keys)
		}
		return err
	}
	b.countReceived(ctx, m)
	return nil
}

func (b *Bot) countReceived(ctx context.Context, m *Message) {
	b.stats.received.Add(1)
	if h := b.cfg.hooks.Received; h != nil {
		h(ctx, m)
	}
}

// countDuplicate counts m, a redelivery, and marks span (if not nil) as
// a duplicate's.
func (b *Bot) countDuplicate(ctx context.Context, m *Message, span trace.Span) {
	if span != nil {
		span.SetAttributes(AttrDuplicate.Bool(true))
	}
	b.stats.duplicates.Add(1)
	b.event(EventDuplicate, m, nil)
	if h := b.cfg.hooks.Duplicate; h != nil {
		h(ctx, m)
	}
	b.logger.LogAttrs(ctx, slog.LevelDebug, "duplicate delivery acknowledged", slog.Any("msg", m))
}

// Send queues m for delivery through the adapter named m.Platform; see
// [Sender]. A message without a Key gets a unique one. Sending again a
// message the Bot gave a key to (the same *Message, or a copy with that
// Key) queues nothing: it counts in Stats.SendSkipped, as a key already
// delivered does.
//
// When the queue pushes back until ctx ends (a platform failing for a
// while fills its lanes), or a Broker cannot store m, m is not lost: it
// goes to the dead letters, from which [Bot.Replay] sends it, and Send
// returns the *DeliveryError naming the letter, which wraps ErrBusy.
func (b *Bot) Send(ctx context.Context, m *Message) error {
	if m != nil && m.Key == "" {
		return b.enqueue(ctx, m, b.nonce+"-"+strconv.FormatUint(b.keySeq.Add(1), 36))
	}
	return b.enqueue(ctx, m, "")
}

// enqueue queues m for delivery. mint, if not empty, is the key the Bot
// gives m, whose Key is empty: a key unique by construction (a fresh
// generated key, or a reply index under an inbound event that the Bot
// deduplicated), which the in-memory outbox therefore does not claim in
// the store; see [outbox.deliver]. When m is not queued it keeps the key
// but not the mark, so that sending it again is a send under a key of the
// caller's: claimed like one, and so never delivered twice even if a
// Broker stored m before it failed.
func (b *Bot) enqueue(ctx context.Context, m *Message, mint string) error {
	if m == nil || m.Conversation == "" {
		return errors.New("bot: send: message needs a Conversation")
	}
	po := b.out.platforms[m.Platform]
	if po == nil {
		return unknownPlatform("bot: send", m.Platform)
	}
	if err := b.sendPolicy(ctx, po, m); err != nil {
		return err
	}
	if mint == "" && m.minted != "" && m.minted == m.Key {
		// Queued before under the key the Bot gave it.
		b.skipSend(ctx, m)
		return nil
	}
	if mint != "" {
		m.Key, m.minted = mint, mint
	}
	if m.Handoff && m.queued.IsZero() {
		m.queued = time.Now()
	}
	err := b.queue(ctx, po, m)
	if err != nil {
		m.minted = ""
		if errors.Is(err, ErrBusy) {
			// Accepted from a handler or a job, but neither the lane nor
			// the Broker took it: it must not vanish.
			// The *DeliveryError names the letter and wraps ErrBusy.
			return b.out.deadLetter(ctx, po, m, 0, err)
		}
	}
	return err
}

// queue hands m to the broker or to its platform's outbox lane.
func (b *Bot) queue(ctx context.Context, po *platformOut, m *Message) error {
	if b.feed.wants(EventQueued) {
		// Before the push, so that the delivery's events come after it.
		b.event(EventQueued, m, nil)
	}
	var traced bool
	if b.tracer != nil {
		sc := b.traceQueued(ctx, m)
		traced = sc.IsValid()
		if traced && b.cfg.broker == nil {
			b.queuedTrace(m, sc)
		}
	}
	if br := b.cfg.broker; br != nil {
		// A Broker stores the trace context of ctx with m.
		if err := br.Outbound(ctx, m); err != nil {
			return wrap("bot: send", err)
		}
	} else if err := po.lanes.push(ctx, m); err != nil {
		if traced {
			b.traces.Delete(m)
		}
		return wrap("bot: send", err)
	}
	b.stats.queued.Add(1)
	return nil
}

// skipSend counts m, an outbound message not sent because its key was
// delivered before.
func (b *Bot) skipSend(ctx context.Context, m *Message) {
	b.stats.sendSkipped.Add(1)
	b.event(EventSkipped, m, nil)
	b.logger.LogAttrs(ctx, slog.LevelDebug, "outbound key already delivered", slog.Any("msg", m))
}

// Handoff makes humans the owners of a conversation: only observer routes
// run for it and bot messages to it are suppressed. When the platform has
// its own switch (an OwnerController adapter, such as Sendbee's chatbot
// activity) it is turned off first; if that fails nothing changes.
func (b *Bot) Handoff(ctx context.Context, platform, conversation string) error {
	return b.setOwner(ctx, platform, conversation, OwnerHuman)
}

// Resume gives a conversation back to the bot, mirroring the change to the
// platform's switch like Handoff.
func (b *Bot) Resume(ctx context.Context, platform, conversation string) error {
	return b.setOwner(ctx, platform, conversation, OwnerBot)
}

// Owner returns who owns a conversation as the Bot records it.
func (b *Bot) Owner(ctx context.Context, platform, conversation string) (Owner, error) {
	if _, ok := b.adapters[platform]; !ok {
		return OwnerUnset, unknownPlatform("bot: owner", platform)
	}
	o, _, err := b.own.get(ctx, platform, conversation)
	return o, err
}

func (b *Bot) setOwner(ctx context.Context, platform, conversation string, who Owner) error {
	a, ok := b.adapters[platform]
	if !ok {
		return unknownPlatform("bot: set owner", platform)
	}
	if oc, ok := a.(OwnerController); ok {
		if err := oc.SetOwner(ctx, conversation, who); err != nil {
			return errtext.Wrap(fmt.Sprintf("bot: set owner of %s/%s to %s", platform, conversation, who), err, saidBy(platform)...)
		}
	}
	return b.recordOwner(ctx, platform, conversation, who, "application")
}

// recordOwner stores a change of owner and counts and logs it.
func (b *Bot) recordOwner(ctx context.Context, platform, conversation string, who Owner, source string) error {
	if err := b.own.set(ctx, platform, conversation, who, time.Now()); err != nil {
		return err
	}
	b.countOwnerChange(ctx, platform, conversation, who, source)
	b.logger.LogAttrs(ctx, slog.LevelInfo, "conversation owner changed",
		slog.String("platform", platform), slog.String("conversation", conversation),
		slog.String("owner", who.String()), slog.String("source", source))
	return nil
}

// countOwnerChange counts a change of owner and tells the hook and the
// feed.
func (b *Bot) countOwnerChange(ctx context.Context, platform, conversation string, who Owner, source string) {
	if b.feed.wants(EventOwnerChanged) {
		b.feed.emit(&Event{Type: EventOwnerChanged, Platform: platform, Conversation: conversation,
			Owner: who.String(), Reason: source})
	}
	if who == OwnerHuman {
		b.stats.handoffs.Add(1)
	} else {
		b.stats.resumes.Add(1)
	}
	if h := b.cfg.hooks.OwnerChanged; h != nil {
		h(ctx, platform, who, source)
	}
}

// report logs err once at Error and passes it to the error hook.
func (b *Bot) report(ctx context.Context, msg string, err error, attrs ...slog.Attr) {
	attrs = append(attrs, slog.Any("error", err))
	b.logger.LogAttrs(ctx, slog.LevelError, msg, attrs...)
	if b.cfg.onError != nil {
		b.cfg.onError(ctx, err)
	}
}

// Run starts the workers, the outbox, the adapters and the scheduler, and
// blocks until ctx is cancelled, an adapter fails, or every adapter has
// returned (the console adapter returns at end of input).
//
// Then it shuts down in order: adapters stop (intake ends; Publish returns
// ErrClosed), the queued and in-flight messages are handled, scheduled jobs
// finish, and the outbox delivers what is queued — all within the shutdown
// timeout. Past it, handler contexts are cancelled, messages still queued are
// abandoned (their dedup entries removed, so a platform that redelivers gets
// them handled) and undelivered outbound messages go to the dead-letter
// list. No goroutine started by Run outlives it. With a [Broker], see
// [WithBroker] for what is left to the next run.
//
// Run returns nil after a shutdown caused by ctx or by the adapters
// finishing, and the first adapter error otherwise. It returns ErrClosed when
// called a second time.
func (b *Bot) Run(ctx context.Context) error {
	if !b.state.CompareAndSwap(0, 1) {
		return ErrClosed
	}
	defer b.state.Store(2)
	defer b.feed.end()
	if b.tracer != nil {
		// The Router reports routes to the handle span (see routed).
		watchers.Add(1)
		defer watchers.Add(-1)
	}
	// Everything Run starts reaches the Bot's logger through its context
	// (LoggerOf): one value, not one per message.
	ctx = context.WithValue(ctx, loggerKey{}, b.cfg.logger)

	// hard is the context of handlers and deliveries: it survives ctx's
	// cancellation and is cancelled only when the shutdown deadline passes.
	hard, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()

	br := b.cfg.broker
	var workers sync.WaitGroup
	if br == nil { // with a Broker, its consumers are the workers
		for _, q := range b.in.ch {
			workers.Add(1)
			go func() {
				defer workers.Done()
				w := newWorker(hard, b.cfg.handlerTimeout)
				defer w.close()
				for m := range q {
					if hard.Err() != nil {
						b.abandon(m)
						continue
					}
					b.handle(w, w.hard, m, false)
				}
			}()
		}
	}
	var senders sync.WaitGroup
	if br == nil {
		b.out.start(hard, &senders)
	}

	adCtx, adCancel := context.WithCancel(ctx)
	defer adCancel()
	var (
		adapters sync.WaitGroup
		failOnce sync.Once
		failure  error
	)
	consumeCtx, stopConsume := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConsume()
	consumed := make(chan struct{})
	pl := &Pipeline{b: b, hard: hard}
	if br != nil {
		go func() {
			defer close(consumed)
			err := br.Consume(consumeCtx, pl)
			if err != nil && consumeCtx.Err() == nil {
				failOnce.Do(func() {
					failure = wrap("bot: broker", err)
					adCancel()
				})
			}
		}()
	} else {
		close(consumed)
	}
	for _, a := range b.order {
		adapters.Add(1)
		go func() {
			defer adapters.Done()
			err := a.Run(adCtx, b)
			if err != nil && adCtx.Err() == nil {
				failOnce.Do(func() {
					// The adapter's errors start with its name: said once.
					failure = errtext.Wrap("bot: adapter "+a.Name(), err, saidBy(a.Name())...)
					adCancel()
				})
			}
		}()
	}
	adaptersDone := make(chan struct{})
	go func() { adapters.Wait(); close(adaptersDone) }()
	stopBackground := b.startBackground(adCtx)

	b.sched.start(ctx, b)
	stopSweep := b.startOwnerSweep(adCtx)
	defer stopSweep()
	b.logger.LogAttrs(ctx, slog.LevelInfo, "bot started", slog.Int("adapters", len(b.order)), slog.Int("workers", len(b.in.ch)))

	select {
	case <-adCtx.Done():
	case <-adaptersDone:
	}
	// Every adapter returned by itself, nothing cancelled them: their input
	// has ended, and what they gave the Bot is to be answered.
	finishing := adCtx.Err() == nil

	// Shutdown.
	b.logger.LogAttrs(ctx, slog.LevelInfo, "bot stopping")
	adCancel()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.shutdownTimeout)
	defer cancel()
	waitOrHard := func(done <-chan struct{}, what string) {
		select {
		case <-done:
		case <-sctx.Done():
			b.logger.LogAttrs(ctx, slog.LevelWarn, "shutdown timeout: cancelling "+what)
			hardStop()
			<-done
		}
	}
	waitOrHard(adaptersDone, "adapters")
	waitOrHard(stopBackground(), "background tasks")
	if br != nil {
		// Stop consuming: the messages in hand are finished, the rest stay
		// in the Broker, unless the Bot is finishing: then the Broker first
		// drains what it stored, as the in-memory queues are drained. Jobs
		// stop first, as their sends need no consumer.
		if err := b.sched.stop(sctx); err != nil {
			b.logger.LogAttrs(ctx, slog.LevelWarn, "scheduled jobs still running at shutdown", slog.Any("error", err))
		}
		pl.finish.Store(finishing)
		stopConsume()
		waitOrHard(consumed, "handlers and deliveries")
		b.logger.LogAttrs(ctx, slog.LevelInfo, "bot stopped")
		return failure
	}
	b.in.close()
	waitOrHard(waitChan(&workers), "handlers")
	if err := b.sched.stop(sctx); err != nil {
		b.logger.LogAttrs(ctx, slog.LevelWarn, "scheduled jobs still running at shutdown", slog.Any("error", err))
	}
	b.out.close()
	waitOrHard(waitChan(&senders), "deliveries")
	b.logger.LogAttrs(ctx, slog.LevelInfo, "bot stopped")
	return failure
}

// waitChan returns a channel closed when wg is done. The goroutine it starts
// ends with wg.
func waitChan(wg *sync.WaitGroup) <-chan struct{} {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	return c
}

// dispatch runs the router for m, turning a panic into a *HandlerError.
func (b *Bot) dispatch(d *delivery, m *Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &HandlerError{Platform: m.Platform, Conversation: m.Conversation, MessageID: m.ID,
				Panic: p, Stack: debug.Stack(), Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	err = b.Router.HandleMessage(d, d, m)
	if err != nil && !errors.Is(err, ErrContinue) {
		return &HandlerError{Platform: m.Platform, Conversation: m.Conversation, MessageID: m.ID, Err: err}
	}
	return nil
}

// abandon drops a queued inbound message at a hard shutdown and forgets its
// ID so that a redelivery is handled.
func (b *Bot) abandon(m *Message) {
	if b.tracer != nil {
		b.traces.Delete(m)
	}
	b.logger.LogAttrs(context.Background(), slog.LevelWarn, "message abandoned at shutdown", slog.Any("msg", m))
	if m.ID != "" {
		_ = b.keys.Delete(context.Background(), "dedup:"+m.Platform+":"+m.ID)
	}
}

// applyOwnership applies the platform's ownership signal carried by m and
// the idle timeout, and returns who owns m's conversation now. The
// decision is taken on the stored owner and written back with the
// ownership's update, which re-reads and decides again when another
// process changed the owner in between. When m's platform switch can be
// read, a signal that would change the owner is left to reconcile, which
// also reads the switch of a human-owned conversation.
func (b *Bot) applyOwnership(ctx context.Context, m *Message) Owner {
	// The clock is read only where humans own or take over.
	var now time.Time
	clock := func() time.Time {
		if now.IsZero() {
			now = time.Now()
		}
		return now
	}
	var source string
	checked := b.own.checks.reader(m.Platform) != nil
	prev, next, err := b.own.update(ctx, m.Platform, m.Conversation, clock, func(cur Owner, last time.Time) (Owner, bool) {
		signal := m.Owner
		if checked && signal != cur {
			signal = OwnerUnset // the platform's switch decides: see reconcile
		}
		switch {
		case signal == OwnerHuman:
			// A human took over on the platform; this also refreshes activity.
			source = "platform"
			return OwnerHuman, true
		case signal == OwnerBot && cur == OwnerHuman:
			source = "platform"
			return OwnerBot, true
		case cur == OwnerHuman && b.own.idleExpired(last, clock()):
			source = "idle timeout"
			return OwnerBot, true
		case cur == OwnerHuman:
			source = ""
			return OwnerHuman, true // refresh the activity time
		}
		return cur, false
	})
	if err != nil {
		if prev == OwnerUnset {
			b.report(ctx, "ownership lookup failed; treating the conversation as bot-owned", err, slog.Any("msg", m))
			return OwnerBot
		}
		b.report(ctx, "record owner failed", err, slog.Any("msg", m))
		if m.Owner == OwnerHuman {
			return OwnerHuman
		}
		return prev
	}
	if prev != next {
		if source == "idle timeout" {
			if oc, ok := b.adapters[m.Platform].(OwnerController); ok {
				if err := oc.SetOwner(ctx, m.Conversation, OwnerBot); err != nil {
					b.report(ctx, "mirror idle resume to platform failed", err, slog.Any("msg", m))
				}
			}
		}
		b.countOwnerChange(ctx, m.Platform, m.Conversation, next, source)
		b.logger.LogAttrs(ctx, slog.LevelInfo, "conversation owner changed", slog.Any("msg", m),
			slog.String("owner", next.String()), slog.String("source", source))
	}
	return b.reconcile(ctx, m, next)
}
