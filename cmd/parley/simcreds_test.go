package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// credsEnv returns a getenv that knows only kv.
func credsEnv(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadSimCreds_createsThenKeeps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "parley")
	path := simCredsPath(dir)
	assert.Equal(t, filepath.Join(dir, "sim.json"), path)

	first, err := loadSimCreds(dir)
	require.NoError(t, err)
	assert.Regexp(t, `^sim-key-[0-9a-f]{12}$`, first.Sendbee.APIKey)
	assert.Regexp(t, `^sim-secret-[0-9a-f]{32}$`, first.Sendbee.APISecret)
	assert.Regexp(t, `^sk_test_sim[0-9a-f]{32}$`, first.VelaFlows.APIToken)
	assert.Regexp(t, `^[0-9a-f]{24}$`, first.VelaFlows.WorkspaceID)
	assert.Regexp(t, `^whsec_[0-9a-f]{48}$`, first.VelaFlows.WebhookSecret)
	assert.Regexp(t, `^[0-9a-f]{32}$`, first.Flowdock.APIToken)
	assert.Regexp(t, `^[0-9a-f]{32}$`, first.Flowdock.FlowToken)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	di, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the file holds secrets")
		assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	again, err := loadSimCreds(dir)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a second start gets the same credentials")
}

func TestRotateSimCreds(t *testing.T) {
	dir := t.TempDir()
	old, err := loadSimCreds(dir)
	require.NoError(t, err)
	rotated, err := rotateSimCreds(dir)
	require.NoError(t, err)
	assert.NotEqual(t, old.Sendbee.APISecret, rotated.Sendbee.APISecret)
	assert.NotEqual(t, old.VelaFlows.APIToken, rotated.VelaFlows.APIToken)
	assert.NotEqual(t, old.Flowdock.APIToken, rotated.Flowdock.APIToken)
	loaded, err := loadSimCreds(dir)
	require.NoError(t, err)
	assert.Equal(t, rotated, loaded, "rotation is stored")

	// Rotation also repairs a corrupt file.
	require.NoError(t, os.WriteFile(simCredsPath(dir), []byte("{"), 0o600))
	_, err = rotateSimCreds(dir)
	require.NoError(t, err)
	_, err = loadSimCreds(dir)
	require.NoError(t, err)
}

func TestLoadSimCreds_badFile(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{
			"version":   1,
			"sendbee":   map[string]any{"api_key": "k", "api_secret": "s"},
			"velaflows": map[string]any{"api_token": "sk_test_x", "workspace_id": "64f1a2b3c4d5e6f7a8b9c0d1", "webhook_secret": "whsec_x"},
			"flowdock":  map[string]any{"api_token": "t", "flow_token": "f"},
		}
	}
	tests := []struct {
		name    string
		content func() []byte
		want    string // in the error; "" when the file loads
	}{
		{"truncated", func() []byte { return []byte("{\"version\": 1, ") }, "unexpected end of JSON input"},
		{"not JSON", func() []byte { return []byte("version=1") }, "invalid character 'v' looking for beginning of value (at byte 1)"},
		{"empty", func() []byte { return []byte{} }, "unexpected end of JSON input"},
		{"wrong type", func() []byte {
			m := valid()
			m["sendbee"] = "k:s"
			return mustJSON(t, m)
		}, "sendbee: a JSON string where an object belongs"},
		{"unknown version", func() []byte {
			m := valid()
			m["version"] = 2
			return mustJSON(t, m)
		}, "version 2"},
		{"bad workspace", func() []byte {
			m := valid()
			m["velaflows"].(map[string]any)["workspace_id"] = "ws-1"
			return mustJSON(t, m)
		}, `velaflows.workspace_id "ws-1" is not 24 hex digits`},
		{"white space", func() []byte {
			m := valid()
			m["flowdock"].(map[string]any)["api_token"] = "a b"
			return mustJSON(t, m)
		}, "flowdock.api_token has white space"},
		{"trailing data", func() []byte { return append(mustJSON(t, valid()), []byte("{}")...) }, "after the JSON object"},
		{"valid", func() []byte { return mustJSON(t, valid()) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := simCredsPath(dir)
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
			content := tt.content()
			require.NoError(t, os.WriteFile(path, content, 0o600))

			c, err := loadSimCreds(dir)
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, "k", c.Sendbee.APIKey)
				return
			}
			require.Error(t, err)
			var ce *simCredsError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, path, ce.Path)
			assert.Contains(t, err.Error(), path, "names the file")
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), simRotateCommand, "says how to fix it")
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, content, after, "a bad file is left as it is")
		})
	}
}

