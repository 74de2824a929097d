// Package sendbee connects Parley to Sendbee (now sold as AI Number), a
// WhatsApp Business team inbox with its own chatbot, and is a complete Go
// client for its public API v2.
//
// # The API client
//
// [Client] covers every operation of Sendbee's API: contacts (list, subscribe,
// update), contact tags and contact fields, conversations and their
// messages, message templates, template and free-form sends, teams and
// members, the chatbot switch and its status, and the rate-limit test calls.
// Every method takes a context first and returns its typed result, a
// [*Response] (raw body, warning, pagination, rate-limit headers) and an
// error: an [*APIError], a [*bot.RateLimitError] for HTTP 429 (with the
// Retry-After), or a [*ValidationError] for input rejected before any
// request. List calls return a [Page] and have an All… iterator over every
// page. Requests carry X-Api-Key and a fresh X-Auth-Token signed with the
// API secret ([Token]); webhook tokens are checked with [CheckToken].
//
// # The bot adapter
//
// [Adapter] is a bot.Adapter and an http.Handler: mount it on your server
// at the URL you register in the Sendbee dashboard, and give it to the Bot:
//
//	sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
//		APIKey: os.Getenv("SENDBEE_API_KEY"), APISecret: os.Getenv("SENDBEE_API_SECRET"),
//	}})
//	mux.Handle("POST /webhooks/sendbee", sb)
//	b, err := bot.New(bot.WithAdapters(sb))
//
// Customer messages become bot.Messages whose Conversation is the Sendbee
// conversation ID and whose Author carries the contact's ID, name and
// phone; media become Attachments. A dashboard agent's message arrives as a
// KindMessage from an Author with Agent set and makes the conversation
// human-owned; a change of the platform chatbot arrives as KindOwnership;
// delivery receipts arrive as KindStatus with the receipt's status as Text
// and the sent message's ID as Thread.
//
// Sendbee's chatbot semantics are kept exactly (see [Adapter]): bot replies
// go out with prevent_bot_off=true, Handoff replies without it, and
// Bot.Handoff/Resume switch the platform chatbot through
// PUT /automation/chatbot/activity. The platform's chatbot switch is the
// authority on who answers: the Bot reads it (GET
// /automation/chatbot/activity/status) before it applies a webhook's
// report that an agent took over or that the chatbot is on again, when a
// customer writes in a conversation it records as human-owned, and in a
// periodic sweep (bot.WithOwnerRecheck, bot.WithOwnerSweep). So the
// ownership story works with message.received alone, the one webhook type
// Sendbee names, and a forged webhook neither silences the bot nor makes it
// talk over an agent.
//
// The Adapter is also a bot.Confirmer: after a send whose connection broke
// once the request was written, or a crash between a send and its record,
// [Adapter.Delivered] looks for the message among the conversation's
// newest outbound messages, so that the outbox does not send it twice. It
// cannot tell for a template (Sendbee stores the rendered text), which then
// goes to the dead letters rather than out a second time.
//
// Message.Raw is the webhook's JSON body. Sendbee does not publish its
// webhook payloads; the shapes this package reads are documented in
// convert.go and produced by the emulator in package sendbeetest, and they
// are read in one function so that the real format can replace them in one
// place. Note that Sendbee's webhook token signs a timestamp, not the body:
// it proves the sender knows the secret, and a captured token stays valid
// for the token window.
//
// # Testing
//
// Package sendbeetest is an emulator of the Sendbee API and its webhooks
// for tests and local runs (`parley sim sendbee`).
package sendbee
