// Package bot is the core of Parley: the message bus, the router, the
// outbox and the scheduler that every Parley bot is made of.
//
// An [Adapter] connects one chat platform (Sendbee, VelaFlows, Flowdock,
// the console…). It converts each platform event into a [Message] and
// publishes it; the [Bot] deduplicates it, queues it for its conversation,
// decides who owns the conversation, and routes it through its [Router] to
// a [Handler]. Handlers answer through a [Sender]; the Bot's outbox delivers
// the answers through the adapter, with idempotency keys, rate limits,
// retries and a dead-letter list:
//
//	con, err := console.New(console.Config{})
//	if err != nil { … }
//	b, err := bot.New(bot.WithAdapters(con))
//	if err != nil { … }
//	b.Handle(bot.Command("ping"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
//		return w.Send(ctx, m.Reply("pong"))
//	}), bot.Help("ping", "answer pong"))
//	err = b.Run(ctx)
//
// # Routing
//
// A [Router] holds routes: a [Rule] that decides whether the route applies,
// a Handler, and options ([Priority], [Observer], [Help], per-route
// [Middleware]). Routes are tried in priority order, then registration
// order; the first match wins unless its handler returns [ErrContinue]; a
// message no route handles goes to the NotFound handler. Rules are small
// values: [Command], [Prefix], [Regexp], [Platform], [OfKind], [Direct],
// [All], [Any], [Not], and [Expr] for expressions in the expr-lang
// language, compiled once against [Env]. The router indexes the rules'
// literal strings, platforms and kinds so that a thousand rules cost a few
// microseconds per message.
//
// # Ownership
//
// Each conversation is owned by the bot or by humans. While humans own it,
// only [Observer] routes run and every bot message to it is suppressed (and
// counted in [Stats]). It changes hands when a reply with Handoff is
// delivered, when the application calls [Bot.Handoff] or [Bot.Resume]
// (mirrored to a platform that has its own switch, an [OwnerController]),
// when an inbound event carries an ownership signal ([Message.Owner]), and
// after [WithIdleTimeout] of silence. When the platform's switch can be
// read (an [OwnerController]), it is the authority: a signal that would
// change the owner is applied only once a reading of the switch agrees (an
// event may be forged or stale), a message in a human-owned conversation
// makes the Bot read the switch ([WithOwnerRecheck]), and a sweep reads the
// human-owned conversations periodically ([WithOwnerSweep]), so that a
// conversation the platform handed back to its automation returns to the
// bot even when no event says so. These readings are paced with the sends
// ([Pacer]). The outbox re-checks ownership right before each delivery. A message marked [Message.Relay] (a human's words
// the bot carries, such as an agent's answer bridged from a team chat) is
// delivered to a human-owned conversation all the same.
//
// # Concurrency
//
// Inbound messages are sharded over a fixed number of workers by a hash of
// platform and conversation ([WithWorkers]). Messages of one conversation
// are handled one at a time, in the order Publish accepted them; different
// conversations are handled in parallel. A slow handler delays only the
// conversations that share its worker, and for at most the handler timeout
// ([WithHandlerTimeout]). Queues are bounded ([WithQueueSize]): when one is
// full, Publish blocks until its context ends and then fails with [ErrBusy],
// which webhook adapters answer with 503 and Retry-After so that the
// platform delivers again. Nothing is dropped silently.
//
// Outbound messages go through per-platform lanes, also sharded by
// conversation, so a conversation's replies keep their order. Every adapter
// call and store call may happen concurrently.
//
// # Delivery guarantees
//
// Each inbound event is handled at most once per Platform and ID within the
// deduplication window ([WithDedupTTL]); a redelivery is acknowledged and
// counted. Each outbound message has an idempotency key (the inbound event
// plus the reply index, the job name plus the fire time, or the caller's
// [Message.Key]); a key that was delivered is never sent again. Transient
// failures are retried with backoff and jitter, rate limits wait for the
// platform's Retry-After, and messages that cannot be delivered end in
// [Bot.DeadLetters], from where [Bot.Replay] sends them again.
//
// # Shutdown
//
// Cancelling Run's context stops the adapters, then handles what is
// queued, lets running handlers finish (their contexts are not cancelled by
// the shutdown), stops the scheduler and drains the outbox, all within
// [WithShutdownTimeout]. No goroutine started by Run outlives it.
//
// # Logging
//
// One logger, given with [WithLogger], reaches everything the Bot runs: the
// router, workers, outbox and scheduler log to it, and New hands it to
// every adapter, store and broker that implements [LoggerSetter] and was
// not configured with a logger of its own (an explicit Config.Logger
// wins). Handlers, middleware and scheduled jobs reach it through their
// context with [LoggerOf]. Without WithLogger, the Bot logs warnings and
// errors only, as text on standard error (a handler of its own, which
// slog.SetDefault(b.Logger()) may make slog's default), so that a bot on
// the terminal shows its chat, not its lifecycle; set a logger at Info or
// Debug to see that. Records never
// carry message text or payloads.
//
// # Tracing
//
// With [WithTracerProvider] the Bot traces its work with OpenTelemetry:
// one trace per inbound event, from Publish (a child of the span in its
// context, such as an instrumented webhook server's) through ownership,
// routing and the handlers, whose context carries the handle span, to the
// delivery of each reply and each attempt to send it. The trace goes
// with the message through a [Broker] too, so that a message handled by
// another replica continues it. Spans carry identifiers (platform,
// conversation, event ID, kind, key, route), never message text. Without
// a provider, tracing costs nothing.
//
// # Errors
//
// Errors carry the "bot: " prefix, and name each layer once: an adapter's
// error, which starts with the adapter's name, is wrapped without that
// name repeated ("bot: adapter flowdock: who am I: GET /user: 401
// Unauthorized"). Callers branch with errors.Is on
// [ErrClosed], [ErrBusy], [ErrUnknownPlatform] and [ErrNotFound], and with
// errors.As on [*RateLimitError], [*HandlerError] and [*DeliveryError].
// Misuse at registration time (a nil handler, a route added after the
// router started) panics; input that may come from configuration
// (expressions, cron specs) returns errors. The Bot logs each error once.
package bot
