// Package sendbeetest is an emulator of the Sendbee (AI Number) public API
// v2 and of its webhooks, for testing Sendbee clients and bots without the
// network. It was written from the API as Sendbee's public Python and PHP
// client libraries and their READMEs show it, shares no code with any
// client, and imports only the standard library.
//
//	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(bot.URL))
//	// point the client at s.URL() with s.APIKey() and s.APISecret()
//	conv, _ := s.CustomerMessage("+385911234567", "Ana", "Is the shop open?")
//	sent := s.WaitSent(t, 1)   // what the bot answered through the API
//	active := s.ChatbotActive(conv)
//
// [NewServer] serves the API under the path prefix "/api" (so that a client
// that builds absolute paths fails loudly) and closes itself when the test
// ends. [Start] runs the emulator on a real address, with the API at the
// root, for trying a bot by hand (parley sim sendbee).
//
// # Endpoints
//
// Every path of the public API, under [Server.URL]:
//
//	GET    /contacts                          tags, status, search_query, page, limit
//	PUT    /contacts                          id; phone, whatsapp_user_id, name, tags, notes, contact_fields, block_notifications
//	POST   /contacts/subscribe                phone; whatsapp_user_id, name, tags, notes, contact_fields, block_notifications, block_automation
//	GET    /contacts/tags                     name, page, limit
//	POST   /contacts/tags                     name
//	PUT    /contacts/tags                     id, name
//	DELETE /contacts/tags                     id (JSON body)
//	GET    /contacts/fields                   search_query, page, limit
//	POST   /contacts/fields                   name, type (text|number|list|date|boolean); options (required for list)
//	PUT    /contacts/fields                   id; name, type, options
//	DELETE /contacts/fields                   id (JSON body)
//	GET    /conversations                     folder (open|done|spam|notified), search_query, date_from, date_to, page, limit
//	GET    /conversation                      conversation_id
//	POST   /conversation                      conversation_id, folder (open|done)
//	GET    /conversations/messages            conversation_id, page, limit
//	GET    /conversations/messages/templates  status (pending|approved|rejected), search_query, page, limit; approved (deprecated)
//	POST   /conversations/messages/templates/send  phone|whatsapp_user_id, template_keyword, language; tags, button_tags, attachment, prevent_bot_off, agent_id, live_inbox
//	POST   /conversations/messages/send       phone|whatsapp_user_id, text and/or media_url; prevent_bot_off, agent_id, live_inbox
//	GET    /teams/teams                       member_id, page, limit
//	GET    /teams/members                     team_id, page, limit
//	PUT    /automation/chatbot/activity       conversation_id, active
//	GET    /automation/chatbot/activity/status  conversation_id
//	GET    /rate-limit/error-test             always 429
//	GET    /rate-limit/request-test           a normal, counted request
//
// Request and response field names are Sendbee's, literally. GET
// parameters are read from the query string; POST, PUT and DELETE
// parameters from a JSON object body (Content-Type application/json, at most
// 1 MiB). Every send to a phone number without a contact creates the
// contact and its conversation, as does [Server.CustomerMessage].
//
// # Faithful to Sendbee
//
//   - Authentication: X-Api-Key must be the key, X-Auth-Token must be
//     standard, canonical Base64 of "<decimal unix seconds>.<lowercase hex
//     HMAC-SHA256(secret, seconds)>", not older than the token window (15
//     minutes) nor more than 60 seconds in the future, compared in constant
//     time. Any failure is 401 {"error":{"detail":"…","type":"authentication_error"}}
//     (the type string is invented: Sendbee documents neither its error
//     types nor the status of an authentication failure). The order of
//     checks is: 404 for an unknown path, 401, 405 (with Allow), 429, 415,
//     then the endpoint.
//   - Envelope: {"data","meta","links","warning"}; single-item
//     endpoints return data as an object, deletes and the chatbot switch
//     data {"message"}; warning is absent unless there is one.
//   - Pagination: 1-based page, limit capped at 100 (with a warning), default
//     page size 10 ([WithPageSize]); meta has current_page, last_page,
//     per_page, total, from and to (from and to are 0 on an empty page);
//     links has first, last, prev and next (null at the ends) as absolute
//     URLs that keep the other parameters. A page past the end is 200 with
//     data [] and current_page set to the requested page.
//   - Errors: {"error":{"detail","type"}} with type validation_error (400),
//     not_found (404: unknown IDs, unknown paths), method_not_allowed (405),
//     unsupported_media_type (415), request_too_large (413) and
//     server_error (injected faults).
//   - Rate limiting, as Sendbee documents it: 60 requests per minute for
//     the business, whatever the key ([WithRateLimit]), counted in a fixed
//     window that starts with the first counted request. Every API
//     response carries X-RateLimit-Limit, X-RateLimit-Remaining and
//     X-RateLimit-Reset (Unix time); 429 carries Retry-After in whole seconds and the flat body
//     {"detail":"Request was throttled. Expected available in N seconds.","error":true,"type":"throttled"}.
//     Only authenticated requests count.
//   - Chatbot ownership, per conversation, as Sendbee documents it: an API
//     send with "prevent_bot_off": true leaves chatbot_active unchanged; a
//     send without it, or with false, sets it false; an agent's reply from
//     the dashboard ([Server.AgentReply]) sets it false; PUT
//     /automation/chatbot/activity sets it to "active". An inbound customer
//     message leaves it unchanged (not documented; assumed). The state
//     shows on every conversation object, on the status endpoint and in
//     webhooks. Conversations created while the server runs start with
//     chatbot_active true ([WithChatbotDefault]).
//   - Templates can be sent only when approved, in an existing language,
//     with a value for every body placeholder in "tags" and every button
//     placeholder in "button_tags", and with an attachment URL of the
//     template's kind exactly when it has one.
//   - WhatsApp's 24-hour customer-service window (unless
//     [WithoutServiceWindow]):
//     a free-form send (POST /conversations/messages/send) is accepted
//     only within 24 hours of the customer's last message in the
//     conversation, by the business time ([Server.Now]); template sends
//     are accepted at any time and do not open the window. A recipient
//     who never wrote has no open window. Outside it the send is refused
//     and changes nothing:
//     400 {"error":{"detail":"outside the 24-hour customer service window: …","type":"re_engagement_required"}}
//     (the status and type are invented: Sendbee does not document how it
//     refuses such a send). The customer's last message time shows as
//     last_message.inbound_sent_at on conversations; [Server.WindowOpen]
//     and [Server.WindowClosesAt] read the window. Agent replies
//     ([Server.AgentReply]) are not checked. With [WithoutServiceWindow]
//     the window is not enforced.
//   - Contact status: a contact is "subscribed" or "unsubscribed"; POST
//     /contacts/subscribe subscribes it, and [Server.SetContactStatus] or
//     POST /_sim/contact changes it as the customer opting out or in
//     would. PUT /contacts takes "status" too (an assumption: Sendbee
//     documents the status as a contact field, not as one PUT /contacts
//     changes), as a bot does when a customer opts out with a keyword;
//     any other value is refused with 400. A template send to an
//     unsubscribed contact is refused and changes nothing:
//     400 {"error":{"detail":"contact … is unsubscribed; …","type":"contact_unsubscribed"}}
//     (the status and type are invented: Sendbee does not document this
//     refusal). A customer's message does not change the status, and
//     free-form replies to an unsubscribed contact are not refused.
//
// # Lenient query parsing
//
// Sendbee's Python client does not URL-encode GET values and always
// appends "?". The emulator therefore parses the raw query itself: a trailing
// "?" is fine; "%XX" escapes are decoded, a "%" that starts no escape is kept;
// a "+" is kept as a plus, so "search_query=+385911234567" finds the phone
// number. Text filters (search_query, name, tags) also try the
// form-encoding reading in which "+" is a space, so "search_query=Ana+Horvat"
// from a url.Values client still finds "Ana Horvat". Identifiers, numbers
// and enums use the literal reading. tags may be comma-joined ("tags=a,b"),
// repeated, or PHP-style ("tags[]=a", "tags[0]=a"). Tag filters match any of
// the given tags.
//
// # Warnings
//
// The server sets "warning" (and still succeeds) when contact_fields names
// a field that does not exist ("unknown contact field ignored: x"), when a
// subscribed phone already exists, when limit exceeds 100, when the
// deprecated "approved" template filter is used, when list options are sent
// for another field type, when a template send has values for unknown
// placeholders, and, as an aid against typos, for unknown query parameters
// ("unknown query parameter ignored: x") and unknown body fields ("unknown
// field ignored: x"). [Server.WarnNext] forces a warning on the next
// successful response. Several warnings are joined with "; ".
//
// # Webhooks
//
// Sendbee's webhook event names and payloads are not public.
// THE FOUR EVENT TYPES AND THEIR PAYLOADS BELOW ARE INVENTED by this
// emulator; they live in events.go, one function per type, and reuse the
// field names of the API's Message, Contact and Conversation objects.
//
// Each event is a POST of a JSON body to the webhook URL ([WithWebhook],
// [Server.SetWebhook]) with Content-Type application/json and
// X-Authorization set to a token of the X-Auth-Token scheme, signed with
// the webhook secret ([WithWebhookSecret], by default the API secret) at
// the server's clock, generated fresh for every attempt. The envelope is:
//
//	{"id": "<event UUID, the same on every redelivery and duplicate>",
//	 "type": "message.received", "business_id": "<UUID>",
//	 "created_at": <unix seconds>, "data": {…}}
//
// message.received, a customer's message ([Server.CustomerMessage],
// [Server.CustomerMedia]):
//
//	"data": {
//	  "conversation_id": "5eedc0de-0000-4000-8000-000000000001",
//	  "message_id": "7be465f3-173a-42c9-9a4d-887b37db4b57",
//	  "contact": {"id": "5eedc0c7-0000-4000-8000-000000000001", "name": "Ana Horvat",
//	              "phone": "+385911234567", "whatsapp_user_id": "HR.1234567890"},
//	  "direction": "inbound",
//	  "body": "Hi, is the shop open today?",
//	  "media_type": null,          // image, video, audio, document or sticker
//	  "media_url": null,
//	  "sent_at": 1714644903.12,    // unix seconds, as Message.sent_at
//	  "chatbot_active": true
//	}
//
// message.sent, a message to a customer, sent through the API ("source":
// "api") or by an agent ("source": "agent", with "agent"); "template" is
// set for template sends; chatbot_active is the state after the send:
//
//	"data": {
//	  "conversation_id": "5eedc0de-0000-4000-8000-000000000001",
//	  "message_id": "e5d97d34-618d-432c-bf43-2805cd544f03",
//	  "message_reference_id": "wamid.9ce1b81334252d9386fa8a357b1dd9ce",
//	  "contact": {"id": "…", "name": "Ana Horvat", "phone": "+385911234567", "whatsapp_user_id": "HR.1234567890"},
//	  "direction": "outbound",
//	  "body": "Welcome Ana! How can we help you?",
//	  "media_type": null, "media_url": null,
//	  "status": "queued",          // "sent" for agent messages
//	  "sent_at": 1714644903.12,
//	  "chatbot_active": false,
//	  "source": "api",
//	  "agent": null,               // {"id": "5eedae00-…-000000000001", "name": "Ivana Horvat"} for agents
//	  "template": {"keyword": "welcome", "language": "en"}   // null for free-form messages
//	}
//
// message.status, the delivery status of an API send: "sent" then
// "delivered" right after every accepted send, "failed" with fail_reason
// instead after [Server.FailNextMessage], and whatever
// [Server.SetMessageStatus] sets (for example "read"):
//
//	"data": {
//	  "conversation_id": "5eedc0de-0000-4000-8000-000000000001",
//	  "message_id": "e5d97d34-618d-432c-bf43-2805cd544f03",
//	  "message_reference_id": "wamid.9ce1b81334252d9386fa8a357b1dd9ce",
//	  "status": "delivered",
//	  "fail_reason": null
//	}
//
// chatbot.status, whenever chatbot_active of a conversation changes
// (and only then); cause is api_send, agent_reply, api_activity or
// dashboard:
//
//	"data": {"conversation_id": "5eedc0de-0000-4000-8000-000000000001", "chatbot_active": false, "cause": "api_send"}
//
// An accepted API send emits, in order: message.sent, chatbot.status (if
// the chatbot was on and prevent_bot_off was not true), message.status
// "sent", message.status "delivered". An agent reply emits message.sent and
// chatbot.status (if it was on). [WithWebhookEvents] limits delivery to some
// types, [WithDocumentedEventsOnly] to message.received alone (the one type
// whose name Sendbee gives); [Server.Events] records every event even
// without a webhook URL.
//
// # Delivery
//
// Delivery is asynchronous. Events of one conversation are delivered one
// at a time in the order they happened (FIFO); different conversations are
// delivered in parallel. A non-2xx answer or a connection error is retried
// up to [WithRedelivery] attempts (3) with a doubling interval (50ms); a 503
// or 429 with Retry-After is retried after that many seconds, capped by
// [WithRetryAfterCap] (5s). A receiver that keeps failing holds up later
// events of the same conversation until the attempts are used up.
// [Server.DuplicateDeliveries] sends every event again n times with the
// same id, [Server.DelayDeliveries] delays each event,
// [Server.ReorderDeliveries] swaps events in pairs. [Server.Deliveries]
// lists every attempt and [Server.WaitDeliveries] waits for them.
// [Server.Deliver] posts a hand-written payload, signed, once.
//
// Each attempt has an [Outcome] (ok, refused, rejected 4xx, server error
// 5xx, timeout after [WithDeliveryTimeout], failed) and a duration.
// [WithDeliveryObserver] reports every attempt to a function as it
// finishes, and [Delivery.Explain] turns a failed one into a line saying
// what to check, so that a program running the emulator can tell a person
// at once that the bot is not listening or rejects the signature.
//
// # Acting as the customer and the dashboard
//
// The Go methods [Server.CustomerMessage], [Server.CustomerMedia],
// [Server.AgentReply], [Server.SetChatbot] and [Server.SetMessageStatus]
// have HTTP twins under "/_sim/" on [Server.RootURL] (whatever the
// prefix), which need no authentication, take and return JSON, and are not
// recorded:
//
//	POST /_sim/customer  {"phone","name","text","media_type","media_url"} → {"conversation_id","message_id"}
//	POST /_sim/agent     {"conversation_id","agent","text"} → {"conversation_id","message_id","chatbot_active"}
//	POST /_sim/chatbot   {"conversation_id","active"} → {"conversation_id","chatbot_active"}
//	POST /_sim/status    {"message_id","status","fail_reason"} → {"message_id","status"}
//	POST /_sim/contact   {"phone","status"} → {"contact_id","phone","status"}
//	GET  /_sim/clock     → {"now"}   the business time ([Server.Now])
//	POST /_sim/clock     {"advance":"25h"} or {"set":"2026-04-01T12:00:00Z"} → {"now"}
//	GET  /_sim/sent           what the bot sent ([Server.Sent])
//	GET  /_sim/conversations  every conversation with contact, chatbot_active and messages
//	GET  /_sim/events, /_sim/deliveries, /_sim/requests, /_sim/ (index)
//
// # Clock
//
// The business time ([Server.Now]) is the clock of [WithClock] (time.Now
// by default) moved by [Server.Advance] and [Server.SetTime] (or POST
// /_sim/clock). It dates messages, contacts, conversations and webhook
// events. Authentication, rate limiting, request records and webhook
// signatures keep the configured clock, so that a client and a receiver on
// real time keep working when a test moves the business time a day ahead.
//
// # Fault injection
//
// [Server.FailNext], [Server.RateLimitNext], [Server.DelayNext],
// [Server.ResetNext] (the connection drops before the request is served)
// and [Server.LoseAnswerNext] (it drops after the request was served)
// queue a fault for the next API request each (first in, first out); [Server.WarnNext] and [Server.FailNextMessage] act on the next
// successful response and the next accepted message.
//
// # Demo data
//
// Unless [WithoutDemoData] is given, the business starts with fixed IDs
// (times are relative to the server clock at start):
//
//   - tags lead 5eed7a90-0000-4000-8000-000000000001, customer …002, VIP …003,
//     newsletter …004;
//   - contact fields (5eedf1e1-0000-4000-8000-00000000000N) city (text), age
//     (number), plan (list: basic, pro, enterprise), birthday (date), vip
//     (boolean);
//   - contacts (5eedc0c7-0000-4000-8000-00000000000N) and their
//     conversations (5eedc0de-0000-4000-8000-00000000000N):
//     1 Ana Horvat +385911234567 (whatsapp_user_id HR.1234567890, subscribed,
//     tag lead, city Split, plan pro, a note; conversation open, chatbot on,
//     an inbound question 2h ago and an outbound answer);
//     2 Marko Marić +385921112233 (subscribed, customer and VIP, city Zagreb,
//     age 42, vip true; conversation done, chatbot off, a template, his reply
//     and an agent's answer);
//     3 John Smith +14155550123 (unsubscribed, newsletter; conversation open,
//     chatbot on, an inbound "STOP");
//   - members (5eedae00-0000-4000-8000-00000000000N) 1 Ivana Horvat (admin,
//     online, available), 2 Marko Kovač (agent, online), 3 Lucija Babić
//     (agent, offline); teams (5eed7ea0-0000-4000-8000-00000000000N) 1
//     Support (Ivana, Marko) and 2 Sales (Ivana, Lucija);
//   - templates (5eed7e40-0000-4000-8000-00000000000N): 1 welcome/en and 2
//     welcome/hr "Welcome {{1}}! …" (approved, tag 1, a quick-reply button);
//     3 order_shipped/en "Hi {{1}}, your order {{2}} has shipped." (approved,
//     tags 1 and 2, button tag 1 on a URL button); 4 spring_sale/en
//     (approved, tag 1, image attachment); 5 invoice_ready/en (approved,
//     document attachment, no tags); 6 cold_outreach/en (rejected, with
//     rejected_reason); 7 appointment_reminder/en (pending).
//
// # Assumptions and inventions
//
// Where Sendbee's public material leaves a gap, the emulator chooses, and
// says so here:
// the webhook payloads (above); the error type strings other than
// validation_error; 404 for unknown IDs and 400 for malformed UUIDs;
// subscribing an existing phone updates that contact; PUT /contacts
// replaces the tag set; contact field values are checked by type (number,
// boolean, list option, date as YYYY-MM-DD) and null clears one; lists are
// newest first for contacts and messages, most recently active first for
// conversations, creation order otherwise; date_from/date_to filter on the
// last message time; an inbound message moves a "done" conversation back to
// "open"; the send response status is "queued" while the stored message
// becomes "delivered" at once; message_reference_id is "wamid." plus random
// hex; media types come from the URL's extension (a URL without one is a
// document); the texts of ServerMessage answers and of the
// /rate-limit/request-test body; "links" is sent at all.
//
// # Not simulated
//
// The platform accepting a free-form send outside the window and failing
// it later (the emulator refuses it at once; [Server.FailNextMessage]
// simulates a send that fails later), opt-outs
// blocking free-form sends, fetching or checking media URLs, template
// approval, automated messages triggered by subscription (block_automation
// is stored, not acted on), notifications to agents, live_inbox real-time
// events, agent assignment beyond recording agent_id, the webhook
// registration API (POST /webhooks/subscribe, which appears only in a
// Python client version outside its published history), User-Agent-dependent
// payloads, several API keys for one business (a [Host] serves several
// businesses, each with a key of its own), TLS, and HTTP/2.
//
// # Several business numbers on one listener
//
// A [Host] serves several accounts on one listener, for a bot that
// answers two Sendbee business numbers at once:
//
//	h := sendbeetest.NewHost(t)
//	acme, _ := h.Add("acme", sendbeetest.WithCredentials("key-acme", "secret-acme"), sendbeetest.WithWebhook(bot.URL+"/acme"))
//	zeta, _ := h.Add("zeta", sendbeetest.WithCredentials("key-zeta", "secret-zeta"), sendbeetest.WithWebhook(bot.URL+"/zeta"))
//	// both numbers' clients use h.URL(), each with its own key and secret
//	acme.CustomerMessage("+385911234567", "Ana", "Hi")
//	acme.WaitSent(t, 1) // the answer went out through acme's number
//	// and zeta.Sent() is empty
//
// An account is one business number: a [Server] of its own, made by
// [Host.Add] with the options of [NewServer] but [WithPrefix], with its
// own API key and secret, business ID, contacts, conversations,
// templates and teams, rate-limit window, webhook URL, secret and
// deliveries, business clock, faults and records. Every Server method
// works on it; its [Server.URL] and [Server.RootURL] are the host's.
//
// An API request is served by the account whose API key is its
// X-Api-Key (compared in constant time), exactly as that account's
// Server would serve it. Account names and API keys are unique on a
// host. A request whose key is no account's, or that has none, is
// answered as a Server answers a wrong key (404 for a path that is not
// the API's, otherwise 401 authentication_error "invalid API key" or
// "missing X-Api-Key header", without X-RateLimit-* headers); it uses no
// account's faults or rate limit and is kept in [Host.Unclaimed].
//
// The controls under "/_sim/" on [Host.RootURL] act on the account named
// by the query parameter account, as in POST /_sim/customer?account=acme.
// While the host has one account the parameter may be left out; with
// more, a request without it is 400 validation_error naming the parameter
// and the accounts, and an unknown name is 404 not_found. GET
// /_sim/?account=acme says "account":"acme".
//
// [NewHost] serves the API under "/api" as [NewServer] does; [StartHost]
// runs a host on a real address. [Host.Close] closes every account, then
// the listener.
//
// # Concurrency
//
// A [Server] is safe for concurrent use by any number of goroutines and
// HTTP clients. Accessors return copies. The server owns its goroutines:
// [Server.Close] (registered with tb.Cleanup by [NewServer]) stops
// listening, abandons queued webhook events, cancels in-flight deliveries
// and delays, and waits for every goroutine it started.
package sendbeetest
