package flow_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot/flow"
)

func TestValidate(t *testing.T) {
	require.NoError(t, flow.Validate(lead(), nil))
	require.NoError(t, flow.Validate(lead(), func(a string) bool { return a == "crm" }))

	err := flow.Validate(lead(), func(string) bool { return false })
	var de *flow.DefinitionError
	require.ErrorAs(t, err, &de)
	assert.Empty(t, de.Step) // OnDone calls it first
	assert.Contains(t, de.Reason, `action "crm" is not registered`)

	f := lead()
	f.Steps[3].Next.Default = "nowhere"
	require.ErrorAs(t, flow.Validate(f, nil), &de)
	assert.Equal(t, "call", de.Step)
	assert.Contains(t, de.Reason, `unknown step "nowhere"`)
}

func TestEngine_Replace(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}})
	other := flow.Flow{Name: "other", Steps: []flow.Step{{Name: "q", Ask: flow.Text("Q?")}}}
	require.NoError(t, r.e.Define(other))

	// A refused flow changes nothing.
	bad := lead()
	bad.Steps[0].Next.Default = "nowhere"
	var de *flow.DefinitionError
	require.ErrorAs(t, r.e.Replace([]string{"lead"}, []flow.Flow{bad}), &de)
	// A flow may not take the name of one it does not replace.
	require.ErrorAs(t, r.e.Replace([]string{"lead"}, []flow.Flow{other}), &de)
	assert.Equal(t, "other", de.Flow)

	// A conversation at the step "call", another at "size".
	for _, c := range []struct{ conv, step string }{{"at-call", "call"}, {"at-size", "size"}} {
		require.NoError(t, r.e.Start(t.Context(), r.fa.Name(), c.conv, "lead", nil))
		r.say(c.conv, "Ana")
		r.say(c.conv, "ana@example.com")
		if c.step == "call" {
			r.say(c.conv, "500")
		}
		r.waitStep(c.conv, c.step)
	}
	short := lead()
	short.Steps = short.Steps[:3] // no "call" step
	short.Steps[2].Next.Branches = nil
	require.NoError(t, r.e.Replace([]string{"lead"}, []flow.Flow{short}))

	pruned, err := r.e.Prune(t.Context())
	require.NoError(t, err)
	require.Len(t, pruned, 1)
	assert.Equal(t, "at-call", pruned[0].Conversation)
	assert.Equal(t, "call", pruned[0].Step)
	_, err = r.e.State(t.Context(), r.fa.Name(), "at-call")
	assert.True(t, errors.Is(err, flow.ErrNoFlow), "%v", err)
	assert.Equal(t, "size", r.state("at-size").Step)

	// Removing the flow prunes its runs.
	require.NoError(t, r.e.Replace([]string{"lead"}, nil))
	pruned, err = r.e.Prune(t.Context())
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(pruned, func(s flow.State) bool { return s.Conversation == "at-size" }))
	active, err := r.e.Active(t.Context())
	require.NoError(t, err)
	assert.Empty(t, active)
}
