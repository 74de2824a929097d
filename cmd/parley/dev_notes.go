package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// A devNote is something the platforms' side of parley dev saw, for the
// page's timeline beside the bot's events: a webhook delivery attempt, a
// fault injected, a stream connection.
type devNote struct {
	Seq          uint64    `json:"seq"`
	Time         time.Time `json:"time"`
	Type         string    `json:"type"` // delivery, fault, stream
	Platform     string    `json:"platform"`
	Conversation string    `json:"conversation,omitempty"`
	Message      string    `json:"message,omitempty"` // the bot.Message ID of the customer's message
	Event        string    `json:"event,omitempty"`   // the webhook's event type; the fault's kind
	Attempt      int       `json:"attempt,omitempty"`
	Copy         int       `json:"copy,omitempty"`
	Status       int       `json:"status,omitempty"`
	OK           bool      `json:"ok"`
	Redelivery   bool      `json:"redelivery,omitempty"`
	Detail       string    `json:"detail,omitempty"`
}

// devNoteLimit is how many notes parley dev keeps for a page that
// (re)connects.
const devNoteLimit = 500

// devNotes holds the latest notes and wakes the streams that follow them.
// Its methods are safe for concurrent use.
type devNotes struct {
	mu    sync.Mutex
	seq   uint64
	notes []devNote
	wake  chan struct{} // closed and replaced on every add
}

func newDevNotes() *devNotes { return &devNotes{wake: make(chan struct{})} }

func (d *devNotes) add(n devNote) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	n.Seq = d.seq
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	d.notes = append(d.notes, n)
	if len(d.notes) > devNoteLimit {
		d.notes = append(d.notes[:0], d.notes[len(d.notes)-devNoteLimit:]...)
	}
	close(d.wake)
	d.wake = make(chan struct{})
}

// since returns the notes after seq, and a channel closed on the next add.
func (d *devNotes) since(seq uint64) ([]devNote, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []devNote
	for _, n := range d.notes {
		if n.Seq > seq {
			out = append(out, n)
		}
	}
	return out, d.wake
}

// serveSSE streams the notes as Server-Sent Events ("event: note"), those
// kept first, until the request's context ends. A heartbeat
// comment keeps an idle stream alive.
func (d *devNotes) serveSSE(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	var seq uint64
	for {
		notes, wake := d.since(seq)
		for _, n := range notes {
			data, err := json.Marshal(n)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: note\ndata: %s\n\n", n.Seq, data); err != nil {
				return
			}
			seq = n.Seq
		}
		fl.Flush()
		select {
		case <-wake:
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}
