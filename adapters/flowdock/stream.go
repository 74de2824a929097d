package flowdock

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"
	backoff "gopkg.in/cenkalti/backoff.v1"

	"github.com/parleybot/parley/bot"
)

// Every r3labs/sse type stays in this file, so that the library (which
// looks unmaintained) can be replaced without touching anything else.
//
// The library's own reconnect loop has known defects (it cannot be
// cancelled while backing off, it does not close a rejected response's
// body, it reads an unsynchronised Connected field), so it is used for one
// connection at a time only: its ReconnectStrategy is backoff.StopBackOff,
// and the supervisor below decides when and how to reconnect.

// streamAPI is what the stream supervisor needs from the REST API.
type streamAPI interface {
	// whoami returns the bot's user id.
	whoami(ctx context.Context) (string, error)
	// joinedFlows returns the ids of the flows the bot has joined and
	// the nicks of their users.
	joinedFlows(ctx context.Context) (flows []string, nicks map[string]string, err error)
	// latestID returns the id of the newest message of a flow (a flow
	// id) or a private chat (privatePrefix + user id), 0 if none.
	latestID(ctx context.Context, conversation string) (int64, error)
	// since returns the raw message objects of a flow (a flow id) or a
	// private chat (privatePrefix + user id) with ids above afterID,
	// oldest first, at most limit of them.
	since(ctx context.Context, conversation string, afterID int64, limit int) ([]json.RawMessage, error)
}

// StreamConfig tunes the stream supervisor. Zero fields take their defaults.
type StreamConfig struct {
	// URL is the streaming API root. Default: DefaultStreamURL.
	URL string
	// IdleTimeout reconnects a stream that sent nothing, not even a
	// keep-alive, for this long. Default: 90s.
	IdleTimeout time.Duration
	// MaxEventBytes is the largest event accepted. Default: 4 MiB.
	MaxEventBytes int
	// MinBackoff and MaxBackoff bound the wait between failed connects.
	// Defaults: 500ms and 60s. A stream that ends cleanly reconnects at
	// once.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout and HeaderTimeout bound a connect; the stream itself has
	// no overall timeout. Defaults: 10s and 30s.
	DialTimeout, HeaderTimeout time.Duration
}

func (c *StreamConfig) setDefaults() {
	if c.URL == "" {
		c.URL = DefaultStreamURL
	}
	c.URL = strings.TrimSuffix(c.URL, "/")
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 90 * time.Second
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = 4 << 20
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = 30 * time.Second
	}
}

// Health is the stream's state, for a health check.
type Health struct {
	Connected  bool      // a stream is open now
	LastEvent  time.Time // when the last event (or keep-alive) arrived
	Reconnects int64     // connects after the first
	Flows      []string  // the flows the stream follows
	// Discarded counts, by reason (the Discard constants), what the stream
	// dropped since Run started instead of publishing or keeping it. Every
	// reason is present, zero or not, once Run has started.
	Discarded map[string]int64
	// IDOutliers counts the messages published whose id was too far ahead
	// of their conversation's newest to be taken as its position (see
	// [Adapter]): a corrupt or hostile id, or a jump the REST API had not
	// shown yet.
	IDOutliers int64
}

// Reasons for which the stream drops something, the keys of
// [Health.Discarded].
const (
	// DiscardDuplicate: a message whose id was already published in its
	// conversation, or is too old to tell (at or below the newest id when
	// the stream started following the conversation, or more than 8192
	// ids behind the newest): a replay after a reconnect, the backfill's
	// overlap with the stream, or an id that went backwards.
	DiscardDuplicate = "duplicate"
	// DiscardInvalidID: a message whose id is zero or negative; Flowdock's
	// ids start at 1.
	DiscardInvalidID = "invalid_id"
	// DiscardMalformed: an event that is not a well-formed event: data
	// that is not JSON, a message without a numeric id or without its
	// flow, content of the wrong type.
	DiscardMalformed = "malformed"
	// DiscardEventID: an SSE event id not kept for Last-Event-ID, because
	// it cannot be sent back (it is not a valid HTTP header value: a
	// control character or NUL, or it is longer than 1 KiB), or because
	// the server refused a reconnect that carried it. The stream resumes
	// from the last id it kept, or without one; the REST backfill fills
	// the gap.
	DiscardEventID = "event_id"
)

type discardReason int

const (
	discardDuplicate discardReason = iota
	discardInvalidID
	discardMalformed
	discardEventID
	numDiscardReasons
)

