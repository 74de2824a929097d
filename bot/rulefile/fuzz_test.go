package rulefile_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

// FuzzParse parses and compiles rules files from arbitrary bytes: Parse
// must return a Set or a *LoadError, never panic, hang or blow up; a Set
// must then route a message through its rules and actions without a Bot.
//
//	go test -run '^$' -fuzz FuzzParse -parallel 1 ./bot/rulefile/
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/doc_example.yaml", "testdata/explain/rules.yaml"} {
		data, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, src := range []string{
		"",
		"rules: []",
		string(benchFile(6)),
		lines("vars: {v: ab}", "rules:", "  - name: d", "    when: 'true'", "    actions:",
			"      - set: {v: '{{.Vars.v}}{{.Vars.v}}'}", "      - reply: '{{range .Tags}}{{.}}{{end}}{{len .Vars.v}}'"),
		lines("rules:", "  - name: r", `    when: 'Text matches "^a+" && reduce(split(Text, ""), #acc + #, "") != ""'`,
			"    actions: [reply: x, continue: true]"),
		lines("commands: {prefixes: ['/'], names: [bot]}", "rules:", "  - name: c", "    command: go",
			"    actions: [reply: '{{.Captures.Args}}', forward: {platform: p, conversation: c, text: t}]"),
		lines("rules:", "  - &a {name: a, when: Direct, actions: [reply: hi]}", "  - *a"),
		lines("schedules:", "  - name: s", "    cron: '@daily'", "    actions: [send: {platform: p, conversation: c, text: '{{.Now}}'}]"),
	} {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4<<10 {
			return // a rules file is written by hand; larger inputs only slow the search
		}
		set, err := rulefile.Parse("fuzz.yaml", data)
		if err != nil {
			var le *rulefile.LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("Parse returned %T %v, want a *LoadError with problems", err, err)
			}
			if set != nil {
				t.Fatal("Parse returned both a Set and an error")
			}
			return
		}
		if set == nil {
			t.Fatal("Parse returned neither a Set nor an error")
		}
		e := rulefile.NewEngine(set, rulefile.WithLogger(slog.New(slog.DiscardHandler)), rulefile.WithStore(bot.NewMemoryStore()))
		var rec bottest.Recorder
		for _, text := range []string{"hello", "/go 42", "aaaa refund order"} {
			_ = e.HandleMessage(t.Context(), &rec, bottest.NewMessage(text, bottest.WithTags("vip")))
		}
	})
}

// FuzzRule loads a rules file made of one rule whose condition, reply and
// variable are fuzzed, so that the search spends its time in expressions
// and templates rather than in YAML: loading must not panic or hang, and
// the rule must then handle messages within its limits.
//
//	go test -run '^$' -fuzz FuzzRule -parallel 1 ./bot/rulefile/
func FuzzRule(f *testing.F) {
	f.Add(`lower(Text) contains "refund"`, `Hi {{.Author.Name}}, {{.Text | upper}}`, `{{.Vars.v}}{{.Vars.v}}`)
	f.Add(`Text matches "^(a|b)+$" && len(Tags) > 0`, `{{range .Tags}}{{.}},{{end}}`, `{{len .Text}}`)
	f.Add(`reduce(1..100, #acc + Text, "") != ""`, `{{range len .Text}}{{range len $.Text}}.{{end}}{{end}}`, `{{printf "%q" .Text}}`)
	f.Add(`true`, `{{if .Direct}}d{{else}}{{join ", " .Tags}}{{end}}`, `{{.Vars.v | default "x"}}`)
	f.Add(`hasTag("vip") || between("09:00", "17:00")`, `{{with .Captures}}{{.Args}}{{end}}`, `{{index .Tags 0}}`)
	f.Fuzz(func(t *testing.T, when, reply, set string) {
		if len(when)+len(reply)+len(set) > 2<<10 {
			return
		}
		data := lines(
			"vars: {v: ab}",
			"rules:",
			"  - name: r",
			"    when: "+strconv.Quote(when),
			"    actions:",
			"      - set: {v: "+strconv.Quote(set)+"}",
			"      - reply: "+strconv.Quote(reply),
		)
		set2, err := rulefile.Parse("fuzz.yaml", []byte(data))
		if err != nil {
			var le *rulefile.LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("Parse returned %T %v, want a *LoadError with problems", err, err)
			}
			return
		}
		e := rulefile.NewEngine(set2, rulefile.WithLogger(slog.New(slog.DiscardHandler)), rulefile.WithStore(bot.NewMemoryStore()))
		var rec bottest.Recorder
		for _, text := range []string{"aaaa", "refund " + when, reply} {
			_ = e.HandleMessage(t.Context(), &rec, bottest.NewMessage(text, bottest.WithTags("vip", "b")))
		}
	})
}
