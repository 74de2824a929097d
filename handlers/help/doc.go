// Package help is a handler that lists a bot's commands, generated from the
// documentation its routes were registered with:
//
//	b.Handle(bot.Command("help"), help.Handler{Routes: b}, bot.Help("help", "list the commands"))
//	b.Handle(bot.Command("echo"), echo.Handler{}, bot.Help("echo <text>", "repeat <text>"))
//
// "/help" then answers
//
//	Commands:
//	help         — list the commands
//	echo <text>  — repeat <text>
//
// # What is listed
//
// One line per route that has a usage, in the order the router tries the
// routes (see [bot.Router.Routes]): its [bot.RouteInfo] Usage, then, when
// it has one, a dash and its Description, aligned in a column. A route registered on a
// [bot.Command] without [bot.Help] is listed by its command ("/name");
// routes without a usage (regular expressions, expressions, fallbacks) are
// left out, observer routes are not. A bot without any usage answers
// "No commands.".
//
// The list is built when a message asks for it, so it always matches the
// routes, and the handler keeps no state.
package help