var discardNames = [numDiscardReasons]string{DiscardDuplicate, DiscardInvalidID, DiscardMalformed, DiscardEventID}

// maxEventIDBytes bounds the SSE event id kept for Last-Event-ID: a longer
// one would be sent back on every reconnect, and servers refuse large
// headers.
const maxEventIDBytes = 1024

// validEventID reports whether id can be sent back as Last-Event-ID: a
// valid HTTP header value (no control character other than tab, so no
// NUL; net/http refuses to send anything else) of at most maxEventIDBytes.
func validEventID(id []byte) bool {
	if len(id) == 0 || len(id) > maxEventIDBytes {
		return false
	}
	for _, b := range id {
		if (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// refusesEventID reports whether a stream connect refused with status may
// have been refused for its Last-Event-ID header: a bad request, or a
// request or header too large.
func refusesEventID(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong,
		http.StatusRequestHeaderFieldsTooLarge:
		return true
	}
	return false
}

// StreamError is a stream connect the server refused.
type StreamError struct {
	StatusCode int
	Body       string // the start of the answer's body; not part of Error
}

// Error renders the error as "flowdock: stream: 401 Unauthorized", without
// the body, which may quote what the platform holds.
func (e *StreamError) Error() string {
	return strings.TrimSpace(fmt.Sprintf("flowdock: stream: %d %s", e.StatusCode, http.StatusText(e.StatusCode)))
}

// permanent reports a refusal that retrying cannot fix: bad credentials.
func (e *StreamError) permanent() bool {
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
}

// stream is the supervisor of the streaming connection of one Run.
type stream struct {
	cfg     StreamConfig
	api     streamAPI
	auth    string // the Authorization header value
	logger  *slog.Logger
	ec      eventContext // self, allowAnonymous, nicks
	pub     bot.Publisher
	ownUUID func(string) bool

	// State of the connection loop; touched only by the supervisor's
	// goroutine (the library calls the validator and the handler from it).
	flows       []string
	lastEventID string               // the id sent as Last-Event-ID: always a valid one
	badEventID  string               // the last id not kept, counted once
	windows     map[string]*idWindow // conversation → its ids (see order.go)
	resubscribe bool

	// Health, read concurrently.
	connected  atomic.Bool
	lastEvent  atomic.Int64
	reconnects atomic.Int64
	discards   [numDiscardReasons]atomic.Int64
	outliers   atomic.Int64
	flowsMu    sync.Mutex
	flowsCopy  []string
}

// keepEventID keeps the id of an event for Last-Event-ID if it can be sent
// back; otherwise it keeps the previous one, as an EventSource ignores an
// id with NUL, and counts the id once (the library repeats the last id it
// read on the events that have none).
func (s *stream) keepEventID(ctx context.Context, id []byte) {
	if validEventID(id) {
		s.lastEventID = string(id)
		return
	}
	if string(id) == s.badEventID {
		return
	}
	s.badEventID = string(id)
	s.discards[discardEventID].Add(1)
	s.logger.LogAttrs(ctx, slog.LevelWarn, "stream event id not kept for Last-Event-ID: not a valid header value",
		slog.Int("bytes", len(id)))
}

// run connects, reconnects and backfills until ctx is done or the server
// refuses the credentials.
func (s *stream) run(ctx context.Context) error {
	s.windows = make(map[string]*idWindow)
	if err := s.loadFlows(ctx); err != nil {
		return err
	}
	failures := 0
	for first := true; ; first = false {
		if !first {
			s.reconnects.Add(1)
		}
		err := s.connectOnce(ctx)
		if s.connected.Swap(false) {
			s.emit(bot.Event{Type: bot.EventDisconnected, Error: errText(ctx, err)})
		}
		if ctx.Err() != nil {
			return nil
		}
		var se *StreamError
		if errors.As(err, &se) && se.permanent() {
			return err
		}
		if s.resubscribe {
			s.resubscribe = false
			if err := s.loadFlows(ctx); err != nil {
				return err
			}
			failures = 0
			continue
		}
		if err == nil {
			// A clean end: the server closed the stream. Reconnect at once.
			failures = 0
			s.logger.LogAttrs(ctx, slog.LevelInfo, "stream ended; reconnecting")
			continue
		}
		failures++
		wait := s.backoff(failures)
		s.logger.LogAttrs(ctx, slog.LevelWarn, "stream disconnected; reconnecting",
			slog.Any("error", err), slog.Duration("wait", wait))
		if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			// A flow in the filter is gone: reload the flows.
			if err := s.loadFlows(ctx); err != nil {
				return err
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (s *stream) backoff(failures int) time.Duration {
	d := s.cfg.MinBackoff
	for i := 1; i < failures && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func (s *stream) loadFlows(ctx context.Context) error {
	flows, nicks, err := s.api.joinedFlows(ctx)
	if err != nil {
		return wrapf(err, "stream: load flows")
	}
	s.flows = flows
	for _, f := range flows {
		if _, known := s.windows[f]; known {
			continue
		}
		// Start from the flow's newest message, so that a gap before the
		// first event of a quiet flow is backfilled too.
		id, err := s.api.latestID(ctx, f)
		if err != nil {
			return wrapf(err, "stream: newest message of %s", f)
		}
		s.windows[f] = newIDWindow(max(id, 0))
	}
	if s.ec.nicks == nil {
		s.ec.nicks = map[string]string{}
	}
	for id, nick := range nicks {
		s.ec.nicks[id] = nick
	}
	s.flowsMu.Lock()
	s.flowsCopy = append([]string(nil), flows...)
	s.flowsMu.Unlock()
	return nil
}

// connectOnce opens one stream and reads it until it ends. It returns nil
// when the server ended the stream cleanly or the connection was
// cancelled for a resubscribe, and the error otherwise.
func (s *stream) connectOnce(ctx context.Context) error {
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	u := s.cfg.URL + "/flows?" + url.Values{
		"filter": {strings.Join(s.flows, ",")}, "user": {"1"}, "active": {"idle"},
	}.Encode()
	activity := &s.lastEvent
	tr := s.transport()
	defer tr.CloseIdleConnections()
	c := sse.NewClient(u, sse.ClientMaxBufferSize(s.cfg.MaxEventBytes))
	c.Connection = &http.Client{Transport: &activityTransport{base: tr, last: activity}}
	c.Headers = map[string]string{"Authorization": s.auth, "Accept": "text/event-stream"}
	c.ReconnectStrategy = &backoff.StopBackOff{}
	if s.lastEventID != "" {
		c.LastEventID.Store([]byte(s.lastEventID))
	}
	var handlerErr error
	c.ResponseValidator = func(_ *sse.Client, resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			if s.lastEventID != "" && refusesEventID(resp.StatusCode) {
				// The id may be what the server refuses: the next connect
				// goes without it, and the backfill fills the gap.
				s.logger.LogAttrs(ctx, slog.LevelWarn, "stream refused a reconnect with Last-Event-ID; dropping the id",
					slog.Int("status", resp.StatusCode))
				s.lastEventID = ""
				s.discards[discardEventID].Add(1)
			}
			return &StreamError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(body))}
		}
		s.connected.Store(true)
		s.emit(bot.Event{Type: bot.EventConnected})
		activity.Store(time.Now().UnixNano())
		s.logger.LogAttrs(ctx, slog.LevelInfo, "stream connected", slog.Int("flows", len(s.flows)))
		// Fill the gap since the last message seen before the stream
		// delivers anything newer, so that each conversation stays in
		// order. The library reads nothing until this returns.
		if err := s.backfill(connCtx); err != nil {
			resp.Body.Close()
			return err
		}
		return nil
	}

	// The idle watchdog cancels a stream that has gone silent.
	watchDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(max(s.cfg.IdleTimeout/4, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-watchDone:
				return
			case <-connCtx.Done():
				return
			case <-t.C:
				if s.connected.Load() && time.Since(time.Unix(0, activity.Load())) > s.cfg.IdleTimeout {
					s.logger.LogAttrs(ctx, slog.LevelWarn, "stream idle; reconnecting", slog.Duration("idle", s.cfg.IdleTimeout))
					cancel()
					return
				}
			}
		}
	})
	err := c.SubscribeWithContext(connCtx, "", func(ev *sse.Event) {
		if handlerErr != nil || connCtx.Err() != nil {
			return
		}
		if len(ev.ID) > 0 {
			s.keepEventID(connCtx, ev.ID)
		}
		if len(ev.Data) == 0 {
			return // a keep-alive or an event with no data
		}
		if err := s.handle(connCtx, ev.Data, cancel); err != nil {
			handlerErr = err
			cancel()
		}
	})
	close(watchDone)
	wg.Wait()
	switch {
	case handlerErr != nil:
		return handlerErr
	case ctx.Err() != nil:
		return nil
	case connCtx.Err() != nil: // idle watchdog or resubscribe
		if s.resubscribe {
			return nil
		}
		return errors.New("flowdock: stream: idle")
	}
	return err
}

// handle converts and publishes one event in order (see order.go): a
// message whose id was already published (by the backfill or before a
// reconnect) is skipped, and so is one whose id is invalid.
func (s *stream) handle(ctx context.Context, data []byte, cancel context.CancelFunc) error {
	var uuid string
	m, ctl, err := convertEvent(data, s.ec, &uuid)
	if ctl == controlResubscribe {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "the bot's flows changed; resubscribing")
		s.resubscribe = true
		cancel()
		return nil
	}
	if err == nil {
		if conv, id, ok := idOf(m.ID); ok {
			if w := s.windows[conv]; w != nil && w.verdict(id) == idOutlier {
				// Far ahead of the conversation: before taking it for a
				// corrupt id, ask the REST API whether the conversation
				// moved on (see backfillConversation).
				if err := s.backfillConversation(ctx, conv, w); err != nil {
					return err
				}
			}
		}
	}
	_, err = s.process(ctx, data, m, uuid, err)
	return err
}

