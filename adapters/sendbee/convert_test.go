package sendbee

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

var update = flag.Bool("update", false, "rewrite the golden files of convert tests")

// TestWebhookToMessage_Golden converts each testdata/inbound/<case>.json
// and compares the message (without Raw, checked separately) with
// <case>.golden.json.
func TestWebhookToMessage_Golden(t *testing.T) {
	n := bottest.Golden(t, "testdata/inbound/*.json", *update, func(t *testing.T, raw []byte) *bot.Message {
		m, err := webhookToMessage(raw, Name)
		require.NoError(t, err)
		return m
	})
	require.GreaterOrEqual(t, n, 7)
}

func TestWebhookToMessage_Errors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ignored bool
		want    string
	}{
		{name: "not json", body: `{"type":`, want: "sendbee: webhook"},
		{name: "array", body: `[1,2]`, want: "sendbee: webhook"},
		{name: "no type", body: `{"id":"e","data":{}}`, want: "no event type"},
		{name: "unknown type", body: `{"id":"e","type":"contact.created","data":{"id":"x"}}`, ignored: true},
		{name: "echo of an API send", body: `{"id":"e","type":"message.sent","data":{"conversation_id":"c","message_id":"m","source":"api","body":"hi"}}`, ignored: true},
		{name: "no data", body: `{"id":"e","type":"message.received"}`, want: "no data"},
		{name: "data not an object", body: `{"id":"e","type":"message.received","data":"x"}`, want: "message.received"},
		{name: "no conversation", body: `{"id":"e","type":"message.received","data":{"message_id":"m","body":"x"}}`, want: "no conversation_id"},
		{name: "no message id", body: `{"id":"e","type":"message.received","data":{"conversation_id":"c","body":"x"}}`, want: "no message_id"},
		{name: "status without event id", body: `{"type":"message.status","data":{"conversation_id":"c","message_id":"m","status":"read"}}`, want: "no event id"},
		{name: "chatbot without state", body: `{"id":"e","type":"chatbot.status","data":{"conversation_id":"c"}}`, want: "no chatbot_active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := webhookToMessage([]byte(tt.body), Name)
			assert.Nil(t, m)
			require.Error(t, err)
			if tt.ignored {
				assert.ErrorIs(t, err, errIgnored)
				return
			}
			assert.False(t, errors.Is(err, errIgnored))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestFromMessage(t *testing.T) {
	reply := func(mut func(*bot.Message)) *bot.Message {
		m := &bot.Message{Platform: Name, Conversation: "c1", Text: "hello"}
		mut(m)
		return m
	}
	tests := []struct {
		name     string
		m        *bot.Message
		wantJSON string // the request body
		keepsBot bool
		wantErr  string
	}{
		{name: "bot reply keeps the chatbot on", m: reply(func(*bot.Message) {}),
			wantJSON: `{"phone":"+385","text":"hello","prevent_bot_off":true}`, keepsBot: true},
		{name: "handoff reply leaves the flag out", m: reply(func(m *bot.Message) { m.Handoff = true }),
			wantJSON: `{"phone":"+385","text":"hello"}`},
		{name: "explicit false", m: reply(func(m *bot.Message) { m.Payload = MessageOptions{PreventBotOff: Bool(false)} }),
			wantJSON: `{"phone":"+385","text":"hello","prevent_bot_off":false}`},
		{name: "explicit true wins over handoff", m: reply(func(m *bot.Message) {
			m.Handoff = true
			m.Payload = &MessageOptions{PreventBotOff: Bool(true), AgentID: "a1"}
		}),
			wantJSON: `{"phone":"+385","text":"hello","prevent_bot_off":true,"agent_id":"a1"}`, keepsBot: true},
		{name: "media with caption", m: reply(func(m *bot.Message) { m.Attachments = []bot.Attachment{{Kind: "image", URL: "https://x/y.png"}} }),
			wantJSON: `{"phone":"+385","text":"hello","media_url":"https://x/y.png","prevent_bot_off":true}`, keepsBot: true},
		{name: "template", m: reply(func(m *bot.Message) {
			m.Payload = Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": "Ana"}}
		}), wantJSON: `{"phone":"+385","template_keyword":"welcome","language":"en","tags":{"1":"Ana"},"prevent_bot_off":true}`, keepsBot: true},
		{name: "template handoff", m: reply(func(m *bot.Message) {
			m.Handoff = true
			m.Payload = &Template{Keyword: "welcome", Language: "en"}
		}), wantJSON: `{"phone":"+385","template_keyword":"welcome","language":"en"}`},
		{name: "platform-neutral template", m: reply(func(m *bot.Message) {
			m.Payload = &bot.Template{Keyword: "welcome", Language: "hr", Tags: map[string]string{"1": "Ana"}}
		}), wantJSON: `{"phone":"+385","template_keyword":"welcome","language":"hr","tags":{"1":"Ana"},"prevent_bot_off":true}`, keepsBot: true},
		{name: "template without keyword", m: reply(func(m *bot.Message) { m.Payload = Template{Language: "en"} }), wantErr: "Keyword and Language"},
		{name: "unknown payload", m: reply(func(m *bot.Message) { m.Payload = 42 }), wantErr: "unsupported"},
		{name: "empty", m: reply(func(m *bot.Message) { m.Text = " " }), wantErr: "no text and no attachment"},
		{name: "two attachments", m: reply(func(m *bot.Message) { m.Attachments = make([]bot.Attachment, 2) }), wantErr: "one attachment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := fromMessage(tt.m, "+385")
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				if tt.wantErr == "unsupported" {
					assert.ErrorIs(t, err, errors.ErrUnsupported)
				}
				return
			}
			require.NoError(t, err)
			var body any = out.text
			if out.template != nil {
				body = out.template
			}
			got, err := json.Marshal(body)
			require.NoError(t, err)
			assert.JSONEq(t, tt.wantJSON, string(got))
			assert.Equal(t, tt.keepsBot, out.keepsBot)
		})
	}
}

// FuzzWebhookToMessage checks that no body makes the parser panic, and that
// whatever it accepts is a usable message.
func FuzzWebhookToMessage(f *testing.F) {
	files, _ := filepath.Glob("testdata/inbound/*.json")
	for _, in := range files {
		if b, err := os.ReadFile(in); err == nil && !strings.HasSuffix(in, ".golden.json") {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":"e","type":"chatbot.status","data":{"conversation_id":"c","chatbot_active":null}}`))
	f.Add([]byte(`{"type":"message.received","data":{"sent_at":1e400}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := webhookToMessage(body, Name)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		if m.ID == "" || m.Conversation == "" || m.Platform != Name {
			t.Fatalf("accepted a message without identity: %+v", m)
		}
	})
}
