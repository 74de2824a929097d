package bot

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOptOut_match(t *testing.T) {
	o := defaultOptOut
	for _, text := range []string{"STOP", "stop", " Stop! ", "stop.", "STOP ALL", "Unsubscribe", "stopp", "ODJAVA",
		"odjavi", "Baja", "arrêt", "ARRET", "désabonner", "opt-out", "Opt out", "ＳＴＯＰ"} {
		assert.Equal(t, -1, o.match(text), text)
	}
	for _, text := range []string{"START", "start", "Unstop", "prijava", "Subscribe!"} {
		assert.Equal(t, +1, o.match(text), text)
	}
	for _, text := range []string{"", "stop the order", "don't stop", "stopwatch", "starting", "yes", "no",
		strings.Repeat("stop ", 20)} {
		assert.Equal(t, 0, o.match(text), text)
	}
}

// foldASCII makes of an ASCII text what foldKeyword makes of it.
func FuzzFoldASCII(f *testing.F) {
	for _, s := range []string{"STOP", " Stop! ", "stop  all", "\tOPT-OUT.\n", "a\u00a0b", "Arrêt", "...", "x,", "K", "_stop_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxKeywordLen {
			return
		}
		got, ok := foldASCII(nil, s)
		if !ok {
			return
		}
		if want := foldKeyword(s); string(got) != want {
			t.Fatalf("foldASCII(%q) = %q, foldKeyword = %q", s, got, want)
		}
	})
}

func TestOptOut_matchAllocates(t *testing.T) {
	o := defaultOptOut
	for _, text := range []string{"hello, I need help with my order", "STOP", "start"} {
		if n := testing.AllocsPerRun(100, func() { o.match(text) }); n != 0 {
			t.Errorf("match(%q) allocates %v times", text, n)
		}
	}
}