// process publishes in order the message m converted from the event data
// (whose uuid is uuid), or, when the conversion failed with convErr, notes
// the id of an ignored event and counts a malformed one. It returns the
// verdict on the event's id (idInvalid for an event without one).
func (s *stream) process(ctx context.Context, data []byte, m *bot.Message, uuid string, convErr error) (idVerdict, error) {
	switch {
	case errors.Is(convErr, errIgnored):
		return s.noteSeen(ctx, data), nil
	case convErr != nil:
		s.discards[discardMalformed].Add(1)
		s.logger.LogAttrs(ctx, slog.LevelWarn, "malformed stream event skipped", slog.Any("error", convErr))
		return idInvalid, nil
	}
	return s.publishInOrder(ctx, m, uuid)
}

// noteSeen records the id of an ignored event (the bot's own echo, a
// status line, an edit of a tag, …) so that the backfill does not fetch it
// again; nothing is counted.
func (s *stream) noteSeen(ctx context.Context, data []byte) idVerdict {
	var ev streamEvent
	if json.Unmarshal(data, &ev) != nil || ev.ID == "" {
		return idInvalid
	}
	id, err := ev.ID.Int64()
	if err != nil {
		return idInvalid
	}
	conv := ev.Flow
	if conv == "" {
		conv = privatePrefix + userString(ev.User)
		if ev.To != "" && userString(ev.User) == s.ec.self {
			conv = privatePrefix + ev.To
		}
	}
	w, v, err := s.track(ctx, conv, id)
	if err == nil && v.publishes() {
		w.record(id, v)
	}
	return v
}

