package bot_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

func TestSplitPlatform(t *testing.T) {
	for _, tc := range []struct{ name, platform, instance string }{
		{"sendbee", "sendbee", ""},
		{"sendbee/acme", "sendbee", "acme"},
		{"velaflows/brand-2", "velaflows", "brand-2"},
	} {
		p, i := bot.SplitPlatform(tc.name)
		assert.Equal(t, tc.platform, p, tc.name)
		assert.Equal(t, tc.instance, i, tc.name)
		assert.Equal(t, tc.platform, bot.PlatformOf(tc.name))
	}
}

func TestInstanceName(t *testing.T) {
	n, err := bot.InstanceName("sendbee", "")
	require.NoError(t, err)
	assert.Equal(t, "sendbee", n)
	n, err = bot.InstanceName("sendbee", "acme_2")
	require.NoError(t, err)
	assert.Equal(t, "sendbee/acme_2", n)
	for _, bad := range []string{"Acme", "-acme", "ac me", "a/b", "acme:1", "abcdefghijklmnopqrstuvwxyz0123456"} {
		_, err := bot.InstanceName("sendbee", bad)
		assert.Error(t, err, bad)
	}
}

func TestExpr_instance(t *testing.T) {
	all, err := bot.Expr(`Platform == "sendbee"`)
	require.NoError(t, err)
	one, err := bot.Expr(`Adapter == "sendbee/acme" && Instance == "acme"`)
	require.NoError(t, err)
	match := func(r bot.Rule, m *bot.Message) bool {
		ok, err := r.Match(t.Context(), m)
		require.NoError(t, err)
		return ok
	}
	m := &bot.Message{Platform: "sendbee/acme", Conversation: "c", Text: "hi"}
	assert.True(t, match(all, m), "Platform matches every instance")
	assert.True(t, match(one, m))
	other := &bot.Message{Platform: "sendbee", Conversation: "c", Text: "hi"}
	assert.True(t, match(all, other))
	assert.False(t, match(one, other))
}
