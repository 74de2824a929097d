package rulefile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/rulefile"
)

// The repository's root, from this package's directory.
const repoRoot = "../.."

// A suggestion is something an example rules file, or the README about
// it, tells a user to write, with the message it stands for.
type suggestion struct {
	from string // where the suggestion is made, for failures
	msg  *bot.Message
}

// customerPlatforms are where a user reads the example files' answers:
// the console of parley run and the customer platforms. Suggestions made
// in the answers and the help are tried on each, as a direct message.
var customerPlatforms = []string{"console", "sendbee", "velaflows"}

// TestExamples_suggestionsMatch loads each example rules file and checks
// that everything it suggests to a user is answered by one of its rules,
// not by its fallback or by nothing: the usage of each rule's help, every
// phrase in single quotes in the texts the bot answers with ("Reply
// 'agent' to talk to a person."), and every `parley rules explain` line
// in the file's comments and in the README.
func TestExamples_suggestionsMatch(t *testing.T) {
	t.Parallel()
	files := exampleRulesFiles(t)
	require.NotEmpty(t, files)
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	for _, path := range files {
		rel, err := filepath.Rel(repoRoot, path)
		require.NoError(t, err)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			t.Parallel()
			set, err := rulefile.Load(path)
			require.NoError(t, err)
			src, err := os.ReadFile(path)
			require.NoError(t, err)

			var sugs []suggestion
			for _, r := range set.Routes() {
				if r.Usage != "" {
					sugs = append(sugs, direct("help usage "+r.Usage, fillPlaceholders(r.Usage))...)
				}
			}
			for _, q := range quotedInAnswers(t, src) {
				sugs = append(sugs, direct(fmt.Sprintf("%s: %q", q.where, q.text), q.text)...)
			}
			explains := explainLines(t, filepath.ToSlash(rel), string(src), "the file's comments")
			explains = append(explains, explainLines(t, filepath.ToSlash(rel), string(readme), "README.md")...)
			require.NotEmpty(t, explains, "the file or the README shows how to explain a message")
			sugs = append(sugs, explains...)

			for _, s := range sugs {
				var ran []string
				fallbackRuns := false
				for _, x := range set.Explain(t.Context(), s.msg) {
					switch {
					case x.Runs && x.Fallback:
						fallbackRuns = true
					case x.Runs:
						ran = append(ran, x.Rule)
					}
				}
				assert.True(t, len(ran) > 0 && !fallbackRuns,
					"%s (%q on %s): no rule answers it (rules run: %v, fallback runs: %v)",
					s.from, s.msg.Text, s.msg.Platform, ran, fallbackRuns)
			}
		})
	}
}

// exampleRulesFiles returns the YAML files under examples/ that are rules
// files: a mapping at the top, with a rules key.
func exampleRulesFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"examples/*.yaml", "examples/*/*.yaml", "examples/*/*/*.yaml"} {
		paths, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		require.NoError(t, err)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			var top map[string]any
			if yaml.Unmarshal(data, &top) == nil && top["rules"] != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// direct returns text as a direct message on each customer platform.
func direct(from, text string) []suggestion {
	var out []suggestion
	for _, p := range customerPlatforms {
		out = append(out, suggestion{from: from, msg: &bot.Message{ID: "s", Platform: p, Conversation: "c", Text: text,
			Direct: true, Kind: bot.KindMessage, Time: time.Now(), Author: bot.User{ID: "u", Name: "Someone"}}})
	}
	return out
}

// fillPlaceholders replaces the <placeholders> of a usage with a value:
// "order <number>" is written "order 1234".
func fillPlaceholders(usage string) string {
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(usage, "1234")
}

// A quote is a phrase in single quotes in a text the bot answers with.
type quote struct{ where, text string }

// quoted matches a phrase in single quotes that stand at word boundaries,
// so that the apostrophe of "You're" starts none.
var quoted = regexp.MustCompile(`(?:^|[\s(])'([^'\n]+)'(?:[\s.,;:!?)]|$)`)

// quotedInAnswers returns the phrases in single quotes of the texts of the
// file's reply and handoff actions, in its rules and its fallback.
func quotedInAnswers(t *testing.T, src []byte) []quote {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(src, &doc))
	var out []quote
	var walk func(n *yaml.Node, key string)
	walk = func(n *yaml.Node, key string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, key)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], n.Content[i].Value)
			}
		case yaml.ScalarNode:
			if key != "reply" && key != "handoff" {
				return
			}
			for _, m := range quoted.FindAllStringSubmatch(n.Value, -1) {
				out = append(out, quote{where: fmt.Sprintf("line %d (%s)", n.Line, key), text: m[1]})
			}
		}
	}
	walk(&doc, "")
	return out
}

// explainLines returns the messages of the `rules explain <rel> …` command
// lines in text, built as parley rules explain builds them from its flags.
func explainLines(t *testing.T, rel, text, where string) []suggestion {
	t.Helper()
	var out []suggestion
	for i, line := range strings.Split(text, "\n") {
		_, rest, ok := strings.Cut(line, "rules explain "+rel+" ")
		if !ok {
			continue
		}
		args := splitArgs(rest)
		m := &bot.Message{ID: "explain", Platform: "console", Conversation: "explain", Kind: bot.KindMessage,
			Time: time.Now(), Author: bot.User{ID: "someone", Name: "Someone"}}
		for j := 0; j < len(args); j++ {
			next := func() string {
				require.Less(t, j+1, len(args), "%s line %d: %s needs a value", where, i+1, args[j])
				j++
				return args[j]
			}
			flag := args[j]
			if strings.HasPrefix(flag, "--") {
				flag = flag[1:] // parley takes a long flag with one dash or two
			}
			switch flag {
			case "-text":
				m.Text = next()
			case "-platform":
				m.Platform = next()
			case "-conversation":
				m.Conversation = next()
			case "-kind":
				m.Kind = bot.Kind(next())
			case "-direct":
				m.Direct = true
			case "-human":
				m.Owner = bot.OwnerHuman
			default:
				t.Fatalf("%s line %d: flag %q unknown to this test", where, i+1, args[j])
			}
		}
		out = append(out, suggestion{from: fmt.Sprintf("%s line %d", where, i+1), msg: m})
	}
	return out
}

// splitArgs splits a command line at spaces, keeping "double-quoted"
// arguments whole.
func splitArgs(s string) []string {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return append(out, s[1:])
			}
			out = append(out, s[1:end+1])
			s = s[end+2:]
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return append(out, s)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return slices.Clip(out)
}
