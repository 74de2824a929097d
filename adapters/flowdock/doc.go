// Package flowdock connects Parley to Flowdock, a team chat whose flows
// and private chats a bot follows through the streaming API, and is a
// complete Go client for its REST API.
//
// # The API client
//
// [Client] covers the operations of the Flowdock API wrapper: the current
// user and the id behind a nick, flows, messages in flows and private chats
// (send, show, edit content and tags, delete, list with every filter of
// [ListOptions]), threads (reply, list a thread's messages, list threads),
// files (multipart upload, download), and external-service items
// ([Activity] and [Discussion] with [NewAuthor], [NewThread], [NewField] and
// [NewStatus], which rejects a colour outside [StatusColors]). A personal
// API token (HTTP Basic, FLOWDOCK_API_TOKEN) authorizes the user's calls; a
// flow token (FLOWDOCK_FLOW_TOKEN) the integration posts. Errors are
// [*APIError] with the status, Flowdock's message and field errors.
//
// # The bot adapter
//
// [Adapter] receives through the streaming API as Server-Sent Events
// (github.com/r3labs/sse/v2, one connection at a time, under the adapter's
// own supervisor; see stream.go) and replies through the REST API:
//
//	fd, err := flowdock.New(flowdock.AdapterConfig{Config: flowdock.Config{Token: os.Getenv("FLOWDOCK_API_TOKEN")}})
//	b, err := bot.New(bot.WithAdapters(fd))
//
// The supervisor keeps the stream lossless and in order: it reconnects
// after a clean end at once and after failures with backoff bound to the
// context, resumes with Last-Event-ID, backfills each flow through the REST
// API (since_id) before reading on after any reconnect, drops events whose
// message id it has already published, and reconnects a stream that stays
// silent past [StreamConfig].IdleTimeout. Credentials the server refuses
// (401, 403) end Run with a [*StreamError]. When the bot is added to or
// removed from a flow, it reloads its flows and resubscribes. A corrupt or
// hostile event cannot stop it: an event id that cannot be sent back as
// Last-Event-ID is not kept, and a message id far ahead of its flow is
// published without becoming the flow's position (see [Adapter]);
// [Adapter.Health] counts what it drops and why.
//
// Conversation is the flow id for flow messages and "private:<user id>"
// for private chats; Message.ID is "<conversation>/<message id>"; Thread is
// the Flowdock thread id, and replies go into it. Chat messages and
// comments are KindMessage, files KindMessage with an Attachment, edits
// KindEdit (ReplyTo names the edited message), discussions KindMessage and
// activities KindEvent, both tagged with their event type. The bot's own
// messages are dropped by user id and by the uuid it put on each send;
// messages of user "0" (anonymous posts) are dropped unless
// AdapterConfig.AllowAnonymous is set. A private message, or one that
// mentions the bot, is Direct. Message.Raw is the event's JSON object.
//
// # Testing
//
// Package flowdocktest is an emulator of the Flowdock REST and streaming
// APIs for tests and local runs (`parley sim flowdock`).
package flowdock
