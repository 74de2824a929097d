package flowdock_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot"
)

// BenchmarkStream measures stream events turned into handled messages per
// second, next to a bare SSE reader of the same emulator stream in the same
// run: "bare" counts the data lines of a raw text/event-stream response;
// "adapter" runs the Flowdock adapter under a Bot whose handler does
// nothing, so each event is parsed by r3labs/sse, converted, checked for
// order and echo, deduplicated and routed. Both are fed by b.N posts to the
// emulator, whose cost they share.
func BenchmarkStream(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		emu := flowdocktest.NewServer(b, flowdocktest.WithoutDemoData(),
			flowdocktest.WithUsers(flowdocktest.User{ID: 2, Nick: "dana"}),
			flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", Name: "main", Members: []int{flowdocktest.DefaultBotID, 2}}))
		req, _ := http.NewRequest(http.MethodGet, emu.StreamURL()+"/flows?filter="+emu.FlowID("acme/main")+"&user=1", nil)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(emu.Token()+":")))
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var count atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 4<<20)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data:") {
					count.Add(1)
				}
			}
		}()
		err = feed(b, emu, &count)
		resp.Body.Close()
		<-done
		if err != nil {
			b.Fatal(err)
		}
	})

	b.Run("adapter", func(b *testing.B) {
		emu := flowdocktest.NewServer(b, flowdocktest.WithoutDemoData(),
			flowdocktest.WithUsers(flowdocktest.User{ID: 2, Nick: "dana"}),
			flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", Name: "main", Members: []int{flowdocktest.DefaultBotID, 2}}))
		logger := slog.New(slog.DiscardHandler)
		a, err := flowdock.New(flowdock.AdapterConfig{
			Config: flowdock.Config{Token: emu.Token(), BaseURL: emu.URL(), Logger: logger},
			Stream: flowdock.StreamConfig{URL: emu.StreamURL()},
		})
		if err != nil {
			b.Fatal(err)
		}
		bt, err := bot.New(bot.WithAdapters(a), bot.WithLogger(logger))
		if err != nil {
			b.Fatal(err)
		}
		var count atomic.Int64
		bt.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
			count.Add(1)
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- bt.Run(ctx) }()
		for !a.Health().Connected {
			time.Sleep(time.Millisecond)
		}
		err = feed(b, emu, &count)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if err != nil {
			b.Fatal(err)
		}
	})
}

// feedTimeout is how long feed waits after its last post for the events
// still on their way.
const feedTimeout = 30 * time.Second

// feed posts b.N messages and waits until count reaches b.N, reporting
// events per second. It returns an error when count has not reached b.N
// feedTimeout after the last post: a lost event fails the benchmark rather
// than hanging it.
func feed(b *testing.B, emu *flowdocktest.Server, count *atomic.Int64) error {
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := emu.Post("acme/main", "dana", "Hi, is the build green?"); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(feedTimeout)
	for count.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d events arrived in the %v after the last post", count.Load(), b.N, feedTimeout)
		}
		runtime.Gosched()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	return nil
}
