// Package bottest is the test kit of Parley, for bot authors and for adapter
// and store authors, in the spirit of net/http/httptest.
//
// For bot and handler authors:
//
//   - [Recorder] is a bot.Sender that records what a handler sends, the
//     counterpart of httptest.ResponseRecorder: drive a Handler or Router
//     with it and no Bot.
//   - [NewMessage] builds inbound messages with sensible defaults.
//   - [Logger] returns a slog.Logger that writes through t.Log.
//   - [Run] runs a Bot for the duration of a test and stops it, waiting for
//     every goroutine, in t.Cleanup.
//   - [FakeAdapter] is an in-process adapter: inject inbound messages,
//     inspect what the Bot sent, and inject send failures.
//
// For adapter and store authors, the conformance suites:
//
//   - [TestAdapter] runs the behaviour every bot.Adapter must have against
//     the adapter wired to its fake platform.
//   - [TestStore] runs the behaviour every bot.Store must have: not-found
//     errors, value isolation, set-if-absent atomicity, expiry, odd keys and
//     concurrent use.
//
// The helpers are safe for use from parallel tests: each test builds its
// own Recorder, FakeAdapter or store.
package bottest