// publishInOrder publishes m, whose event has the given uuid, unless its id
// says it was published already or is invalid (then it counts why), and
// records its id.
func (s *stream) publishInOrder(ctx context.Context, m *bot.Message, uuid string) (idVerdict, error) {
	conv, id, ok := idOf(m.ID)
	if !ok {
		return idInvalid, nil
	}
	w, v, err := s.track(ctx, conv, id)
	if err != nil {
		return v, nil // stopping; the next connect replays it
	}
	own := m.Author.ID == s.ec.self || s.ownUUID(uuid)
	switch {
	case v == idDuplicate:
		if !own {
			s.discards[discardDuplicate].Add(1)
		}
		return v, nil
	case v == idInvalid:
		if !own {
			s.discards[discardInvalidID].Add(1)
		}
		return v, nil
	case own:
		w.record(id, v)
		return v, nil
	}
	if err := s.pub.Publish(ctx, m); err != nil {
		if ctx.Err() != nil {
			return v, nil // stopping; the next connect replays it
		}
		return v, wrapf(err, "publish")
	}
	w.record(id, v)
	if v == idOutlier {
		s.outliers.Add(1)
		s.logger.LogAttrs(ctx, slog.LevelWarn, "message id far ahead of its conversation: published, not taken as its position",
			slog.String("conversation", conv), slog.Int64("id", id), slog.Int64("newest", w.mark))
	}
	return v, nil
}

