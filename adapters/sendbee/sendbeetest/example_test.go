package sendbeetest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// A bot's webhook endpoint receives a customer's message from the emulator,
// signed in X-Authorization with the webhook secret. In a test, use
// NewServer(t, …) instead of Start; it closes itself at the end of the test.
func Example() {
	type event struct {
		Type string `json:"type"`
		Data struct {
			Body    string `json:"body"`
			Contact struct {
				Phone string `json:"phone"`
			} `json:"contact"`
			ChatbotActive bool `json:"chatbot_active"`
		} `json:"data"`
	}
	got := make(chan event, 1)
	tokens := make(chan string, 1)
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev event
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &ev)
		tokens <- r.Header.Get("X-Authorization")
		got <- ev
	}))
	defer bot.Close()

	at := time.Unix(1700000000, 0) // a fixed clock keeps the output stable
	s, err := sendbeetest.Start("127.0.0.1:0",
		sendbeetest.WithWebhook(bot.URL),
		sendbeetest.WithWebhookSecret("webhook-secret"),
		sendbeetest.WithClock(func() time.Time { return at }))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	s.CustomerMessage("+385911234567", "Ana", "Is the shop open today?")

	token := <-tokens
	ev := <-got
	fmt.Println(ev.Type, ev.Data.Contact.Phone, ev.Data.Body, ev.Data.ChatbotActive)
	// The token is signed with the webhook secret at the server's clock.
	fmt.Println(token == sendbeetest.Token("webhook-secret", at))
	// Output:
	// message.received +385911234567 Is the shop open today? true
	// true
}

// A program running the emulator learns of every failed delivery from the
// observer (sendbeetest.WithDeliveryObserver) and prints a line saying
// what to check.
func ExampleDelivery_Explain() {
	d := sendbeetest.Delivery{
		Type: sendbeetest.EventMessageReceived, URL: "http://127.0.0.1:8080/webhooks/sendbee", Attempt: 1,
		Outcome: sendbeetest.OutcomeRejected, StatusCode: http.StatusUnauthorized,
	}
	fmt.Println(d.Explain())
	// Output:
	// delivery of message.received to http://127.0.0.1:8080/webhooks/sendbee rejected 401 — the bot's SENDBEE_API_SECRET differs from the emulator's (or the clocks differ); run: eval "$(parley sim env)" and restart the bot
}

// One bot answers two business numbers served by one host: a send with
// acme's key and secret lands in acme's account only. In a test, use
// NewHost(t) instead of StartHost.
func ExampleHost() {
	h, err := sendbeetest.StartHost("127.0.0.1:0", "")
	if err != nil {
		panic(err)
	}
	defer h.Close()
	acme, err := h.Add("acme", sendbeetest.WithCredentials("key-acme", "secret-acme"))
	if err != nil {
		panic(err)
	}
	zeta, err := h.Add("zeta", sendbeetest.WithCredentials("key-zeta", "secret-zeta"))
	if err != nil {
		panic(err)
	}
	acme.CustomerMessage("+385911234567", "Ana", "Is the shop open today?")

	req, _ := http.NewRequest(http.MethodPost, h.URL()+"/conversations/messages/send",
		strings.NewReader(`{"phone":"+385911234567","text":"Yes, until 8 pm."}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", "key-acme")
	req.Header.Set("X-Auth-Token", sendbeetest.Token("secret-acme", time.Now()))
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, len(acme.Sent()), len(zeta.Sent()))
	fmt.Println(acme.Sent()[0].Text)
	// Output:
	// 200 1 0
	// Yes, until 8 pm.
}
