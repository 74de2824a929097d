package sendbeetest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

var clockStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// TestClock_AdvanceMovesBusinessTime: Advance moves message times and
// Now, while requests signed with the real clock still authenticate.
func TestClock_AdvanceMovesBusinessTime(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	before := time.Now()
	s.Advance(25 * time.Hour)
	assert.WithinDuration(t, before.Add(25*time.Hour), s.Now(), time.Minute)

	conv, _ := s.CustomerMessage("+385981112222", "Iva", "hello")
	v, ok := s.ConversationByPhone("+385981112222")
	require.True(t, ok)
	assert.WithinDuration(t, before.Add(25*time.Hour), v.Messages[0].SentAt, time.Minute)

	r := mustOK(t, c.get("/conversation", "conversation_id="+conv))
	var w struct {
		CreatedAt string `json:"created_at"`
	}
	r.decode(t, &w)
	assert.Equal(t, v.CreatedAt.UTC().Format(time.DateTime), w.CreatedAt)

	s.SetTime(clockStart)
	assert.WithinDuration(t, clockStart, s.Now(), time.Second, "the real clock runs on from the set time")
}

// TestClock_WithClockAndAdvance: Advance adds to the configured clock.
func TestClock_WithClockAndAdvance(t *testing.T) {
	clk := newClock(clockStart)
	s := sendbeetest.NewServer(t, sendbeetest.WithClock(clk.Now), sendbeetest.WithoutDemoData())
	s.Advance(90 * time.Minute)
	clk.Advance(time.Minute)
	assert.Equal(t, clockStart.Add(91*time.Minute), s.Now())
	s.CustomerMessage("+385981112222", "Iva", "hello")
	v, _ := s.ConversationByPhone("+385981112222")
	assert.Equal(t, clockStart.Add(91*time.Minute), v.Messages[0].SentAt)
	assert.Equal(t, clockStart.Add(91*time.Minute), s.Events()[0].CreatedAt)
}

func TestClock_SimControl(t *testing.T) {
	clk := newClock(clockStart)
	s := sendbeetest.NewServer(t, sendbeetest.WithClock(clk.Now))
	type clockOut struct {
		Now time.Time `json:"now"`
	}
	read := func(raw []byte) time.Time {
		var out clockOut
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		return out.Now
	}

	status, raw := simCall(t, s, http.MethodGet, "/_sim/clock", "")
	require.Equal(t, http.StatusOK, status, "%s", raw)
	assert.Equal(t, clockStart, read(raw))

	status, raw = simCall(t, s, http.MethodPost, "/_sim/clock", `{"advance":"25h"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	assert.Equal(t, clockStart.Add(25*time.Hour), read(raw))
	assert.Equal(t, clockStart.Add(25*time.Hour), s.Now())

	status, raw = simCall(t, s, http.MethodPost, "/_sim/clock", `{"set":"2026-04-01T12:00:00Z"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	want := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	assert.True(t, want.Equal(read(raw)))
	assert.True(t, want.Equal(s.Now()))

	for _, tc := range []struct{ name, method, body, want string }{
		{"bad duration", http.MethodPost, `{"advance":"a day"}`, "advance"},
		{"bad time", http.MethodPost, `{"set":"tomorrow"}`, "set"},
		{"both", http.MethodPost, `{"advance":"1h","set":"2026-04-01T12:00:00Z"}`, "one of"},
		{"neither", http.MethodPost, `{}`, "one of"},
		{"unknown field", http.MethodPost, `{"adv":"1h"}`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := simCall(t, s, tc.method, "/_sim/clock", tc.body)
			require.Equal(t, http.StatusBadRequest, status, "%s", raw)
			assert.Contains(t, string(raw), `"validation_error"`)
			assert.Contains(t, string(raw), tc.want)
			assert.True(t, want.Equal(s.Now()), "a refused change changes nothing")
		})
	}
	req, err := http.NewRequest(http.MethodPut, s.RootURL()+"/_sim/clock", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET, POST", resp.Header.Get("Allow"))
}
