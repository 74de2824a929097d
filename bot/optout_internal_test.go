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
