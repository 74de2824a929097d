package broadcast_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/broadcast"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
)

// BenchmarkRun_paced measures how close a campaign comes to the allowed
// rate: 500 contacts against an emulator that allows 6,000 requests a
// minute, the run's own limiter set to the same. It reports the achieved
// fraction of the allowed rate (allowed_frac; the limiter aims at 0.98),
// the 429 answers the emulator gave (429s; the target is 0) and the sends
// per second. One op is one campaign (about 5s): run it with
// -benchtime=1x -count=5.
func BenchmarkRun_paced(b *testing.B) {
	const contacts, perMinute = 500, 6000
	var frac, limited, sendRate float64
	for b.Loop() {
		b.StopTimer()
		emu := sendbeetest.NewServer(b, sendbeetest.WithRateLimit(perMinute, time.Minute))
		if err := emu.SeedContacts(seedContacts(contacts, 0)...); err != nil {
			b.Fatal(err)
		}
		client, err := sendbee.NewClient(sendbee.Config{APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := broadcast.Run(b.Context(), client, bot.NewMemoryStore(), springCampaign("bench"), broadcast.Options{
			RateLimit: perMinute, Logger: slog.New(slog.DiscardHandler),
		})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Sent != contacts {
			b.Fatalf("sent %d of %d", rep.Sent, contacts)
		}
		ours, _ := count429(emu)
		frac += rep.Fraction()
		limited += float64(ours)
		sendRate += float64(rep.Sent) / rep.Elapsed.Seconds()
		client.CloseIdleConnections()
		emu.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(frac/n, "allowed_frac")
	b.ReportMetric(limited/n, "429s")
	b.ReportMetric(sendRate/n, "sends/s")
	b.ReportMetric(0, "ns/op") // one op is one paced campaign: its time says nothing
}
