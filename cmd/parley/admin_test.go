package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminPost posts body as JSON to the admin API at addr and returns the
// status and the decoded answer.
func adminPost(t *testing.T, addr, path, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post("http://"+addr+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var v map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &v), "%s", raw)
	return resp.StatusCode, v
}

// parley run serves the admin API on PARLEY_ADMIN_ADDR: explain answers
// with the rules file's explanation of a text, with the flow waiting in
// the conversation, whose detail shows it.
func TestRun_adminExplain(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	p := writeRules(t, flowRules+`  - name: refund
    when: 'lower(Text) contains "refund"'
    actions:
      - reply: "refunds take 5 days"
`)
	in, typing := io.Pipe()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"run", p}, in, &out, &errOut, env("PARLEY_ADMIN_ADDR", addr))
	}()
	defer func() {
		typing.Close() // the console's input ends: parley run returns
		select {
		case err := <-done:
			assert.NoError(t, err, errOut.String())
		case <-time.After(10 * time.Second):
			t.Error("parley run did not end with its input")
		}
	}()
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "(PARLEY_ADMIN_ADDR)") },
		10*time.Second, 5*time.Millisecond, "summary: %s", errOut.String())
	assert.Contains(t, errOut.String(), "/admin/v1/ (no PARLEY_ADMIN_TOKEN: local requests only)")

	code, x := adminPost(t, addr, "/admin/v1/explain", `{"text":"I want a REFUND","platform":"console"}`)
	require.Equal(t, http.StatusOK, code, "%v", x)
	rules := x["rules"].([]any)
	require.Len(t, rules, 2)
	start, refund := rules[0].(map[string]any), rules[1].(map[string]any)
	assert.Equal(t, "start", start["rule"])
	assert.Equal(t, "not matched", start["result"])
	assert.Equal(t, "refund", refund["rule"])
	assert.Equal(t, "matched", refund["result"])
	assert.Equal(t, true, refund["runs"])
	assert.Equal(t, []any{map[string]any{"kind": "reply", "detail": `"refunds take 5 days"`}}, refund["actions"])
	assert.Contains(t, x["table"], "refund")
	assert.Contains(t, x["table"], "matched, runs")

	_, err = io.WriteString(typing, "demo\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "What is your name?") }, 10*time.Second, 5*time.Millisecond)
	resp, err := http.Get("http://" + addr + "/admin/v1/conversations/console/console")
	require.NoError(t, err)
	var conv map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&conv))
	resp.Body.Close()
	require.NotNil(t, conv["flow"], "%v", conv)
	assert.Equal(t, "lead", conv["flow"].(map[string]any)["flow"])
	assert.Equal(t, "name", conv["flow"].(map[string]any)["step"])

	code, x = adminPost(t, addr, "/admin/v1/explain", `{"text":"Ana","platform":"console","conversation":"console"}`)
	require.Equal(t, http.StatusOK, code, "%v", x)
	var flowRow map[string]any
	for _, r := range x["rules"].([]any) {
		if r.(map[string]any)["flow"] == true {
			flowRow = r.(map[string]any)
		}
	}
	require.NotNil(t, flowRow, "the waiting flow is explained: %v", x)
	assert.Equal(t, "lead", flowRow["rule"])
	assert.Equal(t, "name", flowRow["step"])
	assert.Equal(t, true, flowRow["runs"])
	assert.Contains(t, x["table"], "(flow lead)")
}
