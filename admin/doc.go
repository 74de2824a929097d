// Package admin is the admin API of a Bot: a small versioned JSON API over
// HTTP, under /admin/v1/, that a team can script (curl, jq) and a browser
// console can use. [Handler] returns it; adapters/fromenv serves it on the
// admin address (PARLEY_ADMIN_ADDR).
//
// Every answer is JSON (the event stream excepted), with Cache-Control:
// no-store. An error is answered {"error": "…"} with its status: 400 for
// a malformed request, 401 without the token, 403 for a request refused
// by the checks below, 404 for an unknown path and for an unknown dead
// letter, job, platform or conversation flow, 405 with Allow for a method
// the path does not take, 413 for a body over [MaxBodyBytes], 415 for a
// body that is not JSON, 501 for explain without an explainer, 503 while
// the Bot is not running (or a queue is full), 500 for the rest. A
// conversation ID with a "/" in it is written %2F in paths.
//
// # Events
//
// GET /admin/v1/events streams the Bot's event feed (see bot.Event and
// bot.EventType for what each event says) as Server-Sent Events, from the
// moment of the request: there is no history, and a Last-Event-ID is
// ignored. Query parameters select events: platform (an adapter name,
// "sendbee/acme" for an instance, matched exactly), conversation and
// type (a type or several, comma-separated or repeated). Each event is
//
//	id: 42
//	event: sent
//	data: {"seq":42,"time":"2025-06-02T10:00:00.1Z","type":"sent","platform":"sendbee","conversation":"c1","key":"sendbee:m1:0","duration":81000000}
//
// (durations in nanoseconds). A comment line ": heartbeat" comes when
// nothing else did for 15 seconds ([WithHeartbeat]). A client that does
// not keep up loses events rather than slowing the Bot; the stream then
// says how many, before the next event or heartbeat:
//
//	event: dropped
//	data: {"dropped":8,"total":8}
//
// The stream ends when the client goes and when the Bot stops.
//
//	curl -N http://127.0.0.1:9090/admin/v1/events?conversation=c1
//
// # Dead letters
//
// GET /admin/v1/dead-letters lists the dead letters, oldest first, up to
// ?limit= (default 100, at most 1000), with how many there are:
//
//	{"dead_letters":[{"id":"1","platform":"sendbee","conversation":"c1","key":"sendbee:m1:0",
//	  "reply_to":"m1","error":"bot: sendbee: 503 …","outcome_unknown":false,"attempts":5,
//	  "time":"2025-06-02T10:00:00Z"}],"total":1}
//
// A letter shows no text unless the handler was built [WithMessageText]
// ("text" is then there too). GET /admin/v1/dead-letters/{id} answers one
// letter the same way; POST /admin/v1/dead-letters/{id}/replay queues it
// again under its key ({"id":"1","status":"replayed"}); DELETE
// /admin/v1/dead-letters/{id} discards it ({"id":"1","status":"discarded"}).
// An ID not held (never was, or replayed or discarded since) is 404.
//
// # Conversations
//
// GET /admin/v1/conversations lists the conversations the handler saw on
// the event feed, the most recently active first, up to
// [WithConversationLimit] (the least recently active are forgotten). It
// follows the feed from the start of the Bot's Run ("since"; null before),
// or from its own start when built later: it knows nothing from before,
// nor what another replica saw. "dropped" counts the events it lost. It
// follows only the events it counts (received, duplicate, owner, sent,
// suppressed, dead_lettered, owner_changed, flow_step): the Bot builds
// no other event for it.
//
//	{"conversations":[{"platform":"sendbee","conversation":"c1","first_seen":"…",
//	  "last_activity":"…","owner":"bot","events":{"received":3,"sent":3,…}}],
//	 "since":"…","limit":1000,"dropped":0}
//
// GET /admin/v1/conversations/{platform}/{conversation} answers its owner
// as the Bot records it, what the handler saw of it ("seen", null if
// nothing), on a platform with a customer-service window (Sendbee) the
// window ("window": open, when the customer last wrote and when it closes,
// bot.Bot.Window), when the customer opted out of proactive messages
// ("opted_out", absent if they did not), and, with a flow engine
// ([WithFlows]), its active flow (null when none): name, run, step,
// attempts, paused, when it started and when the step was asked, and the
// names of the values saved, and the values themselves [WithMessageText]:
//
//	{"platform":"sendbee","conversation":"c1","owner":"bot","seen":{…},
//	 "window":{"open":true,"last_inbound":"…","closes_at":"…"},"opted_out":"…",
//	 "flow":{"flow":"lead","run":"…","step":"email","attempts":0,"paused":false,
//	  "started":"…","asked":"…","value_names":["name"]}}
//
// POST …/{platform}/{conversation}/handoff hands the conversation to
// humans (bot.Bot.Handoff) and POST …/resume gives it back to the bot
// (bot.Bot.Resume); each answers {"platform":…,"conversation":…,"owner":
// "human"} (or "bot"). An unknown platform is 404.
//
// Everywhere in the API, platform is the adapter's name, Message.Platform:
// a named instance of a platform (one of a bot's several Sendbee numbers,
// say) is "sendbee/acme", its conversations and events apart from those of
// "sendbee" and "sendbee/globex", even under the same conversation ID. In a
// path its slash is escaped: /admin/v1/conversations/sendbee%2Facme/c1.
//
// # Jobs
//
// GET /admin/v1/jobs lists the scheduled jobs:
//
//	{"jobs":[{"name":"report","spec":"0 9 * * 1-5","next":"2025-06-03T09:00:00+02:00"}]}
//
// POST /admin/v1/jobs/{name}/run runs one now, in this process (see
// bot.Bot.RunJob), and answers when it has returned:
// {"job":"report","duration":1200000}. The job's error is answered 500
// with its text; an unknown job is 404; a job running already in this
// process (a fire or another run) is 409. The run goes on if the client
// goes.
//
// # Rules and explain
//
// GET /admin/v1/rules lists the Bot's routes in the order they are tried,
// each with its name when it has one (bot.RouteName):
//
//	{"routes":[{"rule":"Command(\"help\")","usage":"/help","description":"list the commands","priority":0},
//	  {"name":"rules file","rule":"Always()","priority":0,"observer":true}]}
//
// POST /admin/v1/explain, with an explainer ([WithExplainer]; parley run
// gives its rules file's), says how the rules decide on a message without
// running any action. The body gives the message: text (required), and
// optionally platform, conversation, kind, direct, author, and owner
// ("bot" or "human"; by default the Bot's record of the conversation when
// the body names one):
//
//	{"text":"I want a refund","platform":"sendbee","conversation":"c1"}
//
// and the answer is an [Explanation]:
//
//	{"rules":[{"rule":"refund","priority":0,"result":"matched","runs":true,
//	  "decided_by":"text contains \"refund\"","actions":[{"kind":"reply","detail":"\"Sorry…\""}]}],
//	 "table":"#  RULE    PRIORITY  RESULT         DECIDED BY\n1  refund  0 …"}
//
// # Stats
//
// GET /admin/v1/stats answers the Bot's counters (bot.Stats, in
// snake_case), the messages waiting in this process's queues and the
// events the feed's subscribers lost:
//
//	{"received":3,"duplicates":0,"handled":3,…,"job_runs":0,
//	 "pending_inbound":0,"pending_outbound":0,"feed_dropped":0}
//
// # Security
//
// With a token ([WithToken]; PARLEY_ADMIN_TOKEN for fromenv), every
// request needs the header "Authorization: Bearer <token>", compared in
// constant time; without it the answer is 401 with WWW-Authenticate.
//
// Without a token the API is for the local machine only (fromenv refuses
// to serve it beyond loopback), and it refuses what a web page of another
// site could make a browser on that machine send:
//
//   - a request whose Host is not a loopback name or address (localhost,
//     *.localhost, 127.0.0.0/8, [::1]), which a DNS rebinding attack
//     would send: 403;
//   - a POST or DELETE whose Origin header, when there is one, is not the
//     API's own host: 403;
//   - a POST or DELETE with a body (or a Content-Type) that is not
//     application/json, which is what an HTML form sends: 415. A request
//     without a body may leave the Content-Type out (curl -X POST).
//
// The handler logs no token and no message text; its event stream holds
// text only when the Bot was built with bot.WithEventText.
package admin
