package fromenv

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/redact"
)

// summary returns the start-up summary's lines about the platforms and the
// state, or nil when p has no adapters (a bot on the console shows its
// chat, nothing else). It names no secret: URLs lose their user
// information and query.
func (p *Platforms) summary(b *bot.Bot, getenv func(string) string) []string {
	if len(p.Adapters) == 0 {
		return nil
	}
	var lines []string
	for _, a := range p.Adapters {
		line := "serving " + a.Name()
		if about := p.about[a.Name()]; about != "" {
			line += ": " + about
		}
		lines = append(lines, line)
	}
	var state string
	switch _, mem := b.Store().(*bot.MemoryStore); {
	case mem:
		state = "state and queues in memory, lost when the process stops (PARLEY_DATA_DIR or NATS_URL makes them durable)"
	case getenv("NATS_URL") != "":
		state = "state and queues durable on NATS JetStream at " + redact.URLList(getenv("NATS_URL"))
	case getenv("PARLEY_DATA_DIR") != "":
		state = "state and queues durable on JetStream, embedded server in " + getenv("PARLEY_DATA_DIR")
	default:
		state = fmt.Sprintf("state in %T", b.Store())
	}
	lines = append(lines, state)
	if p.tracing != "" {
		lines = append(lines, p.tracing)
	}
	return lines
}

// listening returns the summary's line about a server on addr, named by
// the variable that sets it, serving what.
func listening(variable, addr, what string) string {
	return fmt.Sprintf("listening on %s (%s): %s", addr, variable, what)
}

// printSummary writes lines to p.Out (default os.Stderr), each prefixed
// with "parley: ".
func (p *Platforms) printSummary(lines []string) {
	w := p.Out
	if w == nil {
		w = os.Stderr
	}
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString("parley: " + l + "\n")
	}
	_, _ = io.WriteString(w, sb.String())
}