// track returns the window of conv and the verdict on id. A conversation
// seen for the first time (a private chat) starts just below its first
// id, unless that id is beyond the newest message the REST API lists for
// it, which is then the start: a corrupt first id does not become the
// conversation's position. An id of zero or less starts nothing (the
// window is nil). The error is ctx's, when it is done before the
// conversation could start.
func (s *stream) track(ctx context.Context, conv string, id int64) (*idWindow, idVerdict, error) {
	if w := s.windows[conv]; w != nil {
		return w, w.verdict(id), nil
	}
	if id <= 0 {
		return nil, idInvalid, nil
	}
	start := id - 1
	latest, err := s.api.latestID(ctx, conv)
	switch {
	case ctx.Err() != nil:
		return nil, idInvalid, ctx.Err()
	case err != nil:
		s.logger.LogAttrs(ctx, slog.LevelWarn, "newest message of a new conversation unknown; starting at its first id",
			slog.String("conversation", conv), slog.Any("error", err))
	case id > latest:
		start = max(latest, 0)
	}
	w := newIDWindow(start)
	s.windows[conv] = w
	return w, w.verdict(id), nil
}

// backfill publishes, in order, the messages of every known conversation
// newer than its newest id, through the REST API. Conversations never
// seen are not backfilled: the stream starts them.
func (s *stream) backfill(ctx context.Context) error {
	for conv, w := range s.windows {
		if err := s.backfillConversation(ctx, conv, w); err != nil {
			return err
		}
	}
	return nil
}

// backfillConversation publishes, in order, the messages the REST API
// lists for conv that the window w has not accounted for: those above its
// newest id, and those in a gap the stream left below it (see
// idWindow.since).
//
// The REST API lists a conversation's messages in id order, all of them.
// So the ids between two listed ones are events it never lists (edits,
// deleted messages), which the window counts as seen. And it shows a jump
// that the stream alone cannot tell from a corrupt id: when two listed ids
// follow each other closely, both too far beyond the newest to be adopted,
// the conversation did move on and the window moves to the first. A
// single far id, listed last, stays an outlier.
func (s *stream) backfillConversation(ctx context.Context, conv string, w *idWindow) error {
	since := w.since()
	// The previous listed id, and whether it was in the window, or beyond.
	prev, prevNear, prevFar := since, true, false
	for {
		raws, err := s.api.since(ctx, conv, since, 100)
		if err != nil {
			return wrapf(err, "backfill %s", conv)
		}
		next := since
		for _, raw := range raws {
			id := rawID(raw)
			if prevFar && id > prev && id-prev <= idSpan && id-w.mark > idSpan {
				s.logger.LogAttrs(ctx, slog.LevelInfo, "conversation ids jumped ahead; following them",
					slog.String("conversation", conv), slog.Int64("from", w.mark), slog.Int64("to", prev))
				w.rebase(prev)
				prevNear, prevFar = true, false
			}
			near, far := id > 0 && id-w.mark <= idSpan, id-w.mark > idSpan
			var uuid string
			m, _, err := convertEvent(raw, s.ec, &uuid)
			if _, err := s.process(ctx, raw, m, uuid, err); err != nil {
				return err
			}
			if near && prevNear {
				w.account(prev+1, id-1)
			}
			prev, prevNear, prevFar = id, near, far
			next = max(next, id)
		}
		if len(raws) < 100 || next <= since {
			return nil
		}
		since = next
	}
}

// rawID reads the id of a raw message object; 0 if it has none.
func rawID(raw json.RawMessage) int64 {
	var v struct {
		ID json.Number `json:"id"`
	}
	_ = json.Unmarshal(raw, &v)
	id, _ := v.ID.Int64()
	return id
}

func (s *stream) health() Health {
	s.flowsMu.Lock()
	flows := append([]string(nil), s.flowsCopy...)
	s.flowsMu.Unlock()
	var last time.Time
	if n := s.lastEvent.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	discarded := make(map[string]int64, numDiscardReasons)
	for r, name := range discardNames {
		discarded[name] = s.discards[r].Load()
	}
	return Health{Connected: s.connected.Load(), LastEvent: last, Reconnects: s.reconnects.Load(), Flows: flows,
		Discarded: discarded, IDOutliers: s.outliers.Load()}
}

// transport is an HTTP transport for the stream: dial and header timeouts,
// no overall timeout (which would cut a long-lived stream), no keep-alive.
func (s *stream) transport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: s.cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   s.cfg.DialTimeout,
		ResponseHeaderTimeout: s.cfg.HeaderTimeout,
		// A stream connection is never reused, and a dial that completes
		// after its request was cancelled must not linger in a pool.
		DisableKeepAlives: true,
	}
}

