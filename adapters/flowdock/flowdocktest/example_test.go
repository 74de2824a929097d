package flowdocktest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// A bot reads its flow from the stream and answers over REST. In a test,
// use NewServer(t, …) instead of Start; it closes itself at the end of the
// test.
func Example() {
	at := time.Date(2020, 9, 13, 12, 0, 0, 0, time.UTC) // a fixed clock keeps the output stable
	s, err := flowdocktest.Start("127.0.0.1:0",
		flowdocktest.WithoutDemoData(),
		flowdocktest.WithUser(flowdocktest.User{ID: 1201, Nick: "opsbot", Token: "bot-token"}),
		flowdocktest.WithUsers(flowdocktest.User{ID: 1305, Nick: "dana"}),
		flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", Name: "ops"}),
		flowdocktest.WithClock(func() time.Time { return at }),
	)
	if err != nil {
		panic(err)
	}
	defer s.Close()

	// Open the stream as Server-Sent Events.
	req, _ := http.NewRequest(http.MethodGet, s.StreamURL()+"/flows?filter=acme/ops&user=1", nil)
	req.SetBasicAuth("bot-token", "")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println("stream:", resp.Status, "as user", resp.Header.Get("Flowdock-User"))

	// Dana mentions the bot.
	if _, err := s.Post("acme/ops", "dana", "@opsbot status?"); err != nil {
		panic(err)
	}
	var lines []string
	br := bufio.NewReader(resp.Body)
	for len(lines) < 2 {
		line, _ := br.ReadString('\n')
		lines = append(lines, strings.TrimSuffix(line, "\n"))
	}
	fmt.Println(lines[0])
	var msg struct {
		ID       int      `json:"id"`
		User     string   `json:"user"`
		Content  string   `json:"content"`
		Tags     []string `json:"tags"`
		ThreadID string   `json:"thread_id"`
	}
	_ = json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "data: ")), &msg)
	fmt.Printf("message %d from user %s: %q %v\n", msg.ID, msg.User, msg.Content, msg.Tags)

	// The bot replies in the same thread.
	body := fmt.Sprintf(`{"event":"message","content":"all green","thread_id":%q,"uuid":"r-1"}`, msg.ThreadID)
	post, _ := http.NewRequest(http.MethodPost, s.URL()+"/flows/acme/ops/messages", strings.NewReader(body))
	post.SetBasicAuth("bot-token", "")
	post.Header.Set("Content-Type", "application/json")
	presp, err := http.DefaultClient.Do(post)
	if err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, presp.Body)
	presp.Body.Close()
	fmt.Println("reply:", presp.Status)

	for _, m := range s.Sent() {
		fmt.Printf("sent to %s: %q id=%d same thread=%v uuid=%s\n", m.Flow, m.Content, m.ID, m.ThreadID == msg.ThreadID, m.UUID)
	}
	// Output:
	// stream: 200 OK as user 1201
	// id: 1
	// message 1 from user 1305: "@opsbot status?" [:user:1201 :unread:1201]
	// reply: 201 Created
	// sent to acme/ops: "all green" id=2 same thread=true uuid=r-1
}

// A program running the emulator learns from the observer
// (flowdocktest.WithConnectionObserver) whether the bot holds a stream,
// and why it cannot.
func ExampleConnectionEvent_Explain() {
	refused := flowdocktest.ConnectionEvent{State: flowdocktest.ConnRefused, Status: http.StatusUnauthorized, Reason: "bad credentials"}
	fmt.Println(refused.Explain())
	ended := flowdocktest.ConnectionEvent{State: flowdocktest.ConnDisconnected, User: flowdocktest.DefaultBotID, Nick: "parley", Bot: true,
		Flows: []string{"acme/main"}, Reason: "the client closed it", Duration: 90 * time.Second}
	fmt.Println(ended.Explain())
	// Output:
	// stream connection refused 401 (bad credentials) — the bot's FLOWDOCK_API_TOKEN is not the emulator's; run: eval "$(parley sim env)" and restart the bot
	// stream: parley disconnected after 1m30s: the client closed it; no bot stream is open
}
