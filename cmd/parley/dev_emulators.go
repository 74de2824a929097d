package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
)

// devEmulators are the three emulators of parley dev, with what the page
// needs beyond their control endpoints: faults, redelivery and the
// normalized form of what they delivered.
type devEmulators struct {
	set       *simSetup
	notes     *devNotes
	sendbee   *sendbeetest.Server
	velaflows *velaflowstest.Server
	flowdock  *flowdocktest.Server
	urls      simURLs
	// Where each platform delivers its webhooks: the bot's address.
	sendbeeHook, velaflowsHook string

	// decoders turn a delivered payload into the bot.Message the bot's
	// adapter makes of it, with the bot's own adapter code.
	decodeMu   sync.Mutex // one decode at a time: they share a publisher
	decodeCtx  context.Context
	stopDecode context.CancelFunc
	decodeWG   sync.WaitGroup
	published  chan *bot.Message
	sbDecoder  *sendbee.Adapter
	vfDecoder  *velaflows.Adapter
}

// startDevEmulators starts the emulators of parley dev with set's
// credentials, delivering to the bot at its address (PARLEY_ADDR, as for
// parley sim), and reporting deliveries and stream connections to notes.
func startDevEmulators(set *simSetup, notes *devNotes) (_ *devEmulators, err error) {
	e := &devEmulators{set: set, notes: notes, published: make(chan *bot.Message, 1)}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	root, _, err := botURL(set.getenv)
	if err != nil {
		return nil, err
	}
	e.sendbeeHook = strings.TrimSpace(set.getenv("SENDBEE_WEBHOOK_URL"))
	if e.sendbeeHook == "" {
		e.sendbeeHook = root + "/webhooks/sendbee"
	}
	public := strings.TrimSpace(set.getenv("PARLEY_PUBLIC_URL"))
	if public == "" {
		public = root
	}
	e.velaflowsHook = strings.TrimSuffix(public, "/") + velaflows.WebhookPath

	e.sendbee, err = sendbeetest.Start(set.addrs.sendbee,
		sendbeetest.WithCredentials(set.creds.Sendbee.APIKey, set.creds.Sendbee.APISecret),
		sendbeetest.WithWebhook(e.sendbeeHook),
		sendbeetest.WithRedelivery(simAttempts, simRetry),
		sendbeetest.WithRetryAfterCap(2*simRetry),
		sendbeetest.WithDeliveryObserver(func(d sendbeetest.Delivery) {
			e.noteDelivery("sendbee", d.Type, d.ConversationID, sendbeeMessageID(d.Payload), d.Copy, d.Attempt,
				d.OK(), d.StatusCode, string(d.Outcome), set.hint(d.Explain()))
		}))
	if err != nil {
		return nil, fmt.Errorf("dev sendbee: %w", err)
	}
	retries := []time.Duration{simRetry, 2 * simRetry}
	e.velaflows, err = velaflowstest.Start(set.addrs.velaflows,
		velaflowstest.WithPrefix(simVelaflowsPrefix),
		velaflowstest.WithCredentials(set.creds.VelaFlows.APIToken, set.creds.VelaFlows.WorkspaceID),
		velaflowstest.WithAllowHTTPWebhooks(),
		velaflowstest.WithSubscription(e.velaflowsHook, set.creds.VelaFlows.WebhookSecret, simVelaflowsEvents...),
		velaflowstest.WithRetrySchedule(retries...),
		velaflowstest.WithRedeliveryWindow(0),
		velaflowstest.WithAutoDeactivate(0),
		velaflowstest.WithDeliveryObserver(func(d velaflowstest.Delivery) {
			e.noteDelivery("velaflows", d.EventType, d.ConversationID, d.EventID, d.Copy, d.Attempt,
				d.OK(), d.StatusCode, string(d.Outcome), set.hint(d.Explain()))
		}))
	if err != nil {
		return nil, fmt.Errorf("dev velaflows: %w", err)
	}
	fdOpts := []flowdocktest.Option{
		flowdocktest.WithUser(flowdocktest.User{Token: set.creds.Flowdock.APIToken}),
		flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", OrgName: "Acme", Name: "main", DisplayName: "Main", FlowToken: set.creds.Flowdock.FlowToken}),
		flowdocktest.WithConnectionObserver(func(c flowdocktest.ConnectionEvent) {
			if c.State == flowdocktest.ConnConnected || c.State == flowdocktest.ConnDisconnected || c.State == flowdocktest.ConnRefused {
				notes.add(devNote{Type: "stream", Platform: "flowdock", Detail: set.hint(c.Explain()), OK: c.State == flowdocktest.ConnConnected})
			}
		}),
	}
	if set.addrs.flowdockStream != "" {
		fdOpts = append(fdOpts, flowdocktest.WithStreamAddr(set.addrs.flowdockStream))
	}
	e.flowdock, err = flowdocktest.Start(set.addrs.flowdock, fdOpts...)
	if err != nil {
		return nil, fmt.Errorf("dev flowdock: %w", err)
	}
	e.urls = simURLs{
		Sendbee: e.sendbee.URL(), VelaFlows: e.velaflows.URL(), Public: public,
		Flowdock: e.flowdock.URL(), FlowdockStream: e.flowdock.StreamURL(), FlowdockFlows: simFlow,
	}
	if err := e.startDecoders(); err != nil {
		return nil, err
	}
	return e, nil
}

