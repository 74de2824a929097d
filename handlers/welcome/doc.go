// Package welcome is a handler that greets a customer on the first message
// of a new conversation, then lets the message be handled as usual:
//
//	if err := (welcome.Handler{Text: "Hi {{.Author.Name}}! I'm the Parley bot."}).Install(b); err != nil { … }
//
// # What it does
//
// For the first message of a conversation the handler sends the greeting,
// then returns [bot.ErrContinue], so the same message goes on to the other
// routes: "Hi, what are your opening hours?" is greeted and answered. For
// every later message it sends nothing and returns bot.ErrContinue.
//
// A conversation is new when the Store has no entry
// "welcome:seen:<platform>:<conversation>". The handler creates the entry
// with SetIfAbsent, so of concurrent messages (or replicas sharing a Store)
// exactly one greets. The entry lives for TTL (default 180 days): a
// customer who comes back after that is greeted again. When sending the
// greeting fails, the entry is removed, so the next message tries again.
//
// Events (receipts, edits…) and messages of bots and agents neither get a
// greeting nor mark the conversation as seen. The handler is not an
// observer: while an agent owns the conversation it does not run, and a
// conversation an agent opened is greeted at the first customer message the
// bot handles.
//
// Register it with [Handler.Install], on [bot.Always] with [Priority] 100 so
// that the greeting comes before every other reply, or yourself with a
// Store:
//
//	b.Handle(welcome.DefaultRule(), welcome.Handler{Store: b.Store()}, bot.Priority(welcome.Priority))
package welcome
