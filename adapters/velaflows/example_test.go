package velaflows_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
)

// The examples run against the VelaFlows emulator (package velaflowstest)
// on a loopback address, so their output is checked. Against the real API
// leave BaseURL empty and set VELAFLOWS_API_TOKEN and
// VELAFLOWS_WORKSPACE_ID.

func ExampleNewClient() {
	// Token and WorkspaceID default to VELAFLOWS_API_TOKEN and
	// VELAFLOWS_WORKSPACE_ID; a missing or malformed one is an error
	// naming the variable.
	_, err := velaflows.NewClient(velaflows.Config{
		Token:       "sk_live_a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0",
		WorkspaceID: "ws_64f1a2b3c4d5e6f7a8b9c0d1",
	})
	fmt.Println(err)
	// Output:
	// velaflows: invalid workspace ID "ws_64f1a2b3c4d5e6f7a8b9c0d1" (the ws_ prefix of webhook payloads is not part of it: use 64f1a2b3c4d5e6f7a8b9c0d1): set VELAFLOWS_WORKSPACE_ID (or Config.WorkspaceID)
}

func ExampleConfigFromEnv() {
	cfg := velaflows.ConfigFromEnv(os.Getenv)
	cfg.Retry = &velaflows.RetryPolicy{} // retry reads on 5xx and 429
	c, err := velaflows.NewClient(cfg)
	if err != nil {
		log.Fatal(err) // velaflows: missing API token: set VELAFLOWS_API_TOKEN (or Config.Token)
	}
	_ = c
}

// "List Conversations" of VelaFlows' Python examples.
func ExampleClient_Conversations() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}

	page, _, err := c.Conversations(context.Background(), velaflows.ConversationsOptions{
		ListOptions: velaflows.ListOptions{Page: 1, Limit: 20},
		Status:      velaflows.StatusOpen,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Total conversations:", page.Pagination.Total)
	for _, conv := range page.Items {
		fmt.Printf("[%s] %s\n", conv.ChannelType, conv.Status)
	}
	// Output:
	// Total conversations: 4
	// [webchat] open
	// [instagram] open
	// [whatsapp] open
	// [email] open
}

// "Create a CRM Lead" of VelaFlows' Python examples, and its error
// handling.
func ExampleClient_CreateLead() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	lead, _, err := c.CreateLead(ctx, velaflows.LeadRequest{
		FirstName:  "Jane",
		LastName:   "Smith",
		Email:      "jane.smith@example.com",
		Phone:      "+1234567890",
		PipelineID: velaflowstest.SeedPipelineID,
		StageID:    velaflowstest.SeedStageID,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Created lead:", lead.FirstName, lead.LastName, lead.ID != "")

	_, _, err = c.CreateLead(ctx, velaflows.LeadRequest{
		FirstName: "Jane", Email: "invalid-email",
		PipelineID: velaflowstest.SeedPipelineID, StageID: velaflowstest.SeedStageID,
	})
	var apiErr *velaflows.APIError
	switch {
	case velaflows.IsCode(err, velaflows.CodeValidation) && errors.As(err, &apiErr):
		for _, fe := range apiErr.FieldErrors() {
			fmt.Println("Invalid data:", fe.Path)
		}
	case velaflows.IsCode(err, velaflows.CodeUnauthorized):
		fmt.Println("Check your API token")
	case velaflows.IsCode(err, velaflows.CodeForbidden):
		fmt.Println("Token lacks required scope")
	case velaflows.IsCode(err, velaflows.CodeTooManyRequests):
		fmt.Println("Rate limited - retry later")
	case err != nil:
		fmt.Println("API error:", err)
	}
	// Output:
	// Created lead: Jane Smith true
	// Invalid data: email
}

// "Send a Message" of VelaFlows' Python examples.
func ExampleClient_SendMessage() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}

	msg, _, err := c.SendMessage(context.Background(), velaflowstest.SeedConversationID, velaflows.MessageRequest{
		Content: "Hello! How can I help you today?",
	})
	var rl *bot.RateLimitError
	if errors.As(err, &rl) {
		fmt.Println("not sent; try again in", rl.RetryAfter)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Sent message:", msg.ID != "", msg.Type, msg.Body())
	// Output:
	// Sent message: true text Hello! How can I help you today?
}

// "Update a Customer" of VelaFlows' Python examples.
func ExampleClient_UpdateCustomer() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}

	cust, _, err := c.UpdateCustomer(context.Background(), velaflowstest.SeedCustomerID, velaflows.CustomerUpdate{
		FirstName: "Jane",
		LastName:  "Doe",
		Email:     "jane.doe@newcompany.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Updated customer:", cust.ID, cust.Email)
	// Output:
	// Updated customer: 65a1b2c3d4e5f6a7b8c9d0e1 jane.doe@newcompany.com
}

