package velaflows_test

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

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
)

// BenchmarkDelivery compares signed delivery ingestion on loopback with
// keep-alive connections against a bare net/http handler, in one run:
// "bare" reads the body and answers 200; "velaflows" is the adapter, which
// verifies the HMAC of the body, decodes and converts the event and
// publishes it to a running Bot (dedup on eventId, queue, a handler that
// does nothing) before answering 200. Both get the same signed bodies, each
// with a unique eventId, from 8 concurrent clients.
func BenchmarkDelivery(b *testing.B) {
	const secret = "whsec_bench_secret"
	body := func(i int64) []byte {
		id := strconv.FormatInt(i, 10)
		return []byte(`{"eventId":"evt_` + id + `","eventType":"conversation.message.received","timestamp":"` +
			time.Now().UTC().Format(time.RFC3339) + `","workspaceId":"ws_1","data":{"conversationId":"conv_` +
			strconv.FormatInt(i%1024, 10) + `","message":{"_id":"msg_` + id + `","type":"text","text":"Hi, where is my parcel?",` +
			`"sender":{"type":"contact","name":"Ada Lovelace","phone":"+442071838750"},"channel":"whatsapp"}}}`)
	}
	drive := func(b *testing.B, url string) {
		tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		var next atomic.Int64
		b.SetParallelism(4)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				raw := body(next.Add(1))
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Webhook-Signature", velaflows.Sign(secret, raw))
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

	b.Run("velaflows", func(b *testing.B) {
		emu := velaflowstest.NewServer(b)
		logger := slog.New(slog.DiscardHandler)
		vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
			Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL(), Logger: logger,
		}, WebhookSecret: secret})
		if err != nil {
			b.Fatal(err)
		}
		bt, err := bot.New(bot.WithAdapters(vf), bot.WithLogger(logger))
		if err != nil {
			b.Fatal(err)
		}
		bt.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- bt.Run(ctx) }()
		srv := httptest.NewServer(vf)
		defer func() {
			srv.Close()
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
		}()
		for { // wait until the adapter serves (Run has started)
			resp, err := http.Post(srv.URL, "application/json", bytes.NewReader([]byte("{}")))
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