// activityTransport stamps the time of every read of a response body, so
// that keep-alives (which the SSE parser swallows) count as activity.
type activityTransport struct {
	base http.RoundTripper
	last *atomic.Int64
}

func (t *activityTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &activityBody{ReadCloser: resp.Body, last: t.last}
	return resp, nil
}

type activityBody struct {
	io.ReadCloser
	last *atomic.Int64
}

func (b *activityBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// Events monitors flows and, with private set, the user's private chats
// through the streaming API at streamURL ("" means DefaultStreamURL), as the
// wrapper's event monitor does: it yields every event of the stream —
// messages, edits, tag changes, presence, typing and whatever else
// Flowdock sends — decoded into a Message, with no filtering. The bot
// adapter is built on the same stream; use Events for monitoring and
// tools.
//
// The iterator reconnects by itself when the stream ends or fails (with
// Last-Event-ID, so nothing is missed; an event id that is not a valid
// header value is not kept, and an id the server refuses is dropped, as
// the adapter does), and stops when ctx is done, when
// the loop breaks, or after yielding a *StreamError for credentials the
// server refuses. An event whose data is not JSON is yielded as an error,
// and the stream goes on. It needs the personal API token.
func (c *Client) Events(ctx context.Context, streamURL string, private bool, flows ...Chat) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		if c.token == "" {
			yield(Message{}, &TokenError{Op: "stream events"})
			return
		}
		cfg := StreamConfig{URL: streamURL}
		cfg.setDefaults()
		q := url.Values{"active": {"idle"}}
		var names []string
		for _, f := range flows {
			if !f.IsPrivate() {
				names = append(names, f.String())
			}
		}
		if len(names) > 0 {
			q.Set("filter", strings.Join(names, ","))
		}
		if private {
			q.Set("user", "1")
		}
		s := &stream{cfg: cfg, logger: c.logger}
		tr := s.transport()
		defer tr.CloseIdleConnections()
		lastID := ""
		failures := 0
		for ctx.Err() == nil {
			connCtx, cancel := context.WithCancel(ctx)
			sc := sse.NewClient(cfg.URL+"/flows?"+q.Encode(), sse.ClientMaxBufferSize(cfg.MaxEventBytes))
			sc.Connection = &http.Client{Transport: tr}
			sc.Headers = map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(c.token+":"))}
			sc.ReconnectStrategy = &backoff.StopBackOff{}
			if lastID != "" {
				sc.LastEventID.Store([]byte(lastID))
			}
			sc.ResponseValidator = func(_ *sse.Client, resp *http.Response) error {
				if resp.StatusCode != http.StatusOK {
					body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
					resp.Body.Close()
					if refusesEventID(resp.StatusCode) {
						lastID = "" // the next connect goes without it
					}
					return &StreamError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(body))}
				}
				failures = 0
				return nil
			}
			stop := false
			err := sc.SubscribeWithContext(connCtx, "", func(ev *sse.Event) {
				if stop {
					return
				}
				if validEventID(ev.ID) {
					lastID = string(ev.ID)
				}
				if len(ev.Data) == 0 {
					return
				}
				var m Message
				derr := json.Unmarshal(ev.Data, &m)
				if derr != nil {
					derr = fmt.Errorf("flowdock: stream event: %w", derr)
				}
				if !yield(m, derr) {
					stop = true
					cancel()
				}
			})
			cancel()
			if stop || ctx.Err() != nil {
				return
			}
			var se *StreamError
			if errors.As(err, &se) && se.permanent() {
				yield(Message{}, err)
				return
			}
			if err != nil {
				failures++
			}
			if failures > 0 {
				t := time.NewTimer(s.backoff(failures))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
	}
}

// emit adds e, about this adapter, to the Bot's event feed when the
// Publisher is a Bot's (a bot.Emitter).
func (s *stream) emit(e bot.Event) {
	if em, ok := s.pub.(bot.Emitter); ok {
		e.Platform = s.ec.adapter()
		em.Emit(e)
	}
}

// errText says why a stream connection ended, for the feed: err's text,
// or that the server closed it; "" when ctx ended it.
func errText(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return ""
	case err == nil:
		return "flowdock: the server closed the stream"
	}
	return err.Error()
}