func TestLoadSimCreds_fillsMissing(t *testing.T) {
	dir := t.TempDir()
	path := simCredsPath(dir)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	// A file written before Flowdock credentials existed.
	require.NoError(t, os.WriteFile(path, []byte(`{"version":1,"sendbee":{"api_key":"k","api_secret":"s"}}`), 0o600))
	c, err := loadSimCreds(dir)
	require.NoError(t, err)
	assert.Equal(t, "k", c.Sendbee.APIKey, "stored values stay")
	assert.NotEmpty(t, c.VelaFlows.WorkspaceID)
	assert.NotEmpty(t, c.Flowdock.APIToken)
	again, err := loadSimCreds(dir)
	require.NoError(t, err)
	assert.Equal(t, c, again, "the filled-in values are stored")
}

// Two sims starting at once on a fresh machine agree on one set of
// credentials.
func TestLoadSimCreds_concurrentCreate(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	got := make([]simCreds, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := loadSimCreds(dir)
			assert.NoError(t, err)
			got[i] = c
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		assert.Equal(t, got[0], got[i])
	}
}

func TestSimCreds_withEnv(t *testing.T) {
	stored := simCreds{Version: 1}
	stored.Sendbee.APIKey, stored.Sendbee.APISecret = "k", "s"
	stored.VelaFlows.APIToken, stored.VelaFlows.WorkspaceID, stored.VelaFlows.WebhookSecret = "t", "64f1a2b3c4d5e6f7a8b9c0d1", "w"
	stored.Flowdock.APIToken, stored.Flowdock.FlowToken = "ft", "ff"

	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c simCreds)
	}{
		{"no variables", nil, func(t *testing.T, c simCreds) { assert.Equal(t, stored, c) }},
		{"every variable", map[string]string{
			"SENDBEE_API_KEY": "K", "SENDBEE_API_SECRET": "S",
			"VELAFLOWS_API_TOKEN": "T", "VELAFLOWS_WORKSPACE_ID": "aaaaaaaaaaaaaaaaaaaaaaaa", "VELAFLOWS_WEBHOOK_SECRET": "W",
			"FLOWDOCK_API_TOKEN": "FT", "FLOWDOCK_FLOW_TOKEN": "FF",
		}, func(t *testing.T, c simCreds) {
			assert.Equal(t, [2]string{"K", "S"}, [2]string{c.Sendbee.APIKey, c.Sendbee.APISecret})
			assert.Equal(t, [3]string{"T", "aaaaaaaaaaaaaaaaaaaaaaaa", "W"}, [3]string{c.VelaFlows.APIToken, c.VelaFlows.WorkspaceID, c.VelaFlows.WebhookSecret})
			assert.Equal(t, [2]string{"FT", "FF"}, [2]string{c.Flowdock.APIToken, c.Flowdock.FlowToken})
		}},
		{"one variable", map[string]string{"SENDBEE_API_SECRET": "S"}, func(t *testing.T, c simCreds) {
			want := stored
			want.Sendbee.APISecret = "S"
			assert.Equal(t, want, c)
		}},
		{"blank is unset", map[string]string{"SENDBEE_API_KEY": "  "}, func(t *testing.T, c simCreds) { assert.Equal(t, "k", c.Sendbee.APIKey) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, stored.withEnv(credsEnv(tt.env)))
		})
	}
}

