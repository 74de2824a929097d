package rulefile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/bot/rulefile"
)

func TestSet_ExplainIn(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Load(filepath.Join("testdata", "explainflow", "rules.yaml"))
	require.NoError(t, err)
	at := func(step string, attempts int, values flow.Values) *flow.State {
		return &flow.State{Platform: "sendbee", Conversation: "c1", Flow: "lead", Step: step, Attempts: attempts, Values: values}
	}
	msg := func(text string) *bot.Message { return bottest.NewMessage(text, bottest.In("sendbee", "c1")) }
	tests := []struct {
		name string
		msg  *bot.Message
		conv rulefile.Conversation
	}{
		{"no_flow_var_unknown", msg("status"), rulefile.Conversation{}},
		{"no_flow_var_set", msg("status"), rulefile.Conversation{Vars: map[string]string{"source": "demo"}}},
		{"start", msg("demo"), rulefile.Conversation{}},
		{"answer_saved_next_step", msg("Ana"), rulefile.Conversation{Flow: at("name", 0, nil)}},
		{"answer_refused", msg("lots"), rulefile.Conversation{Flow: at("size", 0, flow.Values{"name": "Ana"})}},
		{"answer_refused_last_time", msg("lots"), rulefile.Conversation{Flow: at("size", 2, flow.Values{"name": "Ana"})}},
		{"branch", msg("120"), rulefile.Conversation{Flow: at("size", 0, flow.Values{"name": "Ana"}),
			Vars: map[string]string{"source": "demo"}}},
		{"default_to_end", msg("12"), rulefile.Conversation{Flow: at("size", 0, flow.Values{"name": "Ana"})}},
		{"human_owner", bottest.NewMessage("hi", bottest.In("sendbee", "c1"), bottest.WithOwner(bot.OwnerHuman)),
			rulefile.Conversation{Flow: at("size", 0, nil)}},
		{"step_gone", msg("hi"), rulefile.Conversation{Flow: at("budget", 0, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, rulefile.Format(&buf, set.ExplainIn(t.Context(), tt.msg, tt.conv)))
			golden := filepath.Join("testdata", "explainflow", tt.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create the golden file")
			assert.Equal(t, string(want), buf.String())
		})
	}
}
