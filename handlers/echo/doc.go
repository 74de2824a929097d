// Package echo is a handler that repeats what it is told: the "hello world"
// of Parley handlers, and a quick way to check that a bot receives and
// answers messages on a platform.
//
// Register it on a command, on the Router's fallback, or both:
//
//	b.Handle(echo.DefaultRule(), echo.Handler{}, bot.Help("echo <text>", "repeat <text>"))
//	b.NotFound(echo.Handler{})
//
// With those two routes "/echo hi" answers "hi", and any message no other
// route handles is repeated whole.
//
// # What is echoed
//
// On a route whose rule is a [bot.Command], the handler repeats the
// command's arguments (see [bot.CapturesOf]); anywhere else (the NotFound
// handler, a Regexp or Expr rule…) it repeats the whole text. It answers
// only chat messages ([bot.KindMessage]), never platform events, and never
// messages written by a bot: two echo bots in one conversation would
// otherwise answer each other forever.
//
// # Settings
//
// [Handler] is a value type whose fields are its settings; the zero value
// repeats the text as it is and stays silent when there is nothing to
// repeat.
package echo
