package fromenv_test

import (
	"log/slog"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/fromenv"
)

// Actions offers the actions of the configured platforms only, and
// Flowdock's only with a flow to present in.
func TestPlatforms_Actions(t *testing.T) {
	sendbee := map[string]string{"SENDBEE_API_KEY": "k", "SENDBEE_API_SECRET": "s"}
	velaflows := map[string]string{"VELAFLOWS_API_TOKEN": "sk_test_x", "VELAFLOWS_WORKSPACE_ID": "65a1b2c3d4e5f6a7b8c9d0e1",
		"VELAFLOWS_WEBHOOK_SECRET": "whsec"}
	flowdock := map[string]string{"FLOWDOCK_API_TOKEN": "token", "FLOWDOCK_FLOWS": "acme/main,acme/ops"}
	join := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			maps.Copy(out, m)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"none", nil, nil},
		{"sendbee", sendbee, []string{fromenv.ActionSendbeeUpdateContact}},
		{"velaflows", velaflows, []string{fromenv.ActionVelaflowsCreateLead, fromenv.ActionVelaflowsUpdateCustomer}},
		{"flowdock", flowdock, []string{fromenv.ActionFlowdockPresent}},
		{"flowdock without flows", map[string]string{"FLOWDOCK_API_TOKEN": "token"}, nil},
		{"all", join(sendbee, velaflows, flowdock), []string{fromenv.ActionFlowdockPresent, fromenv.ActionSendbeeUpdateContact,
			fromenv.ActionVelaflowsCreateLead, fromenv.ActionVelaflowsUpdateCustomer}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := fromenv.Build(t.Context(), func(k string) string { return tt.env[k] }, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			got := slices.Sorted(maps.Keys(p.Actions()))
			slices.Sort(tt.want)
			assert.Equal(t, tt.want, got, "actions")
			for name, a := range p.Actions() {
				assert.NotNil(t, a, name)
			}
		})
	}
}