func TestSimExports(t *testing.T) {
	c := simCreds{Version: 1}
	c.Sendbee.APIKey, c.Sendbee.APISecret = "sim-key-1", "it's $secret"
	c.VelaFlows.APIToken, c.VelaFlows.WorkspaceID, c.VelaFlows.WebhookSecret = "sk_test_1", "64f1a2b3c4d5e6f7a8b9c0d1", "whsec_1"
	c.Flowdock.APIToken, c.Flowdock.FlowToken = "fd1", "ff1"
	urls := simURLs{
		Sendbee: "http://127.0.0.1:8701", VelaFlows: "http://127.0.0.1:8702/api/v1",
		Flowdock: "http://127.0.0.1:8703", FlowdockStream: "http://127.0.0.1:8704",
		Public: "http://127.0.0.1:8080", FlowdockFlows: "acme/main",
	}
	tests := []struct {
		name      string
		platforms []string
		want      string
		wantErr   string
	}{
		{"sendbee", []string{"sendbee"}, `export SENDBEE_API_KEY=sim-key-1
export SENDBEE_API_SECRET='it'\''s $secret'
export SENDBEE_BASE_URL=http://127.0.0.1:8701
`, ""},
		{"velaflows", []string{"velaflows"}, `export VELAFLOWS_API_TOKEN=sk_test_1
export VELAFLOWS_WORKSPACE_ID=64f1a2b3c4d5e6f7a8b9c0d1
export VELAFLOWS_WEBHOOK_SECRET=whsec_1
export VELAFLOWS_BASE_URL=http://127.0.0.1:8702/api/v1
export PARLEY_PUBLIC_URL=http://127.0.0.1:8080
`, ""},
		{"flowdock", []string{"flowdock"}, `export FLOWDOCK_API_TOKEN=fd1
export FLOWDOCK_FLOW_TOKEN=ff1
export FLOWDOCK_API_URL=http://127.0.0.1:8703
export FLOWDOCK_STREAM_URL=http://127.0.0.1:8704
export FLOWDOCK_FLOWS=acme/main
`, ""},
		{"two, in the order given", []string{"flowdock", "sendbee"}, `export FLOWDOCK_API_TOKEN=fd1
export FLOWDOCK_FLOW_TOKEN=ff1
export FLOWDOCK_API_URL=http://127.0.0.1:8703
export FLOWDOCK_STREAM_URL=http://127.0.0.1:8704
export FLOWDOCK_FLOWS=acme/main
export SENDBEE_API_KEY=sim-key-1
export SENDBEE_API_SECRET='it'\''s $secret'
export SENDBEE_BASE_URL=http://127.0.0.1:8701
`, ""},
		{"unknown platform", []string{"myspace"}, "", `sim env: unknown platform "myspace"`},
		{"no platform", nil, "", "sim env: no platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := simExports(c, tt.platforms, urls)
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	missing := urls
	missing.FlowdockStream = ""
	_, err := simExports(c, []string{"flowdock"}, missing)
	assert.EqualError(t, err, "sim env: no flowdock stream URL")
}

// The export lines survive eval in a real shell, whatever the values hold.
func TestSimExports_evalInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	hostile := []string{"plain", "", "it's", `a"b`, "$HOME", "`id`", "a b\tc", "semi;colon", "new\nline", `back\slash`, "ünï", "'", "!bang", "*"}
	for _, v := range hostile {
		c := simCreds{Version: 1}
		c.Sendbee.APIKey, c.Sendbee.APISecret = v, "s"
		lines, err := simExports(c, []string{"sendbee"}, simURLs{Sendbee: "http://127.0.0.1:8701"})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		out, err := exec.CommandContext(ctx, sh, "-c", lines+`printf %s "$SENDBEE_API_KEY"`).Output()
		cancel()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("stderr: %s", ee.Stderr)
		}
		require.NoError(t, err, "value %q", v)
		assert.Equal(t, v, string(out), "value %q", v)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"http://127.0.0.1:8080/a-b_c", "http://127.0.0.1:8080/a-b_c"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$x", "'$x'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, shellQuote(tt.in))
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
