package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The admin API of a Bot, served on loopback: hand a conversation to
// humans, read its owner back, list the routes (none here), and ask for a
// path that is not there.
func Example() {
	fa := bottest.NewFakeAdapter("chat")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(admin.Handler(b))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }() // before srv.Close: the Bot's end ends the event streams

	show := func(resp *http.Response, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s", resp.StatusCode, body)
	}
	show(http.Post(srv.URL+"/admin/v1/conversations/chat/c1/handoff", "", nil))
	owner, _ := b.Owner(context.Background(), "chat", "c1")
	fmt.Println("owner:", owner)
	show(http.Get(srv.URL + "/admin/v1/rules"))
	show(http.Get(srv.URL + "/admin/v1/nope"))
	// Output:
	// 200 {"platform":"chat","conversation":"c1","owner":"human"}
	// owner: human
	// 200 {"routes":[]}
	// 404 {"error":"admin: no such path: /admin/v1/nope"}
}
