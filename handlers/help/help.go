package help

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/parleybot/parley/bot"
)

// DefaultHeader is the first line of the list when Handler.Header is empty.
const DefaultHeader = "Commands:"

// A RouteLister describes routes, in the order they are tried. *bot.Router
// and *bot.Bot are RouteListers. Routes must be safe for concurrent use.
type RouteLister interface {
	Routes() []bot.RouteInfo
}

// Handler replies with the list of the commands of Routes, one line per
// route that has a usage, in route order: "usage — description". See the
// package documentation for the format.
//
// Routes is required; the other fields are optional. A Handler holds no
// state, and is safe for concurrent use as long as its fields are not
// modified and Routes is safe for concurrent use.
type Handler struct {
	// Routes are the routes to list, usually the Bot or Router the handler
	// is registered on. Required.
	Routes RouteLister
	// Header is the line before the list. Default: DefaultHeader
	// ("Commands:").
	Header string
}

// Interface guard.
var _ bot.Handler = Handler{}

// DefaultRule returns the rule the handler is usually registered on:
// bot.Command("help"), which matches "/help" (and "help" in a direct
// conversation).
func DefaultRule() bot.Rule { return bot.Command("help") }

// HandleMessage implements [bot.Handler]: it sends the list as one reply to
// m. It returns an error if h.Routes is nil, and the error of w.Send.
func (h Handler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if h.Routes == nil {
		return errors.New("help: Handler.Routes is nil")
	}
	return w.Send(ctx, m.Reply(h.Text()))
}

// Text returns the list HandleMessage sends: the header, then one line per
// route with a usage, descriptions aligned in a column after the longest
// usage; or "No commands." when no route (or no Routes) has a usage.
func (h Handler) Text() string {
	var routes []bot.RouteInfo
	width := 0
	if h.Routes != nil {
		for _, r := range h.Routes.Routes() {
			if r.Usage == "" {
				continue
			}
			routes = append(routes, r)
			width = max(width, utf8.RuneCountInString(r.Usage))
		}
	}
	if len(routes) == 0 {
		return "No commands."
	}
	var b strings.Builder
	header := h.Header
	if header == "" {
		header = DefaultHeader
	}
	b.WriteString(header)
	for _, r := range routes {
		b.WriteByte('\n')
		b.WriteString(r.Usage)
		if r.Description != "" {
			b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(r.Usage)+2))
			b.WriteString("— ")
			b.WriteString(r.Description)
		}
	}
	return b.String()
}
