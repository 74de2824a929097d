package hours_test

import (
	"context"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/hours"
)

// A bot in Zagreb gets a message on a Friday evening: the handler sends
// the out-of-hours notice once and lets routing continue, so the next
// route still answers; a second message in the same conversation gets no
// second notice.
func Example() {
	zagreb, err := time.LoadLocation("Europe/Zagreb")
	if err != nil {
		fmt.Println(err)
		return
	}
	h := hours.Handler{
		Location: zagreb,
		Schedule: hours.MustParseWeek("Mon-Fri 09:00-17:00; Sat 09:00-12:00"),
		Holidays: hours.MustParseDates("2026-12-25"),
		Store:    bot.NewMemoryStore(), // in a bot, Install uses the Bot's
		Now:      func() time.Time { return time.Date(2026, 3, 6, 19, 45, 0, 0, zagreb) },
	}
	r := bot.NewRouter()
	r.Handle(hours.DefaultRule(), h, bot.Priority(hours.Priority))
	r.Handle(bot.Command("ping"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	}))

	var rec bottest.Recorder
	for _, text := range []string{"/ping", "/ping"} {
		if err := r.HandleMessage(context.Background(), &rec, bottest.NewMessage(text)); err != nil && !errors.Is(err, bot.ErrContinue) {
			fmt.Println(err)
		}
	}
	for _, text := range rec.Texts() {
		fmt.Println(text)
	}
	fmt.Println(h.Schedule)
	// Output:
	// Thanks for your message! We are closed right now and open again Saturday at 09:00 CET. We will get back to you then.
	// pong
	// pong
	// Mon-Fri 09:00-17:00; Sat 09:00-12:00
}
