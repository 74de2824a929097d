// Package flow holds conversations: multi-turn flows that ask a question,
// wait for the answer, check it, remember it and move on, durable across
// restarts and shared across replicas.
//
// A [Flow] is a named sequence of [Step]s. An [Engine] runs flows for one
// Bot: register actions ([Engine.RegisterAction]), define flows
// ([Engine.Define], which refuses bad definitions at once: unknown or
// duplicate steps, unreachable steps, loops with no exit, unregistered
// actions), install it ([Engine.Install]), run the Bot, and start flows
// from handlers, rules or scheduled jobs ([Engine.Start],
// [Engine.StartFrom]). Routes marked with [Engine.Global] (help, agent,
// stop) are tried before a waiting flow.
//
// # State
//
// A conversation's flow is one record in the Store under
// "flow:<platform>:<conversation>": the flow, the run, the step, the
// attempts, the values (JSON that keeps each value's type), when the step
// was asked, whether its reminder went out, and what the last advance owes
// (its messages and action calls, see below). A record is at most
// [MaxStateSize] bytes (an answer that would exceed it is refused as too
// long; another advance that would fails and changes nothing) and expires after the flow's TTL ([DefaultTTL] unless set),
// counted again from every advance; an ended run's record is kept an hour
// for redeliveries, then expires.
//
// Every advance is a read-decide-write: with a bot.RevisionStore (the
// JetStream store is one) the write is conditional on the revision read,
// and a conflict (another replica advanced the conversation meanwhile) makes
// the engine read again and decide on the newer state. With a Store
// without revisions (the MemoryStore) the record carries a version that
// the write compares with the stored one, under a lock held only for that
// compare and write (never while a Check, a Condition or an action runs),
// shared by the Engines of the process: this is safe within one process
// only, and replicas must share a RevisionStore.
//
// # Exactly once
//
// The Bot's deduplication hands an inbound event to one handler once; what
// remains is a redelivery after a crash in the middle of the handling
// (with a durable Broker). Each advance records the ID of the event that
// made it, and the messages and action calls it owes. When an event whose
// ID is recorded comes again, the engine does not advance: it does again
// what the advance owes; an event that made one of the run's last eight
// advances but not the last changes nothing. What an advance owes is
// done under keys:
//
//   - messages (questions, re-asks, reminders, the closing message) are
//     sent with the idempotency key "flow:<run>:<advance>:<what>", so the
//     outbox delivers each once;
//   - action calls carry ActionCall.Key, "flow:<run>:<advance>:act:<n>"
//     (or "done:<n>" for OnDone), and are recorded done in the state once
//     they return nil. An action may therefore run more than once with the
//     same key (a crash after it did its work and before the record was
//     written): actions are at least once, with a key that the platform
//     actions pass on as their idempotency key. A failing call is tried
//     again with the next events of the conversation, three tries in
//     total, before the flow goes on without it; the flow's next question
//     waits for the step's calls, and the closing message for the OnDone
//     calls (which the next message finishes after the flow ended, before
//     it goes on to the other routes).
//
// A flow started by a handler with StartFrom is named after the event, so
// that a redelivered event does not start it twice.
//
// # Timers
//
// A step's reminder and timeout are deadlines derived from the state (the
// time the step was asked). Since a Store cannot be scanned, the engine
// keeps an index of the conversations that have a timer, by the second it
// is due ("flow-due:<unix second>:<shard>", 4 keys a second, each a JSON
// list of at most 32 entries changed by compare-and-set, which a burst of
// timers due in the same second continues in overflow keys
// "flow-due:<unix second>:<shard>:<n>"), with, for each, a due time never
// later than its next deadline: the message path only adds entries when a
// deadline comes earlier, before writing the state, so that a crash
// leaves an early entry rather than a missing one. While the Bot runs
// (bot.Bot's Background), every replica's engine reads, every second
// ([WithSweepInterval]), the seconds that came due since it last read;
// for a due entry it reads the state, and either moves the entry (the
// step was answered, the flow paused or ended) or publishes a [TimerKind]
// event into the Bot with the ID "flow-timer:<run>:<advance>:<remind|timeout>".
// The Bot's deduplication (shared by replicas through the Store or the
// Broker) lets one of the replicas' identical events through, and it is
// handled in the conversation's order like a message: the engine reads
// the state again and sends the reminder or follows the timeout only if
// it is still due, as an advance like any other, which the state records
// until its messages and calls are done. Timers do not fire while a flow
// is paused.
//
// Firing is at least once, its effect once: a timer whose handling failed
// (a Store error, a prompt that could not be built, a process that died
// with the event in memory) is still due, or still recorded as not done,
// when the sweep comes back to it 30 seconds later, and it publishes the
// timer again as a new attempt (":<attempt>" appended to the ID), then
// after twice as long, and so on, eight attempts in all (about two hours)
// before it gives up with an error in the log. Once a minute, a sweep
// reads again the seconds since the last one the replicas marked swept
// ("flow-swept"), so that a Bot that was stopped catches up, and marks
// them swept.
//
// [Engine.Active] reads a separate list of the conversations with a flow
// ("flow-active:<n>", 256 keys, conversations spread by hash), written
// when a flow starts and ends; each entry carries an expiry later than its
// state's, and the entries of runs that expired are dropped by the next
// write of their key.
//
// # Interruptions and handoffs
//
// The engine's route has [Priority]; routes with [Engine.Global] have
// [GlobalPriority] and are tried first. After such a route handled a
// message of a conversation whose flow waits, the flow asks its question
// again ([PauseOnInterrupt]) or is cancelled ([CancelOnInterrupt]); a
// handler that hands off or cancels the flow itself is left to. A handoff
// (a reply with Handoff, Bot.Handoff, or a flow going to [HandOff]) pauses
// the flow: while a human owns the conversation the engine's route, an
// observer, only marks the flow paused. A flow going to HandOff says its
// messages first, then hands off; a handoff the Bot could not make (the
// platform refused it) is owed, and the next event of the conversation
// tries it again rather than taking the flow back. When the conversation is the
// bot's again (an ownership or assignment event, or the next message), the
// flow asks its question again ([ResumeAfterHandoff]) or ends
// ([EndAfterHandoff]).
package flow
