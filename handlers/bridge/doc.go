// Package bridge mirrors each customer conversation (Sendbee, VelaFlows)
// into its own thread of a team conversation (a Flowdock flow), and sends
// what the team's agents write in that thread back to the customer, taking
// the conversation over from the bot:
//
//	fd, _ := flowdock.New(…)
//	sb, _ := sendbee.New(…)
//	b, _ := bot.New(bot.WithAdapters(sb, fd))
//	err := bridge.Handler{Team: bridge.Team{Conversation: supportFlowID}}.Install(b)
//
// # Customer to team
//
// The first chat message of a customer conversation starts a new thread in
// the team flow with a top-level message such as
//
//	[sendbee] Ana Horvat (+385911234567): Is the shop open today?
//
// ([DefaultFormat]; set Handler.Format to change it). Every later message of
// that conversation goes into the same thread. Messages are mirrored
// whoever owns the conversation, because the customer route is a
// [bot.Observer]: the team sees the customer while the bot answers, and
// while an agent does. The route returns [bot.ErrContinue], so the bot's
// own routes still answer the customer when the bot owns the conversation.
// Only customers' chat messages are mirrored: not platform events, not
// messages of the platform's own agents or bots, and not the bot's replies.
//
// Flowdock starts a thread for every top-level message and says its id
// only in the answer to the post. The Bot's outbox sends asynchronously and
// reports nothing to handlers, so that one post per conversation is made
// synchronously by a [ThreadStarter] (by default [NewFlowdockStarter] on the
// Flowdock adapter's own client), outside the outbox: it has no outbox
// retries. If it fails, the failure is logged, the message is not mirrored,
// and the next message of the conversation tries again. The later messages
// go through the outbox like any reply (w.Send, with Message.Thread set).
//
// # Team to customer
//
// A message a person writes in a mapped thread is sent to the customer
// conversation, through the outbox, and makes the conversation
// human-owned: the first such message calls [bot.Bot.Handoff] (on Sendbee
// that switches the platform chatbot off) and posts a notice in the thread.
// From then on only observer routes run for the customer and the bot's own
// messages to them are suppressed, while the agents' words still go out:
// they are marked Relay ([bot.Message.Relay]), which the outbox delivers to
// human-owned conversations. Handoff comes first, so that no bot reply can
// slip in between; on Sendbee the relay is an ordinary API send
// (prevent_bot_off=true), which leaves the chatbot off.
//
// "/bot" or "/resume" in the thread gives the conversation back to the bot
// ([bot.Bot.Resume], which switches the Sendbee chatbot on again). Other
// messages starting with "/" are commands for the bot and are never sent to
// the customer; they go on to the bot's other routes, as do messages of
// threads that mirror no conversation. Files and edits are not relayed
// (the thread gets a notice). The bot's own messages never go back: the
// Flowdock adapter drops its own echoes, and the bridge ignores authors
// marked Bot.
//
// # State
//
// The mapping is kept in the Store in both directions, as JSON, with no
// expiry:
//
//	bridge:thread:<platform>:<conversation> → {"flow": "<flow id>", "thread": "<thread id>"}
//	bridge:customer:<flow id>:<thread id>   → {"platform": "…", "conversation": "…"}
//
// A mapping into a flow other than the current Team.Conversation is
// ignored, so changing the team flow starts new threads.
//
// # Concurrency
//
// The Bot handles the messages of one conversation in order, so a
// customer conversation gets one thread. Processes that share a Store and
// receive the same conversation at the same moment may each start a
// thread; both threads reach the customer, and later messages go into the
// one linked first. All messages of the team flow are one conversation for
// the Bot, so agents' messages are handled one at a time, in order.
package bridge
