// Package rulefile runs a bot from a YAML rules file: rules that answer,
// tag, hand off, forward and remember, and schedules that send, written by
// people who run the bot rather than by Go programmers, and reloaded while
// the bot runs.
//
//	set, err := rulefile.Load("rules.yaml") // validates everything
//	if err != nil { … }                     // a *LoadError, with file:line:column of every problem
//	e := rulefile.NewEngine(set)
//	if err := e.Install(b); err != nil { … } // b is a *bot.Bot, before b.Run
//	go e.Watch(ctx, "rules.yaml", sighup)   // reload on change and on SIGHUP
//
// # The file
//
// A rules file is one YAML document with six optional top-level keys:
//
//	commands:                 # how users type commands (a bot.CommandSyntax)
//	  prefixes: ["/", "!"]    # default "/" and "!"; [] means none (direct chats and names only)
//	  names: [parley]         # "parley, help" and "@parley help" are commands too
//
//	vars:                     # defaults of the conversation variables
//	  team: Support
//
//	rules:
//	  - name: refund                   # required, unique
//	    when: >-                       # an expr-lang expression over bot.Env
//	      Platform == "sendbee"
//	      && lower(Text) contains "refund"
//	    priority: 10                   # higher first; default 0; then file order
//	    observer: false                # true: also runs while a human owns the conversation
//	    global: false                  # true: tried first, even while a flow waits (see Flows)
//	    help:                          # for help handlers (Engine.Routes); or just a description
//	      usage: refund <order>
//	      description: start a refund
//	    actions:                       # in order; each a mapping with exactly one key
//	      - tag: [refund]
//	      - set: {topic: refund}
//	      - forward:
//	          platform: flowdock
//	          conversation: support
//	          text: "Refund request from {{.Author.Name}}: {{.Text}}"
//	      - handoff: "Sorry to hear that, {{.Author.Name}}. An agent will take over."
//	  - name: order
//	    command: order                 # the command "/order …" in the file's syntax
//	    when: Direct                   # optional with a command: both must hold
//	    actions:
//	      - template:                  # an approved message template (bot.Template)
//	          keyword: order_status
//	          language: en
//	          tags: {"1": "{{.Author.Name}}", "2": "{{.Captures.Args}}"}
//
//	fallback:                  # when no rule handled a message addressed to the bot
//	  - reply: "Sorry {{.Author.Name}}, I did not get that. Write 'agent' to talk to a person."
//
//	schedules:
//	  - name: standup                  # required, unique; the Bot's job is "rulefile:standup"
//	    cron: "CRON_TZ=Europe/Zagreb 0 9 * * MON-FRI"
//	    actions:
//	      - send: {platform: flowdock, conversation: team, text: "Stand-up time, {{.Vars.team}}!"}
//
//	flows:                     # conversations that ask, wait and check; see Flows below
//	  lead: …
//
// Keys are checked at every level: an unknown or repeated key is an error
// (with a suggestion for a typo), and so is a value of the wrong type.
// Anchors and aliases may be used; merge keys (<<) may not.
//
// A rule needs when, command, or both. The when expression is compiled
// with [bot.Expr] against [bot.Env] (Text, Platform, Conversation, Thread,
// Kind, Author, Tags, Owner, Direct, Time; hasTag, isCommand, hour,
// weekday, between and expr-lang's built-ins) and must be boolean. A
// command matches the command word in the syntax of the commands section
// and makes its name and arguments available as .Captures.Command and
// .Captures.Args; isCommand inside when uses the default syntax instead.
//
// # Actions
//
// A rule's actions run in order when the rule matches; the first that fails
// ends the rule with its error, which the Bot logs and reports as a handler
// error. Actions whose value is a template are marked so:
//
//	reply: <template>          reply to the message
//	template:                  reply with an approved message template: a reply whose
//	  keyword: <name>          Payload is a bot.Template (Text empty); adapters without
//	  language: <code>         templates refuse it with errors.ErrUnsupported
//	  tags: {<placeholder>: <template>, …}
//	  button_tags: {<placeholder>: <template>, …}
//	  attachment: <template>   media URL of a template with a media header
//	tag: [<tag>, …]            tag the conversation through the adapter's bot.Tagger
//	                           (skipped, with a Debug log line, on a platform that
//	                           cannot tag); a single tag may be written alone
//	handoff: <template>        reply, and hand the conversation to humans once it is delivered
//	handoff:                   … then tell the team (see Handoffs to a team)
//	  text: <template>         the reply; default handoff.DefaultReply
//	  team: {platform: <adapter name>, conversation: <name or id>}
//	  notify: <template>       what the team is told; default handoff.DefaultNotify
//	handoff: true              hand it to humans now (bot.Bot.Handoff)
//	resume: true               give it back to the bot now (bot.Bot.Resume)
//	resume: {team: {…}}        obey the team's resume command (see Handoffs to a team)
//	forward:                   send a message elsewhere, for example to a Flowdock flow
//	  platform: <adapter name>
//	  conversation: <id>
//	  text: <template>
//	set: {<var>: <template>, …}   set conversation variables
//	clear: [<var>, …]          remove conversation variables (their defaults apply again)
//	start_flow: <flow>         start a flow of the file in the conversation (see Flows)
//	start_flow:                … with initial values
//	  name: <flow>
//	  values: {<name>: <template>, …}
//	cancel_flow: true          end the conversation's flow, if one runs, without on_done
//	continue: true             last action only: routing goes on to the next matching rule
//	stop: true                 last action only: routing stops here (the default)
//
// Because handoff: true takes effect at once, and the Bot suppresses bot
// messages to human-owned conversations right before delivery, a reply
// before it in the same rule would be lost: that is a load error, and the
// way to say something and hand off is handoff: "<text>".
//
// A schedule's only action is send, with the keys of forward.
//
// # Handoffs to a team
//
// A handoff with a team tells the people who take over, in their own
// conversation (an agents' Flowdock flow), as the Handler of package
// handlers/handoff does for Go bots: after the reply, it posts the
// notification there, by default handoff.DefaultNotify:
//
//	Ana asks for a person on sendbee (c-42): can I talk to a person?
//	Answer them there. To give the conversation back to the bot, type: /resume sendbee c-42
//
// notify is a template over the data of the rule's templates and .Resume,
// that command. A rule whose action is resume: {team: …} obeys the command
// as handoff.ResumeHandler does with the team: "/resume <platform>
// <conversation>" typed in the team's conversation, or "/resume" alone
// typed by an agent (Author.Agent) in the customer's conversation, gives
// the conversation back to the bot (a flow the handoff paused then asks
// its question again, or ends, as its on_handoff says) and confirms it in
// the team's conversation. A /resume from anyone else is not obeyed: the
// rule declines the message, its later actions do not run, and routing
// goes on as if it had not matched. Make the rule an observer, so that it
// hears agents in conversations humans own; an anchor names the team once:
//
//	rules:
//	  - name: agent
//	    when: lower(Text) in ["agent", "human"]
//	    actions:
//	      - handoff:
//	          text: "Connecting you to a colleague…"
//	          team: &team {platform: flowdock, conversation: acme/support}
//	  - name: resume
//	    command: resume
//	    observer: true
//	    actions:
//	      - resume: {team: *team}
//
// The team's conversation is named as its people know it. On Flowdock,
// whose messages carry the flow's ID, that is "org/flow": the Engine asks
// the adapter for the ID (see [ConversationResolver]) the first time it
// needs it. Elsewhere it is the conversation's ID. A team on a platform
// the Bot has no adapter for is left out, with a Warn log line when the
// file is installed or reloaded: its handoffs only reply, and only agents'
// "/resume" is obeyed, so that a file runs where that platform is not
// configured (parley run on the terminal).
//
// # Fallback
//
// A bot whose rules do not match a message says nothing. The fallback key
// is what it does instead: a list of actions, the same as a rule's except
// continue and stop, with the same template data. .Captures holds the
// command name and arguments when the message is written as a command of
// the file's syntax (with a prefix, or addressed by name), so that
// "Sorry, I know no command {{.Captures.Command}}" can be said; in a plain
// text it is empty.
//
// The fallback runs when nothing else answered, the way a bot.Router's
// NotFound handler does: no rule handled the message (none matched, or
// every one that matched ended with continue), and no other route of the
// Bot did either (such as the help command of parley run): [Engine.Install]
// registers it as a route with the lowest priority, tried after all the
// others and before the Bot's own NotFound handler. Like that handler it
// does not run while a human owns the conversation. And it answers only
// what a person wrote to the bot, so that it does not pester:
//
//   - messages of kind "message": not edits, deletions, receipts or other
//     events, which rules can still handle by their Kind;
//   - written by neither a bot (Author.Bot) nor an agent (Author.Agent);
//   - addressed to the bot: Direct (a one-to-one conversation, or on
//     Flowdock a message that mentions the bot), or a command in the
//     file's syntax, "/what" or "parley, what" in a group conversation.
//
// A message a rule's condition could not decide because it went over its
// limits fails, and gets no fallback.
//
// # Templates
//
// Texts are text/template templates, checked when the file is loaded:
// syntax, functions and the fields they use. The data of a rule's
// templates is the inbound message's fields (.Text, .Author.Name,
// .Author.Phone, .Platform, .Conversation, .Thread, .Tags, .Kind, .Time,
// .Direct, .ID), plus .Vars, the conversation's variables, and .Captures,
// the command's .Command and .Args. The data of a schedule's templates is
// .Vars (of the target conversation), .Now (the fire time in the Bot's
// time zone) and .Schedule (its name). Besides text/template's built-ins
// (printf, index, len, eq, …) templates can call lower, upper, trim,
// default (`{{.Vars.name | default "there"}}`) and join
// (`{{join ", " .Tags}}`). A missing variable is the empty string.
//
// # Conversation variables
//
// Variables are strings kept per conversation in the Bot's Store (see
// [WithStore]) under "rulefile:vars:<platform>:<conversation>", as a JSON
// object of the variables set (defaults are not stored), for 30 days after
// their last change (see [WithVarsTTL]). A rule sees the values as they are
// when it starts, and its own set and clear actions as it goes. The Bot
// handles a conversation's messages one at a time, so two rules never
// update one conversation's variables at once.
//
// Conditions (a rule's when, a flow step's next) read the variables as
// vars.<name> (vars.team == "sales"; a variable never set and without a
// default is nil), and the flow that runs in the conversation as
// flow.name, flow.step, flow.attempts, flow.paused and flow.values.<name>,
// or values.<name> for short (flow.name is "" when none runs). They are read
// from the Store only by the conditions that reach them, once per message:
// a rule that does not use them costs nothing more. A rule's condition sees
// the variables as they are when it is tried, including those set by a
// rule before it that ended with continue.
//
// # Flows
//
// A flow is a conversation the bot leads: a list of steps, each of which
// asks a question, waits for the customer's next message, checks it, saves
// it and chooses the next step; a refused answer is asked again, a few
// times, then the flow goes elsewhere. Flows run on the flow engine of
// package flow: their state lives in the Bot's Store, survives restarts,
// and advances once per answer even with several replicas. A rule starts
// one with start_flow; while it waits, the conversation's messages go to
// the flow first (the flow engine's route comes before the rules), unless a
// human owns the conversation, or a global rule takes them (see Global
// rules below). flows is a mapping of names to flows (or a list of flows,
// each with a name):
//
//	flows:
//	  lead:
//	    steps:
//	      - name: name                       # required, unique in the flow; not end, handoff or cancel
//	        ask: "Hi! What is your name?"    # required: a template (see below)
//	        expect: {text: {min: 2, max: 60}}
//	        save: name                       # the value is .Values.name, values.name
//	      - name: email
//	        ask: "Your e-mail, {{.Values.name}}?"
//	        expect: email
//	        save: email
//	        retry:                           # when the answer is refused
//	          max: 3                         # asks again 3 times (default 2; -1: forever)
//	          message: "An e-mail such as ana@example.com, please."
//	          say: "Let me find you a person." # said when it gives up, before then
//	          then: handoff                  # then: a step, end, handoff (default) or cancel
//	        remind: {after: 10m, say: "Still there? {{.Ask}}"}  # .Ask: the question
//	        timeout: {after: 1h, then: cancel, say: "Let's talk later!"}
//	      - name: phone
//	        ask: "And your phone number?"
//	        remind: {after: 23h, say: "Still there?", template: {keyword: still_there, language: en, tags: {"1": "{{.Values.name}}"}}}
//	      - name: size
//	        ask: "How many people work with you? 1. 1-10 2. 11-50 3. more"
//	        expect:
//	          choice:                        # "2", "11-50" or "medium" pick the second
//	            - {value: small, label: "1-10"}
//	            - {value: medium, label: "11-50", synonyms: [mid]}
//	            - {value: large, label: more}
//	          reask: "1, 2 or 3, please."
//	        save: size
//	        actions:                         # when the answer is accepted
//	          - call: crm.update             # a Go action given with WithAction
//	            args: {email: "{{.Values.email}}", size: "{{.Values.size}}"}
//	        next:                            # the first branch whose when holds
//	          - when: values.size == "large" && vars.region == "eu"
//	            goto: call
//	        default: end                     # else (goto: says the same); default: the following step
//	      - name: call
//	        ask: "When can {{.Vars.team}} call you?"
//	    done: "Thanks, {{.Values.name}}!"    # said when the flow ends at end
//	    on_done:                             # called when it ends at end, once
//	      - call: crm.lead
//	        args: {name: "{{.Values.name}}", email: "{{.Values.email}}", score: 3}
//	      - set: {lead: "{{.Values.email}}"}   # conversation variables, as a rule's set
//	      - clear: [source]                  # and clear
//	    interrupt: pause                     # pause (default) or cancel; see flow.Engine.Global
//	    on_handoff: resume                   # resume (default) or end, when the bot gets the conversation back
//	    ttl: 7d                              # how long a silent flow is kept (default 7d)
//
// The checks of expect, one per step, are those of package flow: text
// (free text, with min and max characters), number and integer (with min
// and max), email, phone (E.164; phone: {region: "385"} also takes national
// numbers of that calling code), choice (a list of values, or of mappings
// with value, label and synonyms), yesno (saves true or false), date (in
// the Bot's time zone; date: {layouts: [...]} for Go layouts), regexp (the
// whole answer must match; groups save a list) and expr (a condition over
// Text and the message, as a rule's when). reask rewords the check's
// re-ask. Without expect any non-empty text is accepted. The value saved
// keeps its type: a number is compared as one in next (values.size > 50).
//
// Durations are Go durations with days: 90s, 10m, 1h30m, 7d.
//
// The texts of ask, done, the say of remind, timeout and retry, retry's
// message and expect's reask are templates whose data is .Values, .Vars, .Flow,
// .Step, .Platform and .Conversation, and the fields of the message that
// led to the text, as in a rule's templates (.Text, .Author.Name, .Time,
// .Tags, …; not .Captures): the answer, for the next step's question and
// for a re-ask ("{{.Text}} is not a number of people, please write one");
// the message that started the flow, for its first question ("Hi
// {{.Author.Name}}!"); the message a global rule answered, for the
// question asked again after it. Without such a message the fields are
// empty: in a reminder and a timeout's say, which a timer sends, and in
// what a timeout's then leads to, and in a flow started by Go code
// without a message (flow.Engine.Start). The say of remind also has
// .Ask, the step's question as it would be asked then (without a
// message), so that a reminder repeats the question without a copy of
// it: say: "Still there? {{.Ask}}". The data of these texts also has
// .WindowOpen, whether the conversation's customer-service window is open
// (true on a platform without one), and .WindowClosesAt, when it closes
// or closed (zero when there is none or it is not known; see
// bot.ServiceWindower). A re-ask is rendered when the answer
// is refused, and retry's message or reask that renders nothing leaves
// the re-ask to the next (the check's own, then the question).
//
// A free-form text can only be sent within WhatsApp's 24-hour
// customer-service window: a reminder or a timeout a day after the
// customer last wrote is refused (logged, and not sent later). remind and
// timeout therefore take a template: with the keys of the template action
// (keyword and language required; tags, button_tags, attachment), an
// approved message template sent instead of say when the conversation's
// window applies and the Bot knows it is closed. Its tags, button tags and
// attachment are templates over the data of the say (.Ask included, for
// remind). While the window is open, or on a platform without one, say is
// sent as before: a remind without say asks the question again, a timeout
// without say says nothing. The question of a step has no template: it
// answers the customer's message, within the window.
//
// The string arguments of a call (others keep their type) are templates
// too, over .Values, .Vars, .Flow, .Step, .Platform, .Conversation and
// .Contact, the author of the answer, without the message's fields.
//
// A mapping of arguments has no order: an action that shows rows in
// order takes them as a list of mappings, such as the fields of the
// flowdock.present action of parley run (package adapters/flowdock,
// PresentAction), which also leaves out a row whose value renders empty:
//
//	fields:
//	  - {label: Name, value: "{{html .Values.name}}"}
//	  - {label: Phone, value: "{{html .Values.phone}}"}   # no row without a phone
//
// Besides calls, a step's actions and on_done may set and clear
// conversation variables, with the keys of the rule actions:
// set: {<var>: <template>, …} and clear: [<var>, …] (or one name). They
// change the variables as those actions do (the limits of MaxVarSize
// included), their templates over the data of a call's arguments, and
// they run in order with the calls and like them, once per completion of
// the step or the flow: what a flow sets when it ends is there for the
// rules of the conversation's next message (vars.lead != nil), so that a
// rule can tell a customer who answered everything from one who did not.
// They expire as the variables rules set do (see [WithVarsTTL]).
//
// Calls name actions that Go code gives the Engine, explicitly:
//
//	e := rulefile.NewEngine(set, rulefile.WithAction("crm.lead", velaflows.CreateLeadAction(…)))
//
// A file that calls an action not given so is refused, with the call's
// position, by Install and by a reload. The file's other problems are load
// errors with positions: an unknown step in goto, default, retry's or
// timeout's then, a step no other step leads to, a loop with no exit (steps
// from which the next choices never reach end, handoff or cancel), a check
// with bad arguments (min over max, a bad pattern or condition), a
// start_flow naming no flow of the file.
//
// [Engine.Install] makes a flow engine for the Bot and installs it when the
// file has flows (or uses the one given with [WithFlows]); a bot installed
// without flows cannot get them by a reload. A reload replaces the file's
// flows at once. A conversation waiting in a flow keeps its step and values
// when the new file still has the flow and the step; when it no longer
// does, the reload ends the run (without on_done, silently) and logs it at
// Warn level with the flow and the step.
//
// # Global rules
//
// A rule with global: true is tried before the flow waiting in the
// conversation, and before the rules that are not global (in priority
// then file order among the global rules), so that a customer in a flow
// can still ask for help, a person, or to stop:
//
//	rules:
//	  - name: help
//	    global: true
//	    when: lower(Text) == "help"
//	    actions:
//	      - reply: "Answer the question, or write stop. Write agent for a person."
//	  - name: agent
//	    global: true
//	    when: lower(Text) in ["agent", "human"]
//	    actions:
//	      - handoff: "An agent will take over."
//	  - name: stop
//	    global: true
//	    when: lower(Text) in ["stop", "cancel"]
//	    actions:
//	      - cancel_flow: true
//	      - reply: "Stopped. Write demo to start again."
//
// When a global rule handles a message while a flow waits, the flow's
// interrupt applies once the rule's actions are done: the flow asks its
// question again (pause) or is cancelled (cancel). A rule that cancels
// the flow (cancel_flow) or starts one (start_flow) is left to do so,
// and one that hands off (handoff: "<text>" or handoff: true) pauses the
// flow, whose on_handoff then says what happens when the conversation
// comes back to the bot. A global rule
// that ends with continue, or does not match, lets the flow take the
// message. With flows, a file that has global rules costs every message
// one more read of the conversation's flow state from the Store, which
// the flow engine makes before the global rules are tried.
//
// Engine.Install runs the global rules in a route of their own with the
// priority flow.GlobalPriority and the flow engine's flow.Engine.Global
// option. A file without flows may have global rules too: they are tried
// first all the same, before the Bot's routes of lower priority, and a
// reload may add or remove them. Set.Rules and Set.Routes list them
// first.
//
// # Limits
//
// Rules run on messages from anyone, so what one message can cost is
// bounded, and a message that would cost more fails with an error, which
// the Bot logs and reports as a handler error, instead of slowing or
// killing the process. A when expression has the limits of [bot.Expr]: a
// budget of steps and a time limit per evaluation, and patterns of matches
// of bounded size; a condition over its limits counts as not matching, the
// other rules still run, and the message fails. A template renders at most
// [MaxTextSize] bytes, a variable holds at most [MaxVarSize] bytes (so that
// a variable set from itself, v: "{{.Vars.v}}{{.Vars.v}}", stops growing
// with an error rather than doubling with every message), and the ranges
// of a rule's templates run at most [MaxTemplateSteps] iterations per
// message. What is over a limit whatever the message is a load error with
// its position: a constant pattern too large, also one computed from
// constants such as repeat("(a*)*", 10000), a constant part of an
// expression over the budget such as all(1..100000000, # > 0), a range
// over a number larger than MaxTemplateSteps, a default larger than
// MaxVarSize.
//
// # Errors
//
// [Parse] and [Load] check the whole file and return a [*LoadError] that
// lists every problem, in file order, each with the file, line and column
// of the node at fault: "rules.yaml:7:31: rule \"refund\": when: unknown
// name Txt (column 21 of the expression)". The position of an error inside
// an expression or a template is mapped onto the file, through quotes,
// escapes and block scalars (| and >). A file with a problem yields no Set:
// nothing of it is ever half-applied. [Engine.Install] also checks the file
// against the Bot (platforms named by forward and send, job names) before
// it registers anything.
//
// # Reloading
//
// An [Engine] is a bot.Handler registered once on the Bot; it holds its
// current Set in an atomic pointer, and each Set has its own bot.Router
// built from its rules. [Engine.Watch] polls the file and reloads it when
// it changes, and whenever a signal arrives on the channel given to it
// (wire it to SIGHUP): the new Set replaces the old one atomically, and a
// broken edit is refused, logged and reported to [WithReloadHook] while the
// previous rules keep running. Schedules are registered on the Bot as jobs
// named "rulefile:<name>"; a reload whose schedules differ removes those
// jobs from the running Bot and adds the new file's, each starting with its
// next fire time.
//
// # Explain
//
// [Set.Explain] shows, for a message, each rule in the order it is tried
// with matched, not matched, error or skipped, the sub-expression that
// decided it and whether its actions run, and then whether the fallback
// runs; [Format] prints that as a table. Under each rule that runs (and
// the fallback, when it does) it shows what the actions would do: the
// text of a reply, a handoff or a forward rendered with the message, the
// tags, the variables set, and so on. A text that reads the conversation's
// variables is shown as written, since they live in the Bot's Store;
// variables the rule itself set before are known.
//
//	#  RULE          PRIORITY  RESULT         DECIDED BY
//	1  order-status  0         matched, runs  command order
//	   reply: "Order 42 left our warehouse today."
//	2  refund        0         not matched    lower(Text) contains "refund"
//	3  (fallback)    -         matched        rule "order-status" handled the message
//
// [Set.ExplainIn] also takes what is known of the conversation: its
// variables, and the flow waiting in it (its name, step, attempts and
// values). A waiting flow comes after the global rules and before the
// others, as on the Bot: its row says whether it takes the message, and
// under it, the answer checked (saved or refused), the re-ask, or what
// retry's say says when the step gives up, the step's actions and the
// next step with the branch that chose it, with what it asks, or the end
// with done and on_done; or, when a global rule answered first, what that
// does to the flow. The arguments of calls and the values of set are
// shown rendered with the flow's values (those of the state given, and
// the answer) and the answer's author as .Contact; like other texts, one
// that reads variables Explain was not told is shown as written:
//
//	#  RULE         PRIORITY  RESULT         DECIDED BY
//	1  (flow lead)  -         matched, runs  waits at step "size"
//	   save: size = 120
//	   call: crm.update(email = "ana@example.com", size = "120")
//	   next: step "call" (next 1: values.size >= 50), asks "When can Sales call you?"
//	2  start        0         not matched    lower(Text) == "demo"
//
// # Performance
//
// Rules are compiled once, when the file is loaded, and the Set's router
// builds its index then too, so that a reload costs nothing on the first
// message after it. Routing a message does not ask every rule: the router
// indexes the rules by platform, kind and the literal text their
// expressions require, scans the message text once, and evaluates only the
// rules the message could satisfy. On a 2-core machine a message that
// matches none of 1,000 rules costs about 0.3 µs through an Engine, where
// evaluating every rule in turn costs about 250 µs (BenchmarkEngine).
// Loading costs about 65 µs per rule, mostly compiling its expression.
package rulefile
