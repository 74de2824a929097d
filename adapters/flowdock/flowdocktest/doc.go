// Package flowdocktest is an emulator of the Flowdock REST API and of its
// streaming API, for testing Flowdock clients and bots without the network.
// It was written from Flowdock's API documentation, the behaviour real
// clients recorded against the live service, and the README of the Python
// Flowdock API wrapper (whose doctests ran against the live API), not from
// any client, and it imports only the standard library.
//
//	s := flowdocktest.NewServer(t)
//	// REST client: base URL s.URL(), HTTP Basic with s.Token() as username
//	// stream:      s.StreamURL() + "/flows?filter=acme/main&user=1"
//	s.Post("acme/main", "dana", "@parley deploy?")  // someone talks to the bot
//	sent := s.WaitSent(t, 1)                        // what the bot answered
//
// The real service has two hosts, api.flowdock.com and stream.flowdock.com,
// each serving its API at its root (their paths overlap: GET /flows is a
// list on one and a stream on the other).
//
// [NewServer], for tests, serves both from one listener under two path
// prefixes: [Server.URL] is "http://127.0.0.1:PORT/api" and
// [Server.StreamURL] is "http://127.0.0.1:PORT/stream", so that a client
// that builds absolute paths, or that sends stream requests to the REST
// host, fails loudly. [Start], for running the emulator as a local server
// (parley sim flowdock), serves the real layout: REST at the root of its
// address ([Server.URL] is the root) and the stream at the root of an
// address of its own ([WithStreamAddr]; by default the next port). For
// clients configured for the prefixed layout, its main address also serves
// REST under "/api" and the stream under "/stream". Either way, control
// endpoints live under "/_sim/" on [Server.RootURL], the main address.
//
// # Authentication
//
// Every user has a personal API token ([Server.Token] for the bot,
// [Server.UserToken] for the others). It is accepted as the username of
// HTTP Basic with any password ("token:", "token:x"), as the whole Basic
// credential without a colon, as "Authorization: Bearer <token>" and as
// ?access_token=<token>. HTTP Basic "email:password" works for users
// configured with a Password. Missing or wrong credentials answer 401
// {"message":"unauthorized: …"} with WWW-Authenticate. Every authenticated
// response carries Flowdock-User: <user id>.
//
// Each flow has an integration source with a flow_token ([Server.FlowToken]),
// accepted in the query string or the body, with no Basic auth, on POST
// /messages, POST /flows/:org/:flow/messages and POST
// /flows/:org/:flow/threads/:id/messages. An unknown token is 401; a token
// of another flow is 401; a revoked one ([Server.RevokeFlowToken]) is 410.
//
// # REST endpoints
//
// Under [Server.URL], also with a "/v1" prefix (the Ruby gem's form):
//
//	GET    /user                                   the authenticated user
//	GET    /users                                  users sharing a flow with the caller
//	GET    /users/:id                              one user
//	PUT    /users/:id                              own nick and email → 200 {} (+ user-edit events)
//	GET    /organizations, /organizations/:org, /organizations/:org/users
//	GET    /flows?users=1|0                        joined flows
//	GET    /flows/all?users=1|0                    joined + organization-access flows (joined:false)
//	GET    /flows/find?id=:flow_id                 one flow, with users
//	GET    /flows/:org/:flow                       one flow, with users
//	GET    /flows/:org/:flow/users                 the flow's users
//	POST   /messages                               flow (id) in the body, or flow_token
//	POST   /comments                               flow, message (parent id), event "comment", content
//	GET    /flows/:org/:flow/messages              list (see below)
//	POST   /flows/:org/:flow/messages              send (user token or flow_token)
//	GET    /flows/:org/:flow/messages/:id          show
//	PUT    /flows/:org/:flow/messages/:id          edit content and/or tags → 200 {} (PATCH too)
//	DELETE /flows/:org/:flow/messages/:id          delete (see below)
//	POST   /flows/:org/:flow/messages/:id/comments comment on a message
//	GET    /flows/:org/:flow/threads               list threads, newest first
//	GET    /flows/:org/:flow/threads/:id           one thread
//	GET    /flows/:org/:flow/threads/:id/messages  list a thread's messages
//	POST   /flows/:org/:flow/threads/:id/messages  reply in a thread
//	GET    /private                                the caller's private conversations
//	GET    /private/:user_id                       one conversation (created with open:false)
//	PUT    /private/:user_id                       {open}
//	GET    /private/:user_id/messages              list (same parameters)
//	POST   /private/:user_id/messages              send message or file
//	GET    /private/:user_id/messages/:id          show
//	PUT    /private/:user_id/messages/:id          edit content and/or tags → 200 {}
//	DELETE /private/:user_id/messages/:id          delete
//	GET    /files/:org_id/:hash/:name              download → 302 to a signed URL
//	GET    /private/:a/:b/files/:hash/:name        download → 302 to a signed URL
//
// Parameters come from the query string, a JSON object body, a form body
// or a multipart form (the body forms Flowdock documents); GET parameters
// may also be a JSON body, as the Python wrapper sends them. A body without
// Content-Type is 415. An unknown path, flow, thread or message is 404
// {"message":"not found"} (literally these bytes); a flow the caller has
// not joined is 404 too. Validation failures are 400
// {"message":"Validation error","errors":{"<field>":["<problem>"]}};
// nested fields are named like
// "thread.status.color". Everything else the caller may not do is 403
// {"message":"forbidden: …"}. Unsupported methods are 405 with Allow.
// OPTIONS on any API path answers the CORS preflight.
//
// # Messages
//
//   - Ids are integers, counted per flow and per private conversation,
//     starting at 1. message-edit and tag-change events take ids from the
//     same counter, so message ids have gaps after edits.
//   - A user-token post answers 201 and the whole message (200 with the
//     header X-flowdock-wait-for-message), with
//     Link: <…/messages/:id/comments>; rel="comments" on flow messages.
//     A flow_token post answers 202 {} (200 and the message with the
//     header). Posted events: message, status and file in flows; comment
//     only on the comment endpoints; message and file in private chats;
//     activity, discussion and message with a flow_token.
//   - Every flow message, comment and file starts a thread (a random
//     27-character id; the response carries thread_id and thread.id, equal,
//     and thread.initial_message) or joins the one given by thread_id or the
//     path. A comment joins its parent's thread and gets the tag
//     "influx:<parent id>" and content {title, text}. Status events have no
//     thread; private messages have no thread, no flow and a "to".
//   - content is required and at most 8096 characters. uuid is echoed and
//     must be unique within the flow or chat (400 "has already been
//     taken"). tags is a JSON list or a comma-separated string.
//     external_user_name makes the post anonymous (user "0").
//   - Tags: "#x" is stored as "x"; "@nick" as ":user:<id>" (an
//     unknown handle such as "@team" as ":user:team"; "@all" and friends as
//     ":user:everyone"). Then the server appends, in this order, hashtags
//     found in the content, for each @mention in the content ":user:<id>"
//     and ":unread:<id>" (":user:<handle>" for unknown handles;
//     ":user:everyone" and ":unread:<id>" of every other member for
//     @everyone), ":url" when the content has a link or an email address,
//     and ":file" on files. A comment's "influx:<id>" comes first, and a
//     private message starts with ":unread:<recipient id>". Duplicates are
//     dropped case-insensitively, keeping the order: sending
//     "@team, ref here: http://docs.python.org" with tags ["ref"] stores
//     ["ref", ":user:team", ":url"], as the live service did for the
//     Python wrapper.
//   - Edit (PUT): {content?, tags?} → 200 {}. Only the author may change
//     content, and only of a message or comment (403 otherwise); anyone in
//     the flow may replace tags, which become exactly the given list
//     (normalized, deduplicated). Changing only the content keeps the tags
//     and adds those the new content implies. A content change emits
//     message-edit {message, updated_content} and sets edited/edited_at; a
//     tag change emits tag-change {message, add, remove}. thread_id cannot
//     be changed.
//   - Delete: activity and discussion items (anyone) and your own files are
//     removed, 204 with no body, and then 404 {"message":"not found"}; your
//     own message, comment or status is truncated, 200 {}, and shows
//     content "" afterwards; anything else is 403.
//   - Files: POST with event "file" as multipart/form-data (file part
//     "content", other fields as form values) or as JSON content {data
//     (base64), content_type, file_name}. The message's content is
//     {file_name, content_type, file_size, path}, with one matching
//     attachment and the ":file" tag. GET <path> under [Server.URL] (a
//     double slash, as in "…/api//files/…", is fine) answers 302 with an
//     empty body and Location on "/_s3/…?signature=…", which serves the
//     bytes with no credentials.
//
// # Listing messages
//
// Parameters: event (comma list), limit (1–100, default 30), sort
// (desc|asc), since_id, until_id, tags (comma list or JSON list), tag_mode
// (and|or), search (space-separated whole words, case-insensitive, over
// content, comment text, title, body and file name), skip. The two
// observed patterns are implemented literally:
//
//   - with search and/or tags: (search matches ∪ tag matches under
//     tag_mode) ∩ event → drop the newest skip → the newest limit (oldest
//     with sort=asc); since_id and until_id are ignored, and deleted
//     (truncated) messages never match (the Python wrapper's doctest
//     cleanup relies on it);
//   - otherwise: event ∩ (since_id, until_id) exclusive → the newest limit
//     (oldest with sort=asc); skip is ignored.
//
// The array is always in ascending id order. Deleted files and integration
// items are gone; message-edit and tag-change events are listed only when
// event names them. Filter tags are normalized like posted tags, so
// tags=@team finds ":user:team" and tags=:file finds files.
//
// Threads list newest first by updated_at, with limit (default 30), since
// and until (ISO-8601, exclusive); application and empty are ignored, as
// they had no effect on the live service. A full page carries Link:
// <…?until=…>; rel="next".
//
// # Integrations
//
// A flow_token post of an "activity" needs author {name, avatar?, email?}
// and title; a "discussion" also needs body. Either thread_id (an existing
// thread) or external_thread_id (the integration's key, scoped to the
// flow's source) is required, and a new external_thread_id needs thread
// {title, body?, external_url?, status?, fields?, actions?}; a known one
// may be posted with no thread, and a given thread replaces the stored
// state. status.color must be one of black, blue, cyan, green, grey, lime,
// orange, purple, red, yellow, else 400 with errors["thread.status.color"];
// fields are {label, value} strings; actions are ViewAction (name, url) or
// UpdateAction (name, target {"@type":"EntryPoint", urlTemplate,
// httpMethod}). Stored items have user "0", app "influx", content null,
// author, title, body (and full_body on discussions), and count towards
// thread.activities or thread.external_comments; chat messages count
// towards thread.internal_comments. Integration threads carry a source
// object {id, name, url, created_at, updated_at, application {…}}; chat
// threads have source null. Every thread has external_url (null when
// unset).
//
// # Streaming
//
//	GET {StreamURL}/flows?filter=<ref>,<ref>&user=1&active=idle
//	GET {StreamURL}/flows/:org/:flow
//
// A ref is a flow id, "org/flow" or the legacy "org:flow". Authentication is
// the same as for REST (not flow_token). filter or user=1 is required
// (else 400); an unknown flow, or one the user has not joined, is 404
// {"message":"not found"}; bad credentials are 401. active and presence
// are accepted and ignored. The response carries Flowdock-User.
//
// The format is text/event-stream when the accept query parameter, or
// else the Accept header, names text/event-stream; otherwise it is the
// JSON stream (the documented default). On text/event-stream each event is
// written and flushed as
//
//	id: <event id>\n
//	data: <the message as one line of JSON>\n
//	\n
//
// with no "event:" and no "retry:" field, and idle streams get the comment
// ": keep-alive\n\n" every [WithKeepAlive] interval (15s by default). On the
// JSON stream each event is "<json>\r\n" and the keep-alive is a bare
// "\n". The JSON is exactly what the REST API returns for the message.
//
// Event ids: Flowdock's SSE id format is undocumented and message ids are
// only unique within one flow, so the emulator numbers every stream event
// with one global counter, as a decimal string ("1", "2", …), shared by all
// flows, private chats and user-level events. Clients must treat it as
// opaque. A reconnect with Last-Event-ID: N replays, in order, every event
// with an id greater than N that the new connection receives (its filter,
// user=1, and the user's current memberships), then continues live: no
// loss and no duplicates across [Server.DropConnections]. An id that is
// not a number, or is newer than the newest event, means "from now". The
// JSON stream has no ids and no replay; fill gaps with GET …/messages
// ?since_id=…. [Server.LastEventIDs] records the header of every connect.
//
// A stream receives: every stored event of its flows (message, status,
// comment, file, activity, discussion, message-edit, tag-change,
// user-edit) while the user is a member; with user=1, the private messages
// and their edit events of the user's conversations, with "to" and no
// "flow"; and, whatever the filter, the user's own flow-add {"event",
// "user", "content": {id, name, parameterized_name, organization, open,
// joined, url, access_mode}, "sent"} and flow-remove {"event", "user",
// "content": {id}, "sent"} events, which carry no message id
// ([Server.AddToFlow], [Server.RemoveFromFlow]). The bot's own posts are
// echoed to its own streams, with its user id and uuid, as on Flowdock.
// After RemoveFromFlow the flow's events stop at once; after AddToFlow the
// new flow is streamed only once the client reconnects with it in filter.
//
// # Faults
//
// [Server.DropConnections] ends every open stream cleanly;
// [Server.SendMalformed] writes one event with invalid JSON data;
// [Server.InjectEvent] writes one event exactly as given, any "id:" line
// included (control characters, NUL); [Server.InjectMessage] sends a chat
// message with any message id (huge, negative, reused) without storing it;
// [Server.Stall] stops all stream writes, keep-alives included, for a
// while; [Server.FailStreams] fails the next n stream connects with a
// status; [Server.FailRequests] fails the next n REST requests with a
// status (e.g. 500, 503); [Server.ResetRequests] drops the connections of
// the next n REST requests that change something before serving them, and
// [Server.LoseAnswers] after serving them, so that a client cannot tell
// whether Flowdock acted.
// [Server.Connections] and [Server.WaitConnections]
// observe open streams. [WithConnectionObserver] reports every stream that
// connects, ends or is refused, with who asked and why, and
// [ConnectionEvent.Explain] turns a report into a line for a person, so
// that a program running the emulator can tell at once that no bot holds
// a stream, or that its token is wrong.
//
// # Acting as others, and recording
//
// [Server.Post], [Server.PostInThread], [Server.Status], [Server.Comment],
// [Server.Upload], [Server.PrivateMessage], [Server.Edit], [Server.SetTags]
// and [Server.Present] act as other users or as an integration, through
// the same code as the API. [Server.AddToFlow] and [Server.RemoveFromFlow]
// change the bot's memberships. [Server.Requests] is the request log,
// [Server.Sent] and [Server.WaitSent] the bot's posts with its own token,
// [Server.IntegrationPosts] the posts with a flow token, [Server.Messages]
// and [Server.PrivateMessages] the stored messages.
//
// The control endpoints need no authentication and take JSON or form
// bodies:
//
//	GET  /_sim/info            URLs, bot, users with tokens, flows with flow tokens
//	POST /_sim/post            {"flow","user","text","thread_id"?,"tags"?,"uuid"?} → 201 message
//	POST /_sim/private         {"user","text"} → 201 message (user → bot)
//	POST /_sim/comment         {"flow","user","message","text"} → 201 message
//	POST /_sim/present         {"flow", …a flow_token post body} → 202 {}
//	POST /_sim/flows/add       {"flow"} → 200 {}
//	POST /_sim/flows/remove    {"flow"} → 200 {}
//	GET  /_sim/sent            the bot's posts ([SentMessage] list)
//	GET  /_sim/messages?flow=  stored messages of a flow ([Message] list); ?user= for a private chat
//	GET  /_sim/requests        the request log
//	POST /_sim/drop, /_sim/malformed
//	POST /_sim/inject/event    {"id","data"} → 200 {} (a raw event on every open stream)
//	POST /_sim/inject/message  {"flow","user","id","text"} → 200 message (any message id, not stored)
//	POST /_sim/stall           {"seconds"}
//	POST /_sim/fail-streams    {"status","count"}
//	POST /_sim/fail-requests   {"status","count"}
//
// # Demo data
//
// Unless [WithoutDemoData]: organization Acme (acme, id 1); the bot
// (id 1201, nick "parley"); dana (1305, Dana Scully), mike (1310, Mike
// Ross) and Ray_ (1320, Ray Zhu); flows acme/main (everyone), acme/ops (bot,
// dana, mike; integration "CI"), acme/random (bot, Ray_) and acme/hr
// (dana, Ray_; organization access, so the bot sees it in /flows/all with
// joined:false but cannot read or stream it); a thread in acme/main with a
// reply, a mention of the bot, a tagged link in acme/ops and a CI activity
// "Build #88" with a red status, and a private message from dana to the
// bot. Tokens are random per server unless set with [WithUser],
// [WithUsers] and [WithFlows]. Flow ids are stable UUID-like strings
// derived from "org/flow".
//
// # Faithful, assumed, simplified
//
// Faithful to documented or observed behaviour: the auth forms, the
// Flowdock-User header, 201 + message for user-token posts and 202 {} for
// flow-token posts, per-flow message ids, threads on every message, the tag
// rules and the tag examples observed on the live service, edit → 200 {},
// the three delete outcomes, 404 {"message":"not found"}, both list
// patterns with their quirks (ascending results, union of search and tags,
// skip from the newest, sort only choosing the end), threads newest first
// with limit/since/until, private message tags/edit/delete/files, the ten
// status colours, files by multipart or JSON with 302 downloads, the SSE
// and \r\n JSON formats, Last-Event-ID replay, echo of the bot's own
// messages, and flow-add/flow-remove.
//
// Assumptions (Flowdock's documentation and the observed behaviour leave
// these open): the SSE id scheme above; SSE keep-alives as comment lines;
// 404 (not 403) for a flow the user has not joined, on REST and on the
// stream; 400 (not 422) for validation, and the wording of all error
// messages other than "not found"; a duplicate uuid is rejected; status
// events have no thread; deletes emit no stream event; user-token posts of
// activity or discussion are refused; a comment on a comment is refused;
// search also matches titles, bodies and file names; filters apply event to
// the search pattern too; last_activity and last_ping are milliseconds.
//
// Simplified: every user can see every organization and user; there is no
// OAuth server (a personal token also works as a Bearer token); the
// download URL's signature never expires; search and tag results appear at
// once (Flowdock needed about a second); the stream keeps the newest
// 100000 events for replay; flow users always have status null and
// last_activity at flow creation.
//
// Not simulated: OAuth authorize/token endpoints, creating or updating
// flows and organizations, invitations, sources endpoints (other than the
// flow_token itself and [Server.RevokeFlowToken]), SCIM, the deprecated
// Push API, attachments on integration posts, emoji reactions, presence
// and activity.user events, typing indicators, backend.user.join and
// backend.user.block events, rate limiting (Flowdock published none; use
// [Server.FailRequests] with 429), and the delays of the real search
// index.
package flowdocktest
