package broadcast_test

import (
	"context"
	"fmt"
	"time"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/broadcast"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
)

// Send the demo "welcome" template to the leads of an emulated Sendbee
// account, each greeted by name; the unsubscribed one is skipped.
func Example() {
	// The emulator's demo business has the template "welcome" (en):
	// "Welcome {{1}}! How can we help you?".
	emu, err := sendbeetest.Start("127.0.0.1:0", sendbeetest.WithRateLimit(6000, time.Minute))
	if err != nil {
		panic(err)
	}
	defer emu.Close()
	if err := emu.SeedContacts(
		sendbeetest.SeedContact{Phone: "+385910000001", Name: "Iva", Tags: []string{"leads"}},
		sendbeetest.SeedContact{Phone: "+385910000002", Name: "Luka", Tags: []string{"leads"}, Status: "unsubscribed"},
		sendbeetest.SeedContact{Phone: "+385910000003", Name: "Petra", Tags: []string{"leads"}},
	); err != nil {
		panic(err)
	}
	client, err := sendbee.NewClient(sendbee.Config{APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL()})
	if err != nil {
		panic(err)
	}
	defer client.CloseIdleConnections()

	rep, err := broadcast.Run(context.Background(), client, bot.NewMemoryStore(), broadcast.Campaign{
		Name:     "welcome-leads",
		Template: "welcome", Language: "en",
		Segment:       broadcast.Segment{Tags: []string{"leads"}},
		Fill:          map[string]string{"1": "name"},
		PreventBotOff: true,
	}, broadcast.Options{RateLimit: 6000})
	if err != nil {
		panic(err)
	}
	for _, r := range rep.Results {
		line := fmt.Sprint(r.Phone, " ", r.Name, " ", r.Outcome)
		if r.Reason != "" {
			line += ": " + r.Reason
		}
		fmt.Println(line)
	}
	for _, s := range emu.Sent() {
		fmt.Println(s.Phone, s.Text)
	}
	fmt.Printf("sent %d, skipped %d of %d\n", rep.Sent, rep.Skipped, rep.Total)
	// Output:
	// +385910000003 Petra sent
	// +385910000002 Luka skipped: unsubscribed
	// +385910000001 Iva sent
	// +385910000003 Welcome Petra! How can we help you?
	// +385910000001 Welcome Iva! How can we help you?
	// sent 2, skipped 1 of 3
}
