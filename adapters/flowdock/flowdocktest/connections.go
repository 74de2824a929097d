package flowdocktest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// A ConnState is what happened to a stream connection.
type ConnState string

// The changes of a stream connection that [WithConnectionObserver] reports.
const (
	ConnConnected    ConnState = "connected"    // a stream was authorised and its header sent
	ConnDisconnected ConnState = "disconnected" // an open stream ended
	ConnRefused      ConnState = "refused"      // a stream request was answered with an error status
)

// A ConnectionEvent is one change of a stream connection, as reported to
// the observer of [WithConnectionObserver].
type ConnectionEvent struct {
	State ConnState
	// User is the user the request authenticated as, Nick its nick and
	// Bot whether it is the bot ([Server.BotID]); zero when a refusal
	// came before authentication.
	User int
	Nick string
	Bot  bool
	// Flows are the flows of the stream as "org/flow" (as the request
	// named them when it was refused), in request order; Private is
	// user=1 (private messages too).
	Flows   []string
	Private bool
	// Status is the HTTP status of a refusal.
	Status int
	// Reason says why a stream was refused or ended, such as "bad
	// credentials" or "the client closed it".
	Reason string
	// Duration is how long a disconnected stream was open.
	Duration time.Duration
	// Open and BotOpen count the streams, and the bot's streams, open
	// after the change.
	Open, BotOpen int
	// Time is the real time of the change.
	Time time.Time
}

// Explain returns one line for a person describing the change, with what
// to check when a stream was refused. It names the variables of a Parley
// bot run with "parley sim flowdock" in another terminal, for example:
//
//	stream connection refused 401 (bad credentials) — the bot's FLOWDOCK_API_TOKEN is not the emulator's; run: eval "$(parley sim env)" and restart the bot
//
// The line holds no token.
func (e ConnectionEvent) Explain() string {
	who := e.Nick
	if who == "" && e.User != 0 {
		who = fmt.Sprintf("user %d", e.User)
	}
	switch e.State {
	case ConnConnected:
		where := e.Flows
		if e.Private {
			where = append(where[:len(where):len(where)], "private messages")
		}
		return "stream: " + who + " connected to " + joinAnd(where) + "; " + openStreams(e.Open)
	case ConnDisconnected:
		line := fmt.Sprintf("stream: %s disconnected after %v: %s; ", who, roundDuration(e.Duration), e.Reason)
		if e.Bot && e.BotOpen == 0 {
			return line + "no bot stream is open"
		}
		return line + openStreams(e.Open)
	}
	line := "stream connection refused"
	if who != "" {
		line = "stream connection of " + who + " refused"
	}
	line += fmt.Sprintf(" %d (%s)", e.Status, e.Reason)
	switch {
	case e.Status == http.StatusUnauthorized:
		return line + ` — the bot's FLOWDOCK_API_TOKEN is not the emulator's; run: eval "$(parley sim env)" and restart the bot`
	case e.Status == http.StatusNotFound && len(e.Flows) > 0:
		return line + " — check FLOWDOCK_FLOWS"
	case e.Status == http.StatusNotFound || e.Status == http.StatusMethodNotAllowed:
		return line + " — check FLOWDOCK_STREAM_URL"
	}
	return line
}

func joinAnd(parts []string) string {
	switch n := len(parts); n {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	default:
		return strings.Join(parts[:n-1], ", ") + " and " + parts[n-1]
	}
}

func openStreams(n int) string {
	if n == 1 {
		return "1 stream open"
	}
	return fmt.Sprintf("%d streams open", n)
}

// roundDuration rounds d for a person: "3m2s" rather than "3m2.123456s".
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// A connReport is a change on its way to the observer; done is closed
// once it was reported, or will not be.
type connReport struct {
	e    ConnectionEvent
	done chan struct{}
}

func newConnReporter(f func(ConnectionEvent)) *reporter[connReport] {
	return newReporter(func(r connReport) { f(r.e) }, func(r connReport) { close(r.done) })
}

// report gives e to the observer, if there is one, and waits until it was
// reported or the server is closing: Close waits for the streams to end
// before it waits for the observer, which reports what is queued then.
// The reporter's queue is not bounded, but a stream request queues one
// report at a time.
func (s *Server) report(e ConnectionEvent) {
	if s.rep == nil {
		return
	}
	e.Time = time.Now()
	r := connReport{e: e, done: make(chan struct{})}
	s.rep.put(r, true)
	select {
	case <-r.done:
	case <-s.closed:
	}
}

// openCountsLocked returns the number of open streams, and of the bot's.
func (s *Server) openCountsLocked() (open, bot int) {
	for c := range s.conns {
		if c.uid == s.bot.id {
			bot++
		}
	}
	return len(s.conns), bot
}
