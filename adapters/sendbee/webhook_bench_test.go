package sendbee_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
)

// BenchmarkWebhook compares signed webhook ingestion on loopback with
// keep-alive connections against a bare net/http handler on the same
// machine, in one run:
//
//   - bare: a handler that reads the body and answers 200;
//   - sendbee: the adapter mounted on the same kind of server, checking the
//     X-Authorization token, decoding and converting the event and
//     publishing it to a running Bot (dedup, queue, a handler that does
//     nothing) before it answers 200.
//
// Both receive the same bodies, each with a unique message ID, from
// GOMAXPROCS×4 concurrent clients, and report requests per second.
func BenchmarkWebhook(b *testing.B) {
	const secret = "bench-secret"
	body := func(i int64) []byte {
		id := strconv.FormatInt(i, 10)
		return []byte(`{"id":"evt-` + id + `","type":"message.received","business_id":"b","created_at":1714644903,` +
			`"data":{"conversation_id":"conv-` + strconv.FormatInt(i%1024, 10) + `","message_id":"msg-` + id + `",` +
			`"contact":{"id":"k","name":"Ana","phone":"+385911234567"},"direction":"inbound",` +
			`"body":"Hi, is the shop open today?","sent_at":1714644903.12,"chatbot_active":true}}`)
	}
	drive := func(b *testing.B, url string) {
		tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		token := sendbee.Token(secret, time.Now())
		var next atomic.Int64
		b.SetParallelism(4)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body(next.Add(1))))
				req.Header.Set("X-Authorization", token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	}

	b.Run("bare", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		drive(b, srv.URL)
	})

	b.Run("sendbee", func(b *testing.B) {
		logger := slog.New(slog.DiscardHandler)
		sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
			APIKey: "k", APISecret: secret, BaseURL: "http://127.0.0.1:9", Logger: logger,
		}})
		if err != nil {
			b.Fatal(err)
		}
		bt, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(logger))
		if err != nil {
			b.Fatal(err)
		}
		bt.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- bt.Run(ctx) }()
		srv := httptest.NewServer(sb)
		defer func() {
			srv.Close()
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
		}()
		// Wait until the adapter serves (Run has started).
		for {
			resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(nil))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusUnauthorized {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		drive(b, srv.URL)
	})
}

// BenchmarkOutboundRateUse sends replies through a Bot whose Sendbee
// adapter declares the emulator's limit, and reports the share of the
// allowed rate the outbox achieved and the number of 429 answers it caused.
// The limit is 600 a minute (Sendbee's is 60) so that a run takes seconds.
// Run it with -benchtime=1x.
func BenchmarkOutboundRateUse(b *testing.B) {
	const perMinute, msgs = 600, 60
	for range b.N {
		emu := sendbeetest.NewServer(b, sendbeetest.WithRateLimit(perMinute, time.Minute), sendbeetest.WithWaitTimeout(time.Minute))
		logger := slog.New(slog.DiscardHandler)
		sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
			APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL(), Logger: logger,
		}, RequestsPerMinute: perMinute})
		if err != nil {
			b.Fatal(err)
		}
		bt, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(logger))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- bt.Run(ctx) }()
		start := time.Now()
		for i := range msgs {
			m := &bot.Message{Platform: sendbee.Name, Conversation: "5eedc0de-0000-4000-8000-000000000001", Text: "update " + strconv.Itoa(i)}
			if err := bt.Send(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
		emu.WaitSent(b, msgs)
		elapsed := time.Since(start)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		var refused int
		for _, r := range emu.Requests() {
			if r.Status == http.StatusTooManyRequests {
				refused++
			}
		}
		// msgs sends at perMinute/60 a second take (msgs-1)/rate seconds
		// with a burst of one: the first send is immediate.
		ideal := time.Duration(msgs-1) * time.Minute / perMinute
		b.ReportMetric(100*ideal.Seconds()/elapsed.Seconds(), "%rate-used")
		b.ReportMetric(float64(refused), "429s")
	}
}
