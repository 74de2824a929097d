package sendbee_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
)

// FuzzCheckToken checks CheckToken on arbitrary tokens, on valid tokens
// (computed here, so that the fuzzer gets past the signature) at any age,
// and on valid tokens with one byte changed. It never panics; it accepts a
// token only if it is exactly Token(secret, its time) within the window;
// it accepts every such token; and its errors name neither the secret nor
// the token.
func FuzzCheckToken(f *testing.F) {
	const vector = "MTcwMDAwMDAwMC4xYjc0ZWFmODdkYTQ2ODc3YmE2NTFhYzgxMmIyNGEzYmYwMTk5MGU5ZWQwMTAxYjg4MjY4ZjYwZjk2NTcyOWUy"
	f.Add("test-secret", vector, int64(1700000000), int64(900), int64(0), uint16(0), byte(0))
	f.Add("test-secret", vector, int64(1700000901), int64(0), int64(-901), uint16(3), byte(1))
	f.Add("", "", int64(0), int64(-1), int64(61), uint16(99), byte(0x80))
	f.Add("s", "MTcwMDAwMDAwMC4=", int64(1700000000), int64(60), int64(60), uint16(7), byte('.'))
	f.Fuzz(func(t *testing.T, secret, token string, now, windowSec, age int64, pos uint16, flip byte) {
		at := time.Unix(abs(now)%1e11, 0)
		window := time.Duration(windowSec%(1<<31)) * time.Second
		effective := window
		if effective <= 0 {
			effective = sendbee.DefaultTokenWindow
		}
		check := func(token string) error {
			err := sendbee.CheckToken(secret, token, at, window)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sendbee.ErrTokenMissing) && !errors.Is(err, sendbee.ErrTokenMalformed) &&
				!errors.Is(err, sendbee.ErrTokenExpired) && !errors.Is(err, sendbee.ErrTokenInvalid) {
				t.Fatalf("error %q wraps none of the sentinels", err)
			}
			if len(secret) >= 8 && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q names the secret", err)
			}
			if len(token) >= 16 && strings.Contains(err.Error(), token) {
				t.Fatalf("error %q names the token", err)
			}
			return err
		}

		// An arbitrary token is accepted only as the canonical token of
		// its time, within the window.
		if check(token) == nil {
			plain, err := base64.StdEncoding.DecodeString(token)
			if err != nil {
				t.Fatalf("accepted a token that is not Base64: %v", err)
			}
			ts, _, _ := strings.Cut(string(plain), ".")
			unix, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				t.Fatalf("accepted a token whose timestamp %q is not a number", ts)
			}
			if secret == "" || token != sendbee.Token(secret, time.Unix(unix, 0)) {
				t.Fatalf("accepted %q, which is not the token of %d", token, unix)
			}
			if d := at.Sub(time.Unix(unix, 0)); d > effective || d < -sendbee.TokenFutureSkew {
				t.Fatalf("accepted a token %v old with a window of %v", d, effective)
			}
		}

		// A valid token of any age: accepted exactly within the window.
		signed := at.Add(-time.Duration(age%(1<<33)) * time.Second)
		valid := sendbee.Token(secret, signed)
		d := at.Sub(signed)
		want := secret != "" && signed.Unix() >= 0 && d <= effective && d >= -sendbee.TokenFutureSkew
		if err := check(valid); (err == nil) != want {
			t.Fatalf("token %v old, window %v, secret %q: got %v, want accepted=%v", d, effective, secret, err, want)
		}

		// One byte changed: never accepted.
		b := []byte(valid)
		b[int(pos)%len(b)] ^= flip
		if mutated := string(b); mutated != valid && check(mutated) == nil {
			t.Fatalf("accepted %q, a changed copy of %q", mutated, valid)
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// FuzzServeHTTP sends arbitrary webhook requests to a running adapter,
// most of them with a valid token computed here so that the fuzzer reaches
// the decoder. The adapter never panics, answers with one of its documented
// statuses, publishes only what it answers 200 for, and every message it
// publishes has a platform, a conversation and an ID.
func FuzzServeHTTP(f *testing.F) {
	const secret = "fuzz-secret"
	seeds, _ := filepath.Glob("testdata/inbound/*.json")
	for _, p := range seeds {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, uint8(0), "")
	}
	f.Add([]byte(`{"id":"e","type":"message.sent","data":{"conversation_id":"c","source":"agent"}}`), uint8(1), "")
	f.Add([]byte(`{"id":"e","type":"chatbot.status","data":{"conversation_id":"c","chatbot_active":null}}`), uint8(0), "")
	f.Add([]byte(`{"type":"message.received","data":{"conversation_id":"c","message_id":"m","sent_at":1e400}}`), uint8(0), "")
	f.Add([]byte(`{}`), uint8(2), "MTcwMDAwMDAwMC4=")
	f.Add([]byte(`[]`), uint8(3), "")
	f.Add([]byte(`{"id":"e","type":"message.received","data":null}`), uint8(4), "")

	a, err := sendbee.New(sendbee.AdapterConfig{
		Config:        sendbee.Config{APIKey: "k", APISecret: "api-secret", BaseURL: "http://127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)},
		WebhookSecret: secret, MaxBodyBytes: 64 << 10,
	})
	if err != nil {
		f.Fatal(err)
	}
	var published atomic.Pointer[bot.Message]
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.Run(ctx, bot.PublisherFunc(func(_ context.Context, m *bot.Message) error {
			published.Store(m)
			return nil
		}))
	}()
	f.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(5 * time.Second); ; {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
		if rec.Code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			f.Fatal("the adapter did not start serving")
		}
	}

	f.Fuzz(func(t *testing.T, body []byte, mode uint8, header string) {
		method, name, token, authentic := http.MethodPost, "X-Authorization", sendbee.Token(secret, time.Now()), true
		switch mode % 8 {
		case 1:
			name = "X-Auth-Token"
		case 2:
			token, authentic = header, false // the fuzzer's own token
		case 3:
			token, authentic = sendbee.Token(secret, time.Now().Add(-time.Hour)), false
		case 4:
			token, authentic = sendbee.Token("another secret", time.Now()), false
		case 5:
			method = http.MethodPut
		}
		req := httptest.NewRequest(method, "/webhooks/sendbee", strings.NewReader(string(body)))
		req.Header.Set(name, token)
		rec := httptest.NewRecorder()
		published.Store(nil)
		a.ServeHTTP(rec, req)
		m := published.Load()

		allowed := []int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized,
			http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge}
		if !slices.Contains(allowed, rec.Code) {
			t.Fatalf("status %d", rec.Code)
		}
		if method != http.MethodPost && rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("%s answered %d", method, rec.Code)
		}
		if method == http.MethodPost && !authentic && sendbee.CheckToken(secret, token, time.Now(), 0) != nil && rec.Code != http.StatusUnauthorized {
			t.Fatalf("a request with a bad token answered %d", rec.Code)
		}
		if m == nil {
			return
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("published a message but answered %d", rec.Code)
		}
		if m.Platform != sendbee.Name || m.Conversation == "" || m.ID == "" {
			t.Fatalf("published %+v", m)
		}
		if m.Owner != bot.OwnerUnset && m.Owner != bot.OwnerBot && m.Owner != bot.OwnerHuman {
			t.Fatalf("published owner %v", m.Owner)
		}
		if !m.Time.IsZero() && (m.Time.Year() < 1970 || m.Time.Year() > 6000) {
			t.Fatalf("published time %v", m.Time)
		}
	})
}
