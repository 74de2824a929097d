package sendbeetest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
