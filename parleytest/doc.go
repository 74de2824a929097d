// Package parleytest wires a Bot to the platform emulators in one call per
// platform, for end-to-end tests of a bot over real HTTP on loopback.
//
// The emulators (sendbeetest, velaflowstest, flowdocktest) import only the
// standard library, never their adapter; this package imports both and
// does the wiring a test would otherwise repeat: the adapter's credentials
// and URLs from the emulator, a webhook receiver (an httptest server
// serving the adapter) registered with the emulator the way the platform
// is told of it, a rate-limit pace for tests, a logger that writes through
// t.Log, and cleanups that stop what was started.
//
// [Sendbee], [VelaFlows] and [Flowdock] each return an adapter on a started
// emulator; [Run] runs the Bot for the rest of the test and returns once
// its adapters receive, so that what the emulator does next reaches the
// Bot. A test then plays the customer (or the flow's members) with the
// emulator and checks what it recorded:
//
//	func TestShop(t *testing.T) {
//		emu := sendbeetest.NewServer(t)
//		b, err := bot.New(bot.WithAdapters(parleytest.Sendbee(t, emu)), bot.WithLogger(bottest.Logger(t)))
//		require.NoError(t, err)
//		b.HandleFunc(bot.Prefix("hi"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
//			return w.Send(ctx, m.Reply("Hello! We are open 9 to 5."))
//		})
//		parleytest.Run(t, b)
//
//		emu.CustomerMessage("+385911234567", "Ana", "hi")
//		sent := emu.WaitSent(t, 1)
//		assert.Equal(t, "Hello! We are open 9 to 5.", sent[0].Text)
//	}
//
// # Pace
//
// A Bot paces its sends to the limits its adapters declare: Sendbee's 60
// requests a minute is one send a second, and VelaFlows' write budget (100
// per 15 minutes) leaves a burst of 5. [Sendbee] and [VelaFlows] declare
// [SendbeeRequestsPerMinute] and [VelaFlowsWritesPer15Min] instead, so that
// the Bot spaces requests microseconds apart; a test of the pacing itself
// sets its own limit with a tune function. Flowdock declares no limit.
//
// The emulators keep their own limits, the platforms' by default, and
// answer 429 beyond them as the platform would; a test that makes more
// requests than that (over 60 a minute on Sendbee; over 100 writes in 15
// minutes on VelaFlows, the webhook registration included) raises the
// emulator's limit with its options (sendbeetest.WithRateLimit,
// velaflowstest.WithRateLimits).
//
// # Lifetime
//
// Everything a helper starts is stopped by t.Cleanup, in the reverse order
// of the calls: start the emulator first, then the adapters, then run the
// Bot with [Run] (or bottest.Run), so that the Bot stops before its
// adapters' receivers close, and they close before the emulator. No
// goroutine is left behind: the packages that use the kit can check with
// goleak.
//
// The helpers take a testing.TB, so they serve benchmarks too. They are
// safe for use from parallel tests: each call builds its own adapter and
// receiver.
package parleytest
