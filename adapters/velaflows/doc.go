// Package velaflows connects Parley to VelaFlows, an omnichannel inbox and
// CRM, and is a complete Go client for its public API.
//
// # The API client
//
// [Client] covers the operations of the VelaFlows API: conversations
// (list, get, update, assign, send and list messages), CRM leads (list,
// get, create, update, delete, and [Client.ExportLeadsCSV]), customers,
// tags and webhook subscriptions. Every request carries the Bearer token and
// the x-workspace-id header, which NewClient reads from VELAFLOWS_API_TOKEN
// and VELAFLOWS_WORKSPACE_ID when the Config leaves them empty. Every method
// takes a context first and returns its typed result, a [*Response] (raw
// body, pagination, rate-limit headers) and an error: an [*APIError]
// carrying VelaFlows' error code ([IsCode] branches on it), a
// [*bot.RateLimitError] for HTTP 429, or a [*ValidationError] for input
// rejected before any request. List calls return a [Page] and have an All…
// iterator over every page. Retries are opt-in ([RetryPolicy]) and only for
// idempotent calls.
//
// # The bot adapter
//
// [Adapter] is a bot.Adapter and an http.Handler for VelaFlows webhook
// deliveries. Mount it at [WebhookPath] on your server and register it:
//
//	vf, err := velaflows.New(velaflows.AdapterConfig{WebhookSecret: os.Getenv("VELAFLOWS_WEBHOOK_SECRET")})
//	mux.Handle("POST "+velaflows.WebhookPath, vf)
//	_, err = vf.EnsureWebhook(ctx, os.Getenv("PARLEY_PUBLIC_URL"))
//	b, err := bot.New(bot.WithAdapters(vf))
//
// Deliveries are verified (X-Webhook-Signature, HMAC-SHA256 of the raw
// body) before anything is parsed, refused when their signed timestamp is
// missing, older than the redelivery window or ahead of the clock (see
// [Adapter.ServeHTTP]), and deduplicated on their eventId, which VelaFlows
// keeps across its redeliveries for 24 hours. Serve the Adapter from an
// http.Server with read and idle timeouts, as package adapters/fromenv
// does: the signature is over the whole body, which must be read before it
// can be checked. Both spellings of the event names are accepted
// ("conversation.message.received" in VelaFlows' Python examples,
// "inbox.message.received" in the docs; see [CanonicalEvent]).
//
// Customer messages become KindMessage with the conversation ID as
// Conversation and the sender (name, phone or email) as Author; messages
// from agents, bots and the system are ignored, so the bot never answers
// itself. Assignment to an agent becomes KindAssignment with Owner set to
// OwnerHuman; unassignment and closing give the conversation back to the
// bot. A lead's stage change arrives as KindEvent with Conversation
// "lead:<id>". Message.Raw is the delivery's JSON body. Replies are posted
// to the conversation as {"content": text, "type": "text"}; the Bot paces
// them to VelaFlows' write budget of 100 per token per 15 minutes. The
// Adapter is also a bot.Confirmer: after a crash between a send and its
// record, [Adapter.Delivered] looks for the reply among the conversation's
// newest messages, so that the outbox does not post it twice.
//
// # Testing
//
// Package velaflowstest is an emulator of the VelaFlows API and its webhook
// deliveries for tests and local runs (`parley sim velaflows`).
package velaflows
