package echo_test

import (
	"context"
	"fmt"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/echo"
)

// The echo handler on its command and as the fallback of a Router, driven
// with a Recorder instead of a Bot.
func Example() {
	r := bot.NewRouter()
	r.Handle(echo.DefaultRule(), echo.Handler{}, bot.Help("echo <text>", "repeat <text>"))
	r.NotFound(echo.Handler{Prefix: "You said: "})

	var rec bottest.Recorder
	for _, text := range []string{"/echo hi there", "hello"} {
		if err := r.HandleMessage(context.Background(), &rec, bottest.NewMessage(text)); err != nil {
			fmt.Println(err)
		}
	}
	for _, text := range rec.Texts() {
		fmt.Println(text)
	}
	// Output:
	// hi there
	// You said: hello
}
