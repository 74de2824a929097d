// Package handoff hands a conversation from the bot to people when a
// customer asks for one, and back to the bot when an agent says so.
//
//	err := handoff.Plugin{Handler: handoff.Handler{
//		Tags: []string{"handoff"},
//		Team: handoff.Flow{Platform: "flowdock", Conversation: "support"},
//	}}.Install(b)
//
// # Handing off
//
// A customer types "/agent", "/human" or a sentence such as "can I talk to
// a person?" ([DefaultRule]). The [Handler] then replies ("Connecting you
// to a colleague…") with the reply's Handoff flag set, tags the
// conversation, and posts a notification to the agents' team flow, which
// ends with the command that gives the conversation back:
//
//	Ann asks for a person on sendbee (c-42): can I talk to a person?
//	Answer them there. To give the conversation back to the bot, type: /resume sendbee c-42
//
// The handoff itself is the Bot's: once the outbox has delivered the
// Handoff reply, the Bot records the conversation as owned by humans and
// mirrors that to a platform with its own switch (Sendbee's chatbot is
// turned off). From then on only observer routes see the conversation's
// messages, and the Bot suppresses its own messages to it. The handler does
// not call Bot.Handoff itself: the outbox checks ownership before each
// delivery, so a handoff made before the reply went out would suppress the
// reply.
//
// Tagging uses the platform adapter's [bot.Tagger] capability; an adapter
// without it is skipped with a Debug log line. Since a Tagger sets the
// whole list, the tags are added to those the customer's message carries.
//
// # Resuming
//
// The [ResumeHandler] is an observer route, so it hears commands in
// conversations that humans own. An agent gives a conversation back with
//
//	/resume sendbee c-42     in the team flow (the Team of the handlers)
//	/resume                  in the customer's conversation, as an agent
//
// The second form counts only for messages whose author the adapter marks
// as an agent (User.Agent), such as Sendbee dashboard messages; a customer
// typing "/resume" is not obeyed. The handler calls Bot.Resume, which also
// switches the platform's own automation back on, then confirms in the
// team flow and, if Back is set, tells the customer.
//
// # Installing
//
// [Plugin.Install] registers both routes on a Bot and takes from it what
// the handlers need. To register them yourself:
//
//	team := handoff.Flow{Platform: "flowdock", Conversation: "support"}
//	b.Handle(handoff.DefaultRule(), handoff.Handler{Team: team, Bot: b}, bot.Priority(handoff.Priority))
//	b.Handle(handoff.ResumeRule(), handoff.ResumeHandler{Team: team, Bot: b}, bot.Observer())
//
// A bot that is also present in the team flow should keep customer-facing
// handlers, such as the greeting of package welcome, to the customers'
// platforms, for example with bot.All(bot.Platform("sendbee"), rule).
package handoff
