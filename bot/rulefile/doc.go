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
// A rules file is one YAML document with five optional top-level keys:
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
//	handoff: true              hand it to humans now (bot.Bot.Handoff)
//	resume: true               give it back to the bot now (bot.Bot.Resume)
//	forward:                   send a message elsewhere, for example to a Flowdock flow
//	  platform: <adapter name>
//	  conversation: <id>
//	  text: <template>
//	set: {<var>: <template>, …}   set conversation variables
//	clear: [<var>, …]          remove conversation variables (their defaults apply again)
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
// update one conversation's variables at once. Variables can be used in
// templates, not in when.
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
