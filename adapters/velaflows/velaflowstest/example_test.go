package velaflowstest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// A bot subscribes to inbound messages, receives a signed delivery when a
// customer writes, verifies it and answers through the API. In a test, use
// NewServer(t, …) instead of Start; it closes itself when the test ends.
func Example() {
	const secret = "whsec_example"
	type delivery struct {
		EventType string `json:"eventType"`
		Data      struct {
			ConversationID string `json:"conversationId"`
			Message        struct {
				Text   string `json:"text"`
				Sender struct {
					Type string `json:"type"`
					Name string `json:"name"`
				} `json:"sender"`
			} `json:"message"`
		} `json:"data"`
	}
	got := make(chan delivery, 1)
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if !hmac.Equal([]byte("sha256="+hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get("X-Webhook-Signature"))) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var d delivery
		_ = json.Unmarshal(body, &d)
		got <- d
	}))
	defer bot.Close()

	s, err := velaflowstest.Start("127.0.0.1:0",
		velaflowstest.WithCredentials("sk_test_0123456789abcdefghijklmnopqrstuvwxyzABCD", "64f1a2b3c4d5e6f7a8b9c0d1"),
		velaflowstest.WithSubscription(bot.URL, secret, "conversation.message.received"),
		velaflowstest.WithClock(func() time.Time { return time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC) }))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	s.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "Hi, where is my parcel?")
	d := <-got
	fmt.Println(d.EventType, d.Data.Message.Sender.Type, d.Data.Message.Sender.Name+":", d.Data.Message.Text)

	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/inbox/conversations/"+d.Data.ConversationID+"/messages",
		strings.NewReader(`{"content": "It ships tomorrow.", "type": "text"}`))
	req.Header.Set("Authorization", "Bearer "+s.Token())
	req.Header.Set("x-workspace-id", s.WorkspaceID())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	fmt.Println(resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	sent := s.Sent()[0]
	fmt.Println(sent.ConversationID == d.Data.ConversationID, sent.Content)
	// Output:
	// conversation.message.received contact Ada Lovelace: Hi, where is my parcel?
	// 201 99
	// true It ships tomorrow.
}

// A program running the emulator learns of every failed delivery from the
// observer (velaflowstest.WithDeliveryObserver) and prints a line saying
// what to check.
func ExampleDelivery_Explain() {
	d := velaflowstest.Delivery{
		EventType: velaflowstest.EventMessageReceived, URL: "http://127.0.0.1:8080/webhooks/velaflows", Attempt: 1,
		Outcome: velaflowstest.OutcomeRefused, Error: "dial tcp 127.0.0.1:8080: connect: connection refused",
	}
	fmt.Println(d.Explain())
	// Output:
	// delivery of conversation.message.received to http://127.0.0.1:8080/webhooks/velaflows failed: connection refused — is the bot running and listening on 127.0.0.1:8080 (PARLEY_ADDR)?
}

// One bot works in two workspaces served by one host: an answer with
// acme's token lands in acme's workspace only, and acme's token does not
// open zeta's workspace. In a test, use NewHost(t) instead of StartHost.
func ExampleHost() {
	const (
		acmeToken, acmeWorkspace = "sk_test_acmeacmeacmeacmeacmeacmeacmeacmeacme", "64f0c0ffee0000000000acce"
		zetaToken, zetaWorkspace = "sk_test_zetazetazetazetazetazetazetazetazeta", "64f0c0ffee0000000000beef"
	)
	h, err := velaflowstest.StartHost("127.0.0.1:0", "/api/v1")
	if err != nil {
		panic(err)
	}
	defer h.Close()
	acme, err := h.Add("acme", velaflowstest.WithCredentials(acmeToken, acmeWorkspace))
	if err != nil {
		panic(err)
	}
	zeta, err := h.Add("zeta", velaflowstest.WithCredentials(zetaToken, zetaWorkspace))
	if err != nil {
		panic(err)
	}
	conv, _ := acme.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "Where is my parcel?")

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	answer := func(workspace string) int {
		req, _ := http.NewRequest(http.MethodPost, h.URL()+"/inbox/conversations/"+conv+"/messages",
			strings.NewReader(`{"type":"text","content":"It ships tomorrow."}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+acmeToken)
		req.Header.Set("x-workspace-id", workspace)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(answer(acmeWorkspace), len(acme.Sent()), len(zeta.Sent()))
	fmt.Println(answer(zetaWorkspace), len(acme.Sent()), len(zeta.Sent()))
	// Output:
	// 201 1 0
	// 403 1 0
}
