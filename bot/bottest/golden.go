package bottest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

// Golden runs the golden-file test of an adapter's inbound conversion: for
// each file matching glob (a platform payload, say testdata/inbound/*.json,
// where files ending in .golden.json are skipped), it calls convert on the
// file's bytes in a subtest named after the file, checks that the message's
// Raw is the payload, and compares the message without Raw, as indented
// JSON, with <case>.golden.json beside it. With update set it writes the
// golden files first; review their diff. It returns the number of cases.
func Golden(t *testing.T, glob string, update bool, convert func(t *testing.T, raw []byte) *bot.Message) int {
	t.Helper()
	files, err := filepath.Glob(glob)
	require.NoError(t, err)
	n := 0
	for _, in := range files {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		n++
		t.Run(strings.TrimSuffix(filepath.Base(in), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			require.NoError(t, err)
			m := convert(t, raw)
			require.NotNil(t, m)
			assert.JSONEq(t, string(raw), string(m.Raw), "Raw is the payload as received")
			c := *m
			c.Raw = nil
			got, err := json.MarshalIndent(&c, "", "  ")
			require.NoError(t, err)
			golden := strings.TrimSuffix(in, ".json") + ".golden.json"
			if update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create the golden file")
			assert.JSONEq(t, string(want), string(got))
		})
	}
	return n
}