// close stops the emulators and the decoders.
func (e *devEmulators) close() {
	if e.stopDecode != nil {
		e.stopDecode()
		e.decodeWG.Wait()
	}
	if e.sendbee != nil {
		e.sendbee.Close()
	}
	if e.velaflows != nil {
		e.velaflows.Close()
	}
	if e.flowdock != nil {
		e.flowdock.Close()
	}
}

// noteDelivery reports a webhook delivery attempt on the page's timeline:
// every attempt of a customer's message, and the failures of the others.
func (e *devEmulators) noteDelivery(platform, event, conv, message string, copyN, attempt int, ok bool, status int, outcome, explain string) {
	inbound := event == "message.received" || velaflows.CanonicalEvent(event) == velaflows.EventConversationMessageReceived
	if ok && !inbound {
		return
	}
	n := devNote{Type: "delivery", Platform: platform, Conversation: conv, Message: message, Event: event,
		Attempt: attempt, Copy: copyN, Status: status, OK: ok}
	if !ok {
		n.Detail = explain
		if n.Detail == "" {
			n.Detail = failureCause(ok, outcome, status)
		}
	}
	e.notes.add(n)
}

// sendbeeMessageID returns the message_id of a Sendbee webhook payload
// ("" when it has none), the ID the adapter gives a customer's message.
func sendbeeMessageID(payload []byte) string {
	var ev struct {
		Data struct {
			MessageID string `json:"message_id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(payload, &ev) // a payload without one has none
	return ev.Data.MessageID
}

// capturePublisher hands what an adapter publishes to a channel.
type capturePublisher chan *bot.Message

func (c capturePublisher) Publish(ctx context.Context, m *bot.Message) error {
	select {
	case c <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startDecoders runs a Sendbee and a VelaFlows adapter that receive
// nothing from the network: decode serves them a payload, so that the page
// shows the bot.Message the bot's own adapter makes of it.
func (e *devEmulators) startDecoders() error {
	var err error
	quiet := slog.New(slog.DiscardHandler)
	e.sbDecoder, err = sendbee.New(sendbee.AdapterConfig{
		Config:        sendbee.Config{APIKey: e.set.creds.Sendbee.APIKey, APISecret: e.set.creds.Sendbee.APISecret, BaseURL: e.urls.Sendbee, Logger: quiet},
		WebhookSecret: e.set.creds.Sendbee.APISecret,
	})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	e.vfDecoder, err = velaflows.New(velaflows.AdapterConfig{
		Config:        velaflows.Config{Token: e.set.creds.VelaFlows.APIToken, WorkspaceID: e.set.creds.VelaFlows.WorkspaceID, BaseURL: e.urls.VelaFlows, Logger: quiet},
		WebhookSecret: e.set.creds.VelaFlows.WebhookSecret,
		MaxEventAge:   -1, // an old delivery is still shown
	})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	e.decodeCtx, e.stopDecode = context.WithCancel(context.Background())
	pub := capturePublisher(e.published)
	e.decodeWG.Go(func() { _ = e.sbDecoder.Run(e.decodeCtx, pub) })
	e.decodeWG.Go(func() { _ = e.vfDecoder.Run(e.decodeCtx, pub) })
	return nil
}

// errNoMessage says that an adapter made no message of a payload (an
// event it ignores).
var errNoMessage = errors.New("the adapter makes no message of this payload")

// decode returns the bot.Message the platform's adapter makes of payload,
// a webhook body the emulator delivered.
func (e *devEmulators) decode(ctx context.Context, platform string, payload []byte) (*bot.Message, error) {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	var h http.Handler
	switch platform {
	case "sendbee":
		req.Header.Set("X-Authorization", sendbee.Token(e.set.creds.Sendbee.APISecret, time.Now()))
		h = e.sbDecoder
	case "velaflows":
		req.Header.Set("X-Webhook-Signature", velaflows.Sign(e.set.creds.VelaFlows.WebhookSecret, payload))
		h = e.vfDecoder
	default:
		return nil, fmt.Errorf("dev: no decoder for %s", platform)
	}
	e.decodeMu.Lock()
	defer e.decodeMu.Unlock()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	select {
	case m := <-e.published:
		return m, nil
	default:
	}
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("dev: the %s adapter answers %d: %s", platform, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return nil, errNoMessage
}

// payload returns the body the emulator of platform delivered for the
// inbound message id (a bot.Message ID), and its event type.
func (e *devEmulators) payload(platform, id string) ([]byte, bool) {
	switch platform {
	case "sendbee":
		evs := e.sendbee.Events()
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == "message.received" && sendbeeMessageID(evs[i].Payload) == id || evs[i].ID == id {
				return evs[i].Payload, true
			}
		}
	case "velaflows":
		ds := e.velaflows.Deliveries()
		for i := len(ds) - 1; i >= 0; i-- {
			if ds[i].EventID == id || "evt_"+ds[i].EventID == id {
				return ds[i].Payload, true
			}
		}
	case "flowdock":
		// The adapter's message ID is "<conversation>/<message id>": the
		// flow's ID, or "private:<user id>" for a private chat.
		i := strings.LastIndexByte(id, '/')
		if i < 0 {
			return nil, false
		}
		conv, num := id[:i], id[i+1:]
		var ms []flowdocktest.Message
		if user, private := strings.CutPrefix(conv, "private:"); private {
			ms = e.flowdock.PrivateMessages(user)
		} else {
			ms = e.flowdock.Messages(simFlow)
		}
		for _, m := range ms {
			if fmt.Sprint(m.ID) == num && (m.Flow == "" || m.FlowID == conv) {
				return m.JSON, true
			}
		}
	}
	return nil, false
}

// devFlowdockUsers are the members of the demo flow the page plays.
var devFlowdockUsers = []string{"dana", "mike", "Ray_"}

// lastInbound returns the payload of the latest customer message the
// emulator of platform delivered, for a redelivery.
func (e *devEmulators) lastInbound(platform string) (payload []byte, eventType string, ok bool) {
	switch platform {
	case "sendbee":
		evs := e.sendbee.Events()
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == "message.received" {
				return evs[i].Payload, evs[i].Type, true
			}
		}
	case "velaflows":
		ds := e.velaflows.Deliveries()
		for i := len(ds) - 1; i >= 0; i-- {
			if velaflows.CanonicalEvent(ds[i].EventType) == velaflows.EventConversationMessageReceived {
				return ds[i].Payload, ds[i].EventType, true
			}
		}
	}
	return nil, "", false
}

// redeliver posts the latest customer message of platform to the bot n
// more times, signed as the platform signs it, as a platform that
// delivers at least once does; it reports each answer to notes.
func (e *devEmulators) redeliver(ctx context.Context, platform string, n int) error {
	payload, event, ok := e.lastInbound(platform)
	if !ok {
		return fmt.Errorf("no customer message on %s yet: write one first", platform)
	}
	id := sendbeeMessageID(payload)
	target := e.sendbeeHook
	if platform == "velaflows" {
		target = e.velaflowsHook
		var d struct {
			EventID string `json:"eventId"`
		}
		_ = json.Unmarshal(payload, &d)
		id = d.EventID
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 1; i <= n; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if platform == "sendbee" {
			req.Header.Set("X-Authorization", sendbee.Token(e.set.creds.Sendbee.APISecret, time.Now()))
		} else {
			req.Header.Set("X-Webhook-Event", event)
			req.Header.Set("X-Webhook-Delivery-Id", fmt.Sprintf("redelivery-%d-%d", time.Now().UnixNano(), i))
			req.Header.Set("X-Webhook-Signature", velaflows.Sign(e.set.creds.VelaFlows.WebhookSecret, payload))
		}
		note := devNote{Type: "delivery", Platform: platform, Message: id, Event: event, Copy: i, Attempt: 1, Redelivery: true}
		resp, err := client.Do(req)
		if err != nil {
			note.Detail = "redelivery failed: " + err.Error()
			e.notes.add(note)
			return fmt.Errorf("redeliver to %s: %w", target, err)
		}
		resp.Body.Close()
		note.Status, note.OK = resp.StatusCode, resp.StatusCode/100 == 2
		e.notes.add(note)
	}
	return nil
}

// fault injects the fault named kind into platform's emulator and returns
// what it did, for a person.
func (e *devEmulators) fault(platform, kind string) (string, error) {
	const retryAfter = 2 * time.Second
	const stall = 8 * time.Second
	switch platform + " " + kind {
	case "sendbee 429":
		e.sendbee.RateLimitNext(retryAfter)
	case "velaflows 429":
		e.velaflows.RateLimitNext(retryAfter)
	case "flowdock 429":
		e.flowdock.FailRequests(http.StatusTooManyRequests, 1)
	case "sendbee 5xx":
		e.sendbee.FailNext(http.StatusServiceUnavailable, "")
	case "velaflows 5xx":
		e.velaflows.FailNext(http.StatusServiceUnavailable, "service_unavailable", "injected by parley dev")
	case "flowdock 5xx":
		e.flowdock.FailRequests(http.StatusServiceUnavailable, 1)
	case "sendbee 4xx":
		e.sendbee.FailNext(http.StatusBadRequest, `{"error":{"detail":"refused by parley dev","type":"validation_error"}}`)
	case "velaflows 4xx":
		e.velaflows.FailNext(http.StatusBadRequest, "validation_error", "refused by parley dev")
	case "flowdock 4xx":
		e.flowdock.FailRequests(http.StatusBadRequest, 1)
	case "sendbee reset":
		e.sendbee.ResetNext()
	case "velaflows reset":
		e.velaflows.ResetNext()
	case "flowdock reset":
		e.flowdock.ResetRequests(1)
	case "sendbee stall":
		e.sendbee.DelayNext(stall)
	case "velaflows stall":
		e.velaflows.DelayNext(stall)
	case "flowdock stall":
		e.flowdock.Stall(stall)
	case "flowdock drop":
		e.flowdock.DropConnections()
	default:
		return "", fmt.Errorf("unknown fault %q for %s", kind, platform)
	}
	what := map[string]string{
		"429":   fmt.Sprintf("the next API request is answered 429 with Retry-After: %d", int(retryAfter.Seconds())),
		"5xx":   "the next API request is answered 503",
		"4xx":   "the next API request is refused with 400, which no retry mends",
		"reset": "the connection of the next API request is reset",
		"stall": fmt.Sprintf("the next API request waits %v before an answer", stall),
		"drop":  "every stream connection was dropped",
	}[kind]
	if platform == "flowdock" && kind == "stall" {
		what = fmt.Sprintf("the streams send nothing for %v", stall)
	}
	e.notes.add(devNote{Type: "fault", Platform: platform, Event: kind, Detail: what})
	return what, nil
}
