package bot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

func TestExprLookup(t *testing.T) {
	var calls atomic.Int32
	get := func(_ context.Context, m *bot.Message, name string) (any, error) {
		calls.Add(1)
		switch name {
		case "vars":
			return map[string]any{"team": "sales", "n": int64(3), "conv": m.Conversation}, nil
		case "flow":
			return map[string]any{"name": "lead", "values": map[string]any{"size": int64(60)}}, nil
		}
		return nil, errors.New("no such thing")
	}
	tests := []struct {
		name  string
		src   string
		want  bool
		calls int32
	}{
		{"a key", `vars.team == "sales"`, true, 1},
		{"a number", `vars.n > 2`, true, 1},
		{"a missing key is nil", `vars.nope == nil`, true, 1},
		{"the message", `vars.conv == Conversation`, true, 1},
		{"nested", `flow.values.size > 50 && flow.name == "lead"`, true, 2},
		{"not reached", `Text == "other" && vars.team == "sales"`, false, 0},
		{"index", `vars["team"] in ["sales", "ops"]`, true, 1},
		{"in a loop", `any(["a", "sales"], # == vars.team)`, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			r, err := bot.Expr(tt.src, bot.ExprLookup(get, "vars", "flow"))
			require.NoError(t, err)
			ok, err := r.Match(t.Context(), &bot.Message{Text: "hi", Platform: "p", Conversation: "c"})
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok)
			assert.Equal(t, tt.calls, calls.Load())
		})
	}
	t.Run("undeclared", func(t *testing.T) {
		_, err := bot.Expr(`vars.team == "x"`)
		var ee *bot.ExprError
		require.ErrorAs(t, err, &ee)
		assert.Contains(t, ee.Msg, "unknown name vars")
	})
	t.Run("a failing lookup fails the evaluation", func(t *testing.T) {
		r, err := bot.Expr(`other.x == 1`, bot.ExprLookup(get, "other"))
		require.NoError(t, err)
		_, err = r.Match(t.Context(), &bot.Message{})
		var ee *bot.ExprError
		require.ErrorAs(t, err, &ee)
	})
	t.Run("EvalContext passes ctx", func(t *testing.T) {
		type key struct{}
		x, err := bot.CompileEnvExpr(`vars.v`, bot.ExprLookup(func(ctx context.Context, _ *bot.Message, _ string) (any, error) {
			return map[string]any{"v": ctx.Value(key{})}, nil
		}, "vars"))
		require.NoError(t, err)
		out, err := x.EvalContext(context.WithValue(t.Context(), key{}, "here"), bot.NewEnv(&bot.Message{}, bot.OwnerBot, nil))
		require.NoError(t, err)
		assert.Equal(t, "here", out)
	})
	t.Run("bad names panic", func(t *testing.T) {
		assert.Panics(t, func() { bot.ExprLookup(get, "Text") })
		assert.Panics(t, func() { bot.ExprLookup(get, "hasTag") })
		assert.Panics(t, func() { bot.ExprLookup(nil, "vars") })
	})
}

// Two ExprLookup options each resolve their own names through their own
// function; a later option for the same name replaces the earlier one.
func TestExprLookup_several(t *testing.T) {
	vars := func(context.Context, *bot.Message, string) (any, error) {
		return map[string]any{"team": "sales"}, nil
	}
	flow := func(context.Context, *bot.Message, string) (any, error) {
		return map[string]any{"name": "lead"}, nil
	}
	r, err := bot.Expr(`vars.team == "sales" && flow.name == "lead"`, bot.ExprLookup(vars, "vars"), bot.ExprLookup(flow, "flow"))
	require.NoError(t, err)
	ok, err := r.Match(t.Context(), &bot.Message{})
	require.NoError(t, err)
	assert.True(t, ok, "vars was looked up through the flow's function")

	r, err = bot.Expr(`flow.name == "lead"`, bot.ExprLookup(vars, "flow"), bot.ExprLookup(flow, "flow"))
	require.NoError(t, err)
	ok, err = r.Match(t.Context(), &bot.Message{})
	require.NoError(t, err)
	assert.True(t, ok)
}
