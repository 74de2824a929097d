package sendbee_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
)

func ExampleNewClient() {
	c, err := sendbee.NewClient(sendbee.Config{
		APIKey:    os.Getenv("SENDBEE_API_KEY"),
		APISecret: os.Getenv("SENDBEE_API_SECRET"),
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		log.Fatal(err) // sendbee: missing API key (Config.APIKey, env SENDBEE_API_KEY)
	}
	_ = c
}

func ExampleToken() {
	// The token the client sends in X-Auth-Token, and Sendbee in the
	// X-Authorization header of webhooks (a fixed test vector).
	fmt.Println(sendbee.Token("test-secret", time.Unix(1700000000, 0)))
	// Output:
	// MTcwMDAwMDAwMC4xYjc0ZWFmODdkYTQ2ODc3YmE2NTFhYzgxMmIyNGEzYmYwMTk5MGU5ZWQwMTAxYjg4MjY4ZjYwZjk2NTcyOWUy
}

func ExampleCheckToken() {
	const secret = "test-secret"
	signed := time.Unix(1700000000, 0)
	token := sendbee.Token(secret, signed)

	fmt.Println(sendbee.CheckToken(secret, token, signed.Add(time.Minute), 0))
	err := sendbee.CheckToken(secret, token, signed.Add(time.Hour), 0)
	fmt.Println(errors.Is(err, sendbee.ErrTokenExpired))
	err = sendbee.CheckToken("another-secret", token, signed, 0)
	fmt.Println(errors.Is(err, sendbee.ErrTokenInvalid))
	// Output:
	// <nil>
	// true
	// true
}

// A webhook receiver checks X-Authorization before reading the body.
func ExampleCheckToken_webhook() {
	secret := os.Getenv("SENDBEE_API_SECRET")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sendbee", func(w http.ResponseWriter, r *http.Request) {
		if err := sendbee.CheckToken(secret, r.Header.Get("X-Authorization"), time.Now(), 0); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// Decode and handle the event.
		w.WriteHeader(http.StatusOK)
	})
}

func ExampleClient_SendMessage() {
	c, err := sendbee.NewClient(sendbee.Config{APIKey: "key", APISecret: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	sent, resp, err := c.SendMessage(ctx, sendbee.SendMessageRequest{
		Phone: "+385911234567",
		Text:  "Your order has shipped.",
		// Answer as the automation: without this, Sendbee switches the
		// conversation's chatbot off, as after an agent's reply.
		PreventBotOff: sendbee.Bool(true),
	})
	var rl *bot.RateLimitError
	var apiErr *sendbee.APIError
	switch {
	case errors.As(err, &rl):
		log.Printf("rate limited, retry in %s", rl.RetryAfter)
		return
	case errors.As(err, &apiErr):
		log.Printf("rejected: %d %s: %s", apiErr.StatusCode, apiErr.Type, apiErr.Detail)
		return
	case err != nil:
		log.Printf("not sent: %v", err)
		return
	}
	if resp.Warning != "" {
		log.Printf("Sendbee warns: %s", resp.Warning)
	}
	log.Printf("message %s in conversation %s is %s (%d requests left)",
		sent.MessageID, sent.ConversationID, sent.Status, resp.Rate.Remaining)
}

func ExampleClient_SendTemplateMessage() {
	c, err := sendbee.NewClient(sendbee.Config{APIKey: "key", APISecret: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Outside the 24-hour window, only an approved template may be sent.
	for tpl, err := range c.AllMessageTemplates(ctx, sendbee.MessageTemplatesOptions{Status: sendbee.TemplateApproved}) {
		if err != nil {
			log.Fatal(err)
		}
		if tpl.Keyword != "welcome" {
			continue
		}
		_, _, err := c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{
			Phone:           "+385911234567",
			TemplateKeyword: tpl.Keyword,
			Language:        tpl.Language,
			Tags:            map[string]string{"1": "Ana"},
			PreventBotOff:   sendbee.Bool(true),
		})
		if err != nil {
			log.Fatal(err)
		}
		break
	}
}

func ExampleClient_AllContacts() {
	c, err := sendbee.NewClient(sendbee.Config{APIKey: "key", APISecret: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Fetches page after page as the loop needs them.
	for contact, err := range c.AllContacts(ctx, sendbee.ContactsOptions{Tags: []string{"vip"}, Limit: 100}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(contact.Name, contact.Phone)
	}
}

// The page-at-a-time form of the Python client's loops.
func ExampleClient_ConversationMessages() {
	c, err := sendbee.NewClient(sendbee.Config{APIKey: "key", APISecret: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	opts := sendbee.MessagesOptions{ConversationID: "c0ffee00-1111-4222-8333-444455556666"}
	for {
		page, _, err := c.ConversationMessages(ctx, opts)
		if errors.Is(err, sendbee.ErrPagination) {
			break // asked for a page past the end
		}
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range page.Items {
			fmt.Println(m.Direction, m.Body)
		}
		if !page.HasNext() {
			break
		}
		opts.Page = page.NextPage()
	}
}

// Hand a conversation to a human agent, and later take it back.
func ExampleClient_SetChatbotActivity() {
	c, err := sendbee.NewClient(sendbee.Config{APIKey: "key", APISecret: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	const conv = "c0ffee00-1111-4222-8333-444455556666"

	if _, _, err := c.SetChatbotActivity(ctx, conv, false); err != nil {
		log.Fatal(err)
	}
	st, _, err := c.ChatbotStatus(ctx, conv)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("chatbot active:", st.ChatbotActive)
}
