package flowdock

import (
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

var testContext = eventContext{self: "1201", nicks: map[string]string{"1305": "dana"}}

// TestEventToMessage_Golden converts each testdata/events/<case>.json (the
// Flowdock event types that become messages) and compares the message,
// without Raw, with <case>.golden.json.
func TestEventToMessage_Golden(t *testing.T) {
	n := bottest.Golden(t, "testdata/events/*.json", *update, func(t *testing.T, raw []byte) *bot.Message {
		m, ctl, err := eventToMessage(raw, testContext)
		require.NoError(t, err)
		assert.Equal(t, controlNone, ctl)
		return m
	})
	require.GreaterOrEqual(t, n, 7)
}

// The other Flowdock event types are ignored, or control the stream.
func TestEventToMessage_IgnoredAndControl(t *testing.T) {
	tests := []struct {
		name string
		body string
		ctl  control
	}{
		{"status", `{"event":"status","id":502,"flow":"f","user":"1305","content":"in a meeting"}`, controlNone},
		{"action", `{"event":"action","id":504,"flow":"f","user":"1310","content":{"type":"join","description":""}}`, controlNone},
		{"tag-change", `{"event":"tag-change","id":505,"flow":"f","user":"1305","content":{"message":501,"add":["urgent"],"remove":[]}}`, controlNone},
		{"activity.user", `{"event":"activity.user","id":508,"flow":"f","user":"1305","content":{"last_activity":1600000008500}}`, controlNone},
		{"line", `{"event":"line","id":509,"flow":"f","user":"1305","content":"waves"}`, controlNone},
		{"user-edit", `{"event":"user-edit","flow":"f","user":"1305","content":{"user":{"id":1305,"nick":"dana2"}}}`, controlNone},
		{"presence", `{"event":"presence","user_id":1305,"content":{"user_id":1305,"state":2000000}}`, controlNone},
		{"own echo", `{"event":"message","id":510,"flow":"f","user":"1201","content":"my reply"}`, controlNone},
		{"anonymous", `{"event":"message","id":511,"flow":"f","user":"0","content":"/deploy","external_user_name":"x"}`, controlNone},
		{"flow-add for the bot", `{"event":"flow-add","user":"1201","content":{"id":"f2","name":"hr","organization":{},"open":true}}`, controlResubscribe},
		{"flow-remove for the bot", `{"event":"flow-remove","user":"1201","content":{"id":"f2"}}`, controlResubscribe},
		{"flow-add for someone else", `{"event":"flow-add","user":"1305","content":{"id":"f2"}}`, controlNone},
		{"bot joined", `{"event":"backend.user.join","flow":"f","user":"1201","content":{"user":{"id":1201,"nick":"parley"}}}`, controlResubscribe},
		{"bot blocked", `{"event":"backend.user.block","flow":"f","user":"1305","content":"1201"}`, controlResubscribe},
		{"someone blocked", `{"event":"backend.user.block","flow":"f","user":"1305","content":"1310"}`, controlNone},
		{"unknown", `{"event":"emoji-reaction","id":512,"flow":"f","user":"1305","content":{}}`, controlNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ctl, err := eventToMessage([]byte(tt.body), testContext)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, errIgnored)
			assert.Equal(t, tt.ctl, ctl)
		})
	}
	// Anonymous messages are accepted when allowed.
	ec := testContext
	ec.allowAnonymous = true
	m, _, err := eventToMessage([]byte(`{"event":"message","id":511,"flow":"f","user":"0","content":"/deploy","external_user_name":"x"}`), ec)
	require.NoError(t, err)
	assert.Equal(t, "x", m.Author.Name)
}

func TestEventToMessage_Malformed(t *testing.T) {
	for _, body := range []string{
		`{"event":`,
		`{"id":1,"flow":"f"}`,
		`{"event":"message","flow":"f","user":"1305","content":"no id"}`,
		`{"event":"message","id":"abc","flow":"f","user":"1305","content":"x"}`,
		`{"event":"message","id":1,"flow":"f","user":"1305","content":{"not":"a string"}}`,
		`{"event":"message-edit","id":1,"flow":"f","user":"1305","content":"x"}`,
	} {
		m, _, err := eventToMessage([]byte(body), testContext)
		assert.Nil(t, m, body)
		require.Error(t, err, body)
		assert.NotErrorIs(t, err, errIgnored, body)
	}
}

func FuzzEventToMessage(f *testing.F) {
	files, _ := filepath.Glob("testdata/events/*.json")
	for _, in := range files {
		if b, err := os.ReadFile(in); err == nil && !strings.HasSuffix(in, ".golden.json") {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"event":"flow-add","user":1201}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, _, err := eventToMessage(body, testContext)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		if m.ID == "" || m.Conversation == "" || m.Platform != Name {
			t.Fatalf("accepted a message without identity: %+v", m)
		}
		if _, _, ok := idOf(m.ID); !ok {
			t.Fatalf("message id %q does not parse", m.ID)
		}
	})
}