// "Subscribe to Webhooks" of VelaFlows' Python examples.
func ExampleClient_CreateWebhookSubscription() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}

	secret, err := velaflows.NewWebhookSecret() // keep it to verify deliveries
	if err != nil {
		log.Fatal(err)
	}
	sub, _, err := c.CreateWebhookSubscription(context.Background(), "https://your-app.com/webhooks/velaflows",
		[]string{
			velaflows.EventConversationCreated,
			velaflows.EventConversationMessageReceived,
			velaflows.EventLeadStageChanged,
		}, secret)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Webhook subscription:", sub.ID != "", sub.Active, strings.Join(sub.Events, " "))
	// Output:
	// Webhook subscription: true true conversation.created conversation.message.received lead.stage_changed
}

// "Pagination Helper" of VelaFlows' Python examples: every open conversation, 100 per
// request.
func ExampleClient_AllConversations() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}

	n := 0
	for _, err := range c.AllConversations(context.Background(), velaflows.ConversationsOptions{Status: velaflows.StatusOpen}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Printf("Fetched %d conversations\n", n)
	// Output:
	// Fetched 4 conversations
}

// Collect gathers an iterator into a slice, like fetch_all_pages
// of VelaFlows' Python examples; the full export script is Client.ExportLeadsCSV.
func ExampleCollect() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.AddLeads(250)
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}

	leads, err := velaflows.Collect(c.AllLeads(context.Background(), velaflows.LeadsOptions{
		ListOptions: velaflows.ListOptions{SortBy: "createdAt", SortOrder: velaflows.SortDesc},
	}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(leads), "leads, newest:", leads[0].FirstName, leads[0].LastName)
	// Output:
	// 256 leads, newest: Lead 00256
}

// "Retry with Exponential Backoff" of VelaFlows' Python examples: WithRetry retries any call
// on 5xx, 429 and connection errors. Config.Retry does the same
// automatically for reads and deletes.
func ExampleWithRetry() {
	srv, err := velaflowstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := velaflows.NewClient(velaflows.Config{Token: srv.Token(), WorkspaceID: srv.WorkspaceID(), BaseURL: srv.URL()})
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(503, "", "") // one gateway failure

	var page *velaflows.Page[velaflows.Conversation]
	attempts := 0
	err = velaflows.WithRetry(context.Background(), velaflows.RetryPolicy{BaseDelay: 10 * time.Millisecond}, func(ctx context.Context) error {
		attempts++
		var err error
		page, _, err = c.Conversations(ctx, velaflows.ConversationsOptions{Status: velaflows.StatusOpen})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Items), "open conversations after", attempts, "attempts")
	// Output:
	// 4 open conversations after 2 attempts
}

func ExampleCanonicalEvent() {
	for _, name := range []string{"inbox.message.received", "conversation.message.received", "crm.lead.stage_changed", "customer.created"} {
		fmt.Println(name, "→", velaflows.CanonicalEvent(name))
	}
	// Output:
	// inbox.message.received → conversation.message.received
	// conversation.message.received → conversation.message.received
	// crm.lead.stage_changed → lead.stage_changed
	// customer.created → customer.created
}
