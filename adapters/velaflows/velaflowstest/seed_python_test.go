package velaflowstest_test

import (
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// requirePythonRequests skips the test unless python3 with the requests
// library is available.
func requirePythonRequests(t *testing.T) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: VelaFlows' Python examples cannot run (install python3 and requests)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, py, "-c", "import requests").CombinedOutput(); err != nil {
		t.Skipf("python3 cannot import requests (pip install requests): %v: %s", err, out)
	}
}

// runPython runs a script from testdata against s in dir, bounded by a
// timeout, and returns its output.
func runPython(t *testing.T, s *velaflowstest.Server, dir, script string) string {
	t.Helper()
	testdata, err := filepath.Abs("testdata")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", filepath.Join(testdata, script))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"VELAFLOWS_BASE_URL="+s.URL(),
		"VELAFLOWS_API_TOKEN="+s.Token(),
		"VELAFLOWS_WORKSPACE_ID="+s.WorkspaceID(),
		"PYTHONPATH="+testdata,
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s exited with an error; output:\n%s", script, out)
	return string(out)
}

// TestSeedPythonExamples runs VelaFlows' Python examples, as written, with
// only the base URL taken from VELAFLOWS_BASE_URL, against the emulator,
// and then their full lead-export script against 10,000 extra leads.
func TestSeedPythonExamples(t *testing.T) {
	requirePythonRequests(t)
	s := velaflowstest.NewServer(t) // default, random credentials in the documented format
	dir := t.TempDir()

	out := runPython(t, s, dir, "seed_examples.py")
	t.Logf("seed_examples.py:\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")

	// List Conversations: the demo workspace has 4 open conversations.
	require.GreaterOrEqual(t, len(lines), 11)
	assert.Equal(t, "Total conversations: 4", lines[0])
	convLine := regexp.MustCompile(`^\[(whatsapp|email|instagram|webchat)\] open - \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, l := range lines[1:5] {
		assert.Regexp(t, convLine, l)
	}
	hex24 := `[0-9a-f]{24}`
	assert.Regexp(t, "^Created lead: "+hex24+"$", lines[5])
	assert.Regexp(t, "^Sent message: "+hex24+"$", lines[6])
	assert.Equal(t, "Updated customer: "+velaflowstest.SeedCustomerID, lines[7])
	assert.Regexp(t, "^Webhook subscription: "+hex24+"$", lines[8])
	assert.True(t, strings.HasPrefix(lines[9], "Invalid data: {'errors': ["), lines[9])
	assert.Contains(t, lines[9], "'path': 'email'")
	assert.Equal(t, "Fetched 4 conversations", lines[10])
	assert.Len(t, lines, 11, "with_retry prints nothing when no retry is needed")

	// What the examples did, as the emulator saw it.
	sent := s.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, velaflowstest.SeedConversationID, sent[0].ConversationID)
	assert.Equal(t, "Hello! How can I help you today?", sent[0].Content)
	assert.Equal(t, "content", sent[0].Field)
	cu, ok := s.Customer(velaflowstest.SeedCustomerID)
	require.True(t, ok)
	assert.Equal(t, []string{"Jane", "Doe", "jane.doe@newcompany.com"}, []string{cu.FirstName, cu.LastName, cu.Email})
	subs := s.Subscriptions()
	require.Len(t, subs, 1)
	assert.Equal(t, []string{"conversation.created", "conversation.message.received", "lead.stage_changed"}, subs[0].Events)
	assert.True(t, subs[0].HasSecret)
	assert.Empty(t, s.Deliveries(), "nothing happened after subscribing, so nothing was delivered")
	for _, r := range s.Requests() {
		assert.True(t, r.Authenticated, "%s %s", r.Method, r.Path)
		assert.NotContains(t, r.Path, "/api/v1", "the prefix is stripped in the log")
	}

	// The full script: export every lead to CSV, 100 per page.
	s.AddLeads(10_000)
	total := len(s.Leads())
	require.Equal(t, 10_000+6+1, total, "generated + demo + the one the examples created")
	out = runPython(t, s, dir, "export_leads.py")
	assert.Equal(t, "Exported 10007 leads to leads_export.csv\n", out)

	f, err := os.Open(filepath.Join(dir, "leads_export.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, total+1)
	assert.Equal(t, []string{"_id", "firstName", "lastName", "email", "phone", "status", "createdAt"}, rows[0])
	seen := map[string]bool{}
	prev := "9999"
	for _, row := range rows[1:] {
		assert.False(t, seen[row[0]], "lead %s exported twice", row[0])
		seen[row[0]] = true
		assert.LessOrEqual(t, row[6], prev, "sorted by createdAt descending")
		prev = row[6]
	}
}
