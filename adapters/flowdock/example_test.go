package flowdock_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/bot"
)

func ExampleNewClient() {
	cfg := flowdock.ConfigFromEnv(os.Getenv) // FLOWDOCK_API_TOKEN, FLOWDOCK_FLOW_TOKEN, FLOWDOCK_API_URL
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	c, err := flowdock.NewClient(cfg)
	if err != nil {
		// flowdock: missing token: set Config.Token (env FLOWDOCK_API_TOKEN, …) or Config.FlowToken (env FLOWDOCK_FLOW_TOKEN, …)
		log.Fatal(err)
	}
	_ = c
}

// Send, show, edit and delete, in a flow and in a private chat, as in the
// Python wrapper's walk-through.
func ExampleClient_SendMessage() {
	c, err := flowdock.NewClient(flowdock.Config{Token: os.Getenv("FLOWDOCK_API_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	flow := flowdock.FlowChat("hpe", "apua-flow")

	msg, _, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: "@team, ref here:", Tags: []string{"ref"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.ID, msg.ThreadID, msg.UUID, msg.Tags) // tags: [ref :user:team :url]

	// Edit the content, the tags (anyone may), or both (the author only).
	if _, err := c.EditMessage(ctx, flow, msg.ID, flowdock.MessageUpdate{
		Content: flowdock.Ptr("@team, read ref here:"),
		Tags:    []string{"ref", ":user:team", ":url"},
	}); err != nil {
		log.Fatal(err)
	}
	if _, err := c.DeleteMessage(ctx, flow, msg.ID); err != nil {
		log.Fatal(err)
	}

	// The same calls work in a private chat, named by the user's id.
	uid, _, err := c.UserIDByName(ctx, "Ray_")
	if err != nil {
		log.Fatal(err)
	}
	private := flowdock.PrivateChat(uid)
	if _, _, err := c.SendMessage(ctx, private, flowdock.NewMessage{Content: "a message"}); err != nil {
		log.Fatal(err)
	}
}

// Every flow message belongs to a thread; reply into it and list it.
func ExampleClient_ReplyInThread() {
	c, err := flowdock.NewClient(flowdock.Config{Token: os.Getenv("FLOWDOCK_API_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	start, _, err := c.SendMessage(ctx, flowdock.FlowChat("hpe", "apua-flow"), flowdock.NewMessage{Content: "Thread start"})
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := c.ReplyInThread(ctx, "hpe", "apua-flow", start.ThreadID, flowdock.NewMessage{Content: "A message replied"}); err != nil {
		log.Fatal(err)
	}
	msgs, _, err := c.ThreadMessages(ctx, "hpe", "apua-flow", start.ThreadID, flowdock.ListOptions{Limit: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msgs[0].Text())
}

// The two ways the list filters combine (see ListOptions).
func ExampleClient_ListMessages() {
	c, err := flowdock.NewClient(flowdock.Config{Token: os.Getenv("FLOWDOCK_API_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	flow := flowdock.FlowChat("hpe", "apua-flow")

	// 1. (search ∪ tags) → skip the newest N → limit N.
	found, _, err := c.ListMessages(ctx, flow, flowdock.ListOptions{
		Search: "keyword", Tags: []string{"A", "B"}, TagMode: flowdock.TagModeOr, Skip: 1, Limit: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	// 2. (event types) ∩ (since_id, until_id) → the oldest (sort asc) or newest N.
	files, _, err := c.ListMessages(ctx, flow, flowdock.ListOptions{
		Events: []string{"file"}, SinceID: 1000, Sort: flowdock.SortAsc, Limit: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Either way the result is oldest first.
	fmt.Println(len(found), len(files))
}

// Fill a gap after a stream disconnect: every message after the last seen.
func ExampleClient_AllMessages() {
	c, err := flowdock.NewClient(flowdock.Config{Token: os.Getenv("FLOWDOCK_API_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	lastSeen := int64(4711)
	for m, err := range c.AllMessages(context.Background(), flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{SinceID: lastSeen}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.ID, m.Event)
	}
}

// A send whose answer was lost (a timeout, a 5xx) may still have gone
// through: look it up by its uuid before sending again.
func ExampleClient_MessageByUUID() {
	c, err := flowdock.NewClient(flowdock.Config{Token: os.Getenv("FLOWDOCK_API_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	chat := flowdock.FlowChat("acme", "ops")
	uuid := flowdock.NewUUID() // kept with the outgoing message

	_, _, err = c.SendMessage(ctx, chat, flowdock.NewMessage{Content: "deploy done", UUID: uuid})
	var rl *bot.RateLimitError
	switch {
	case err == nil:
	case errors.As(err, &rl):
		fmt.Println("rate limited; retry after", rl.RetryAfter) // nothing was stored
	default:
		m, _, lookupErr := c.MessageByUUID(ctx, chat, uuid)
		switch {
		case lookupErr == nil:
			fmt.Println("sent after all, as message", m.ID)
		case errors.Is(lookupErr, flowdock.ErrNotFound):
			fmt.Println("not sent; safe to send again with the same uuid")
		default:
			log.Fatal(lookupErr)
		}
	}
}

// Upload a file and download it again, as the Python wrapper's
// upload/download.
func ExampleClient_UploadFile() {
	c, err := flowdock.NewClient(flowdock.Config{Token: os.Getenv("FLOWDOCK_API_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	f, err := os.Open("./README.rst")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	msg, _, err := c.UploadFile(ctx, flowdock.FlowChat("hpe", "apua-flow"), flowdock.FileUpload{Name: "README.rst", Content: f})
	if err != nil {
		log.Fatal(err)
	}
	content, err := msg.File()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(content.FileName)
	if _, _, err := c.DownloadFileTo(ctx, content.Path, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Present an external-service item with the flow token, as the Python
// wrapper's external_service.present.
func ExampleClient_PostDiscussion() {
	c, err := flowdock.NewClient(flowdock.Config{FlowToken: os.Getenv("FLOWDOCK_FLOW_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	ray := flowdock.NewAuthor("Ray", "http://somewhere.public/ray.png")
	item := flowdock.NewThread("Item 01", flowdock.WithExternalURL("https://external.service/item/ITEM-01"))

	if _, _, err := c.PostActivity(ctx, flowdock.Activity{ExternalThreadID: "ITEM-01", Author: ray, Title: "created item", Thread: item}); err != nil {
		log.Fatal(err)
	}
	if _, _, err := c.PostDiscussion(ctx, flowdock.Discussion{ExternalThreadID: "ITEM-01", Author: ray, Title: "commented", Body: "The comment"}); err != nil {
		log.Fatal(err)
	}
}

func ExampleNewThread() {
	uri := "https://external.service/item/ITEM-01"
	status, err := flowdock.NewStatus(flowdock.ColorGreen, "TODO")
	if err != nil {
		log.Fatal(err)
	}
	item := flowdock.NewThread("Item 01",
		flowdock.WithExternalURL(uri),
		flowdock.WithBody("<strong>The detail of the item here....</strong>"),
		flowdock.WithFields(flowdock.NewField("a", "1"), flowdock.NewField("<a>b</a>", "<a>2</a>")),
		flowdock.WithStatus(status),
		flowdock.WithActions(
			flowdock.ViewAction("Diff", ""),
			flowdock.UpdateAction("Assign to me", uri+"?assign=me", "POST"),
		),
	)
	b, _ := json.MarshalIndent(item, "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "title": "Item 01",
	//   "body": "\u003cstrong\u003eThe detail of the item here....\u003c/strong\u003e",
	//   "external_url": "https://external.service/item/ITEM-01",
	//   "status": {
	//     "color": "green",
	//     "value": "TODO"
	//   },
	//   "fields": [
	//     {
	//       "label": "a",
	//       "value": "1"
	//     },
	//     {
	//       "label": "\u003ca\u003eb\u003c/a\u003e",
	//       "value": "\u003ca\u003e2\u003c/a\u003e"
	//     }
	//   ],
	//   "actions": [
	//     {
	//       "@type": "ViewAction",
	//       "name": "Diff",
	//       "url": ""
	//     },
	//     {
	//       "@type": "UpdateAction",
	//       "name": "Assign to me",
	//       "target": {
	//         "@type": "EntryPoint",
	//         "httpMethod": "POST",
	//         "urlTemplate": "https://external.service/item/ITEM-01?assign=me"
	//       }
	//     }
	//   ]
	// }
}

func ExampleNewStatus() {
	_, err := flowdock.NewStatus("not supported color", "...")
	fmt.Println(err)
	// Output:
	// flowdock: new status: color "not supported color" is not supported; supported colors are: black, blue, cyan, green, grey, lime, orange, purple, red, yellow
}

func ExampleParseChat() {
	for _, s := range []string{"hpe/apua-flow", "private/336968"} {
		c, err := flowdock.ParseChat(s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(c.IsPrivate(), c)
	}
	// Output:
	// false hpe/apua-flow
	// true private/336968
}

func ExampleMessage_Text() {
	var m flowdock.Message
	_ = json.Unmarshal([]byte(`{"event":"comment","id":503,"content":{"title":"Build #88 failed","text":"looking"}}`), &m)
	fmt.Println(m.Text())
	// Output:
	// looking
}
