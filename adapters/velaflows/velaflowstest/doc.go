// Package velaflowstest is an emulator of the VelaFlows public HTTP API
// (https://api.velaflows.com/api/v1) and of its webhook deliveries, for
// testing VelaFlows clients and bots without the network. It was written
// from VelaFlows' documentation (https://doc.velaflows.com) and VelaFlows'
// Python examples (transcribed in testdata), not from any client, and it
// imports only the standard library. Where the docs pages and the Python
// examples differ, the examples win and the emulator accepts both.
//
//	s := velaflowstest.NewServer(t, velaflowstest.WithSubscription(bot.URL, "whsec_x", "conversation.message.received"))
//	// point the client at s.URL() with s.Token() and s.WorkspaceID()
//	conv, _ := s.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "Where is my parcel?")
//	sent := s.WaitSent(t, 1) // what the bot answered through the API
//
// [NewServer] serves the API under "/api/v1" (the path of the real base
// URL; a client that builds absolute paths fails loudly) and closes itself
// when the test ends. [Start] runs the emulator on a real address for
// trying a bot by hand (parley sim velaflows), with the same prefix, so
// VELAFLOWS_BASE_URL=[Server.URL] works. VelaFlows' Python examples, with
// their base URL pointed at [Server.URL], run unchanged (see
// testdata/seed_examples.py and TestSeedPythonExamples).
//
// # Endpoints
//
// Paths are relative to [Server.URL]. Every request needs
// "Authorization: Bearer <token>" and "x-workspace-id: <24 hex>". The
// scope each route needs by default is in [DefaultScopes].
//
//	GET    /inbox/conversations                 page, limit, sortBy (createdAt|updatedAt|lastMessageAt), sortOrder, status, channelType, assignedAgentId, customerId, search
//	GET    /inbox/conversations/{id}            → data.conversation
//	PATCH  /inbox/conversations/{id}            {status?, assignedAgentId? (id|null), priority?} → data.conversation
//	POST   /inbox/conversations/{id}/assign     {assignedAgentId} → data.conversation
//	POST   /inbox/conversations/{id}/unassign   → data.conversation
//	POST   /inbox/conversations/{id}/close      → data.conversation
//	POST   /inbox/conversations/{id}/reopen     → data.conversation
//	GET    /inbox/conversations/{id}/messages   page, limit, sortOrder (newest first by default)
//	POST   /inbox/conversations/{id}/messages   {content, type:"text"}; "text" is an alias of content → 201 data.message
//	GET    /crm/leads                           page, limit, sortBy (createdAt|updatedAt|firstName|lastName|email|status|value), sortOrder, status, pipelineId, stageId, search
//	POST   /crm/leads                           {firstName, lastName, email, phone, pipelineId, stageId, status, source, value, tags, customerId} → 201 data.lead
//	GET    /crm/leads/{id}                      → data.lead
//	PATCH  /crm/leads/{id}                      any create field → data.lead
//	PATCH  /crm/leads/{id}/stage                {stageId, pipelineId?} → data.lead
//	DELETE /crm/leads/{id}                      → data {_id, deleted: true}
//	GET    /crm/pipelines, /crm/pipelines/{id}  → items / data.pipeline (with stages)
//	GET    /customers                           page, limit, sortBy, sortOrder, search
//	POST   /customers                           {firstName, lastName, email, phone, tags} → 201 data.customer
//	GET    /customers/{id}                      → data.customer
//	PATCH  /customers/{id}                      {firstName, lastName, email, phone, tags} → data.customer AND data.lead (the Python examples read data.lead._id)
//	GET    /tags                                entityType (conversation|customer|lead), search, page, limit
//	POST   /tags                                {name, color, entityType} → 201 data.tag; same name and entityType → 409 CONFLICT
//	GET    /tags/{id}, PATCH /tags/{id}, DELETE /tags/{id}
//	POST   /webhooks/subscriptions              {url, events, secret} → 201 data.subscription (the Python examples' path)
//	POST   /integrations/webhooks               the same (the docs' path); both paths also have
//	GET    …, GET …/{id}, PATCH …/{id} {url?, events?, secret?, active?}, DELETE …/{id}, sharing one set of subscriptions
//	POST   /workflows/{id}/execute              {input: {...}} or a bare object → 201 data.execution
//
// # Faithful to the documentation
//
//   - Auth: a missing, malformed (not "Bearer <token>") or
//     unknown token is 401 UNAUTHORIZED; tokens are compared in constant
//     time. x-workspace-id missing is 400 BAD_REQUEST (not
//     documented; assumed); not 24 hex characters or another workspace is 403
//     FORBIDDEN. A token without the route's scope is 403 FORBIDDEN with
//     details.requiredScope. The default token ([WithCredentials]) has
//     every scope; [WithToken] adds tokens with chosen scopes.
//   - Envelope: {"success":true,"data":{…}}, single resources
//     under a named key (conversation, message, lead, customer, tag,
//     subscription, pipeline, execution); lists as data.items plus
//     data.pagination {page, limit, total, totalPages}; errors as
//     {"success":false,"error":{"code","message","details"?}}, with
//     details.errors [{path, message}] for field problems and
//     details.resourceId for 404s.
//   - Pagination: page from 1, limit default 20 ([WithPageSize]),
//     at most 100 — a larger limit is 400 BAD_REQUEST (the API may
//     clamp instead; not documented), so that tests catch the mistake; sortBy default createdAt, sortOrder default desc. A page
//     past the end has no items and the true totals; totalPages is 0 when
//     total is 0. Ties are broken by _id, so paging is stable.
//   - Errors: BAD_REQUEST 400 (malformed JSON, a body that is
//     not an object, a non-JSON Content-Type, bad query parameters, missing
//     x-workspace-id), UNAUTHORIZED 401, FORBIDDEN 403, NOT_FOUND 404
//     (unknown IDs and unknown routes, inside or outside the prefix),
//     CONFLICT 409, VALIDATION_ERROR 422 ([WithValidationStatus] makes it
//     400: the docs pages list validation failures under both), TOO_MANY_REQUESTS 429, INTERNAL_ERROR 500.
//   - Rate limits: per token, in fixed windows of 15 minutes
//     that start with a category's first counted request: 300 reads (GET),
//     100 writes (POST, PATCH, PUT), 50 deletes, counted separately
//     ([WithRateLimits]; per route with [WithPerEndpointRateLimits]). Every
//     answer to a request with a valid token carries X-RateLimit-Limit,
//     X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds, the end of
//     the window); 429 carries Retry-After in whole seconds and the
//     message "Rate limit exceeded. Try again in N seconds.".
//   - Timestamps are ISO-8601 UTC with milliseconds
//     (2026-03-24T14:30:00.000Z); IDs are 24-hex ObjectIds.
//   - Strictness: request bodies are read field by field with the documented
//     names; an unknown field (a typo such as "first_name") is a
//     VALIDATION_ERROR naming it. Bodies are capped at 1 MiB (413
//     PAYLOAD_TOO_LARGE).
//
// The order of checks is: injected fault, 404 unknown route, 405 (with
// Allow), 401, workspace (400/403), rate limit (429), scope (403), body
// (413/400), then the endpoint's own validation (422), 404 and 409.
//
// # Webhooks
//
// Every event is delivered to each active subscription that lists it. An
// event has two names, that of VelaFlows' Python examples and the docs'
// (conversation.created /
// inbox.conversation.created, conversation.message.received /
// inbox.message.received, lead.stage_changed / crm.lead.stage_changed, and
// the same pattern for the others, see the Event constants); a
// subscription to either receives it, with the spelling it listed
// ([WithEventNaming] forces one). Each attempt is
//
//	POST <subscription url>
//	Content-Type: application/json
//	User-Agent: VelaFlows-Webhook/1.0
//	X-Webhook-Event: conversation.message.received        (= eventType)
//	X-Webhook-Delivery-Id: 2f76befc-f77a-447e-abe5-99cb5b054b5a   (fresh for every attempt)
//	X-Webhook-Signature: sha256=<64 lowercase hex>        (only when the subscription has a secret)
//
//	{"eventId":"69c252905da7079fa100d9bc","eventType":"conversation.message.received",
//	 "timestamp":"2026-03-24T09:00:00.000Z","workspaceId":"64f1a2b3c4d5e6f7a8b9c0d1",
//	 "data":{"conversationId":"69c252905da7079fa100d9b9",
//	   "message":{"_id":"69c252905da7079fa100d9ba","conversationId":"69c252905da7079fa100d9b9",
//	     "type":"text","text":"Hi, where is my parcel?","content":"Hi, where is my parcel?",
//	     "direction":"inbound","sender":{"type":"contact","name":"Nina Simone","phone":"+15550199"},
//	     "channel":"whatsapp","status":"received","createdAt":"2026-03-24T09:00:00.000Z"}}}
//
// The signature is "sha256=" + hex(HMAC-SHA256(secret, raw body)), keyed
// with the secret exactly as configured ([Sign]). eventId is the same on
// every retry and duplicate of an event. The data of each event type:
//
//	conversation.created          {conversation}
//	conversation.message.received {conversationId, message}   (sender.type "contact")
//	conversation.message.sent     {conversationId, message}   (API sends and agents; sender.type "agent")
//	conversation.assigned         {conversation, assignedAgentId, previousAgentId, agent: {_id, name}}
//	conversation.unassigned       {conversation, previousAgentId}
//	conversation.status_changed   {conversation, status, previousStatus}
//	conversation.closed           {conversation}   (after status_changed)
//	conversation.reopened         {conversation}   (after status_changed, leaving closed)
//	lead.created, lead.updated, lead.deleted  {lead}
//	lead.stage_changed            {lead, pipelineId, stageId, previousPipelineId, previousStageId}
//	customer.created, customer.updated        {customer}
//	workflow.execution.completed  {execution}
//
// where conversation, message, lead and customer are the REST objects.
// Only the envelope, conversation.created and the message.received fields
// up to "channel" are documented; the rest is assumed. With
// [WithPrefixedIDs] payloads use the docs' example style: eventId "evt_…",
// workspaceId "ws_…", conversation IDs "conv_…", message IDs "msg_…".
//
// # Delivery
//
// Delivery is asynchronous. Events of one conversation (or lead, or
// customer) reach a subscription one at a time in the order they happened;
// different conversations and subscriptions proceed in parallel. A 2xx
// within 10 seconds ([WithDeliveryTimeout]) is success. A timeout,
// connection error or any other status, including 3xx (redirects are not
// followed), is a failure, retried on the documented schedule — attempts
// at 0, 1, 2, 4 and 8 seconds after the previous one, 5 in all
// ([WithRetrySchedule] compresses it). After that the event leaves its
// lane (later events are not held up) and is retried in the background
// with doubling waits, capped at a 24th of the window, until 24 hours
// after its first attempt ([WithRedeliveryWindow]), then marked
// permanently failed. A 410 answer deactivates the subscription at once,
// without retries; so do 10 consecutive permanently failed events
// ([WithAutoDeactivate]). PATCH {"active": true} or
// [Server.SetSubscriptionActive] reactivates.
//
// [Server.DuplicateDeliveries] sends each event n more times,
// [Server.DelayDeliveries] delays each event, [Server.ReorderDeliveries]
// swaps events in pairs. [Server.Deliveries] lists every attempt,
// [Server.Events] every event, [Server.WaitDeliveries] and
// [Server.WaitEvents] wait for them. [Server.Deliver] posts a hand-written
// payload once, with real headers.
//
// Each attempt has an [Outcome] (ok, refused, rejected 4xx, server error
// 5xx, timeout, failed) and a duration. [WithDeliveryObserver] reports
// every attempt to a function as it finishes, and [Delivery.Explain] turns
// a failed one into a line saying what to check, so that a program running
// the emulator can tell a person at once that the bot is not listening or
// rejects the signature.
//
// # Acting as the customer and the agents
//
// [Server.CustomerMessage] (a customer writes, creating customer and
// conversation on first contact), [Server.Assign], [Server.Unassign],
// [Server.CloseConversation], [Server.ReopenConversation],
// [Server.SetStatus], [Server.AgentMessage] and [Server.AddLeads] have HTTP
// twins under "/_sim/" on [Server.RootURL] (whatever the prefix), which
// need no authentication, never consume faults and are not recorded:
//
//	POST /_sim/customer  {"channelType","name","contact","text"} → data {conversationId, messageId}
//	POST /_sim/assign    {"conversationId","agent"}              → data {conversationId, assignedAgentId, assignedAgentName}
//	POST /_sim/unassign  {"conversationId"}
//	POST /_sim/close     {"conversationId"}
//	POST /_sim/reopen    {"conversationId"}
//	POST /_sim/agent     {"conversationId","agent","text"}       → data {conversationId, messageId}
//	POST /_sim/leads     {"count"}                               → data {added, total}
//	GET  /_sim/sent, /_sim/conversations, /_sim/events, /_sim/deliveries,
//	     /_sim/subscriptions, /_sim/requests, /_sim/ (index)
//
// # Fault injection
//
// [Server.FailNext], [Server.RateLimitNext], [Server.DelayNext] (a slow
// answer) and [Server.ResetNext] (a dropped connection) each queue a fault
// for the next API request, first in, first out.
//
// # Demo data
//
// Unless [WithoutDemoData] is given, the workspace starts with (times
// relative to the server clock at start):
//
//   - agents 65f0c0ffee00000000009001 Maya Patel and …9002 Tom Becker;
//   - pipeline [SeedPipelineID] "Sales" with stages [SeedStageID] New,
//     …d0e3 Qualified, …d0e4 Proposal, …d0e5 Won, …d0e6 Lost; pipeline
//     65f0c0ffee0000000000c001 "Partnerships" with stages …c002 Lead In,
//     …c003 Negotiation, …c004 Signed;
//   - customers [SeedCustomerID] Ada Lovelace (+442071838750,
//     ada@example.org), …ca02 Grace Hopper, …ca03 Alan Turing
//     (@alan.turing), …ca04 Katherine Johnson, …ca05 Hedy Lamarr, …ca06
//     Webchat Visitor 4821, …ca07 Linus Pauling;
//   - conversations, one per channel type: [SeedConversationID] whatsapp
//     open (Ada, tag vip, unassigned, one inbound message);
//     65f0c0ffee0000000000a002 email open (Grace, high, assigned to Maya,
//     tag billing); …a003 instagram open (Alan); …a004 messenger closed
//     (Katherine, Tom); …a005 telegram pending (Hedy, a bot answer);
//     …a006 webchat open (urgent); …a007 sms closed ("STOP") — 4 open;
//   - leads 65f0c0ffee0000000000d001 … d006 (Grace Hopper, Margaret
//     Hamilton, Barbara Liskov, John Backus, Frances Allen, Edsger
//     Dijkstra) in statuses new, contacted, qualified, won and lost;
//   - tags e001 vip, e002 billing, e003 urgent (conversation), e004
//     newsletter (customer), e005 hot (lead);
//   - workflows 65f0c0ffee0000000000f0a1 "Hand off to a human agent"
//     (assigns input.conversationId to Maya Patel) and …f0a2.
//
// VelaFlows' Python examples use 65a1b2c3d4e5f6a7b8c9d0e1 as pipeline,
// conversation and customer, and 65a1b2c3d4e5f6a7b8c9d0e2 as stage; these
// exist, so the examples run as written.
//
// # Assumptions and inventions
//
// Undocumented, chosen here: scope names ("<service>:<read|write>",
// workflows:execute); every route except GET /inbox/conversations, the
// send-message body and POST /crm/leads, /inbox/conversations/{id},
// /integrations/webhooks and /workflows/{id}/execute (whose paths are
// documented); the response of a delete ({_id, deleted}); 201 for
// creates; required lead fields firstName, pipelineId and stageId; lead statuses new|contacted|qualified|won|lost; conversation
// statuses open|pending|snoozed|closed and priorities
// low|normal|high|urgent; channel types whatsapp, instagram, messenger,
// telegram, email, webchat, sms; only "text" messages of at most 4096
// characters; sending to a closed conversation is 409 CONFLICT; an
// inbound message reopens a closed or snoozed conversation; message
// objects carry both "text" and "content", conversations both
// "channelType" and "channel"; subscription URLs must be https except on
// loopback hosts ([WithAllowHTTPWebhooks]); event names must match
// ^[a-z_]+(\.[a-z_]+){1,2}$ and wildcards are refused; the secret is never
// echoed; every event name other than the eight the docs give verbatim;
// every webhook data shape except the two documented; the delivery-ID
// format (a UUID); the slow-phase retry waits; the auto-deactivation
// threshold; the error codes METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE and
// SERVICE_UNAVAILABLE.
//
// # Not simulated
//
// The Auth API (login, JWTs, listing workspaces) and token expiry; a
// token with access to several workspaces (a [Host] serves several
// workspaces, each with tokens of its own); the "authentication" and "bulk" rate-limit categories;
// attachments and non-text message types; the WhatsApp 24-hour window;
// message delivery statuses (channels.message.status_changed); tag
// attach/detach endpoints; customer merging; CRM tasks and activities;
// workflow triggers, conditions and the inbound workflow webhook URL;
// broadcasts and scheduling; sandbox versus live data; TLS and HTTP/2.
// Unauthenticated requests carry no X-RateLimit-* headers and are not
// limited.
//
// # Several workspaces on one listener
//
// A [Host] serves several accounts on one listener, for a bot that works
// in two VelaFlows workspaces at once:
//
//	h := velaflowstest.NewHost(t)
//	acme, _ := h.Add("acme", velaflowstest.WithCredentials(tokenAcme, workspaceAcme), velaflowstest.WithSubscription(bot.URL+"/acme", "whsec_acme"))
//	zeta, _ := h.Add("zeta", velaflowstest.WithCredentials(tokenZeta, workspaceZeta), velaflowstest.WithSubscription(bot.URL+"/zeta", "whsec_zeta"))
//	// both workspaces' clients use h.URL(), each with its own token and x-workspace-id
//	acme.CustomerMessage("whatsapp", "Ada", "+442071838750", "Hi")
//	acme.WaitSent(t, 1) // the answer went to acme's workspace
//	// and zeta.Sent() is empty
//
// An account is one workspace: a [Server] of its own, made by [Host.Add]
// with the options of [NewServer] but [WithPrefix], with its own
// workspace ID and API tokens, conversations, customers, leads and tags,
// rate-limit counters, webhook subscriptions and deliveries, clock,
// faults and records. Every Server method works on it; its [Server.URL]
// and [Server.RootURL] are the host's.
//
// An API request is served by the account that holds its token (compared
// in constant time), exactly as that account's Server would serve it; so
// a request whose x-workspace-id is another workspace is refused by the
// token's account with 403 FORBIDDEN ("Token does not have access to
// workspace …"), the documented answer for a workspace the token does
// not cover, and one without the header with 400 BAD_REQUEST. Account
// names, workspace IDs and tokens are unique on a host: a workspace's
// tokens are created in that workspace's settings. A request whose token
// is no account's, or that has none, is answered as a Server answers an
// unknown token (404 or 405 for a route that is not the API's, otherwise
// 401 UNAUTHORIZED, without X-RateLimit-* headers); it uses no account's
// faults or rate limits and is kept in [Host.Unclaimed].
//
// The controls under "/_sim/" on [Host.RootURL] act on the account named
// by the query parameter account, as in POST /_sim/customer?account=acme.
// While the host has one account the parameter may be left out; with
// more, a request without it is 400 BAD_REQUEST naming the parameter and
// the accounts, and an unknown name is 404 NOT_FOUND. GET
// /_sim/?account=acme says "account":"acme".
//
// [NewHost] serves the API under "/api/v1" as [NewServer] does;
// [StartHost] runs a host on a real address. [Host.Close] closes every
// account, then the listener.
//
// # Concurrency
//
// A [Server] is safe for concurrent use by any number of goroutines and
// HTTP clients. Accessors return copies. The server owns its goroutines:
// [Server.Close] (registered with tb.Cleanup by [NewServer]) stops
// listening, abandons queued events, pending retries and delays, lets
// delivery attempts already in flight finish for up to 2 seconds, and
// waits for every goroutine it started.
package velaflowstest
