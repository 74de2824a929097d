package flowdocktest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	defaultLimit = 30
	maxLimit     = 100
)

// listQuery holds the list parameters Flowdock documents: event, limit,
// sort, since_id, until_id, tags, tag_mode, search and skip.
type listQuery struct {
	events  []string
	limit   int
	asc     bool
	since   int
	until   int
	tags    []string
	orMode  bool
	search  []string
	skip    int
	byQuery bool // search or tags given: the search pattern applies
}

// parseListQuery reads the parameters from the query string or a JSON body
// (the Python wrapper sends them as a JSON body on GET).
func parseListQuery(p params) (listQuery, *apiError) {
	q := listQuery{limit: defaultLimit}
	v := validation{}
	if ev, _, err := p.list("event"); err != nil {
		v.add("event", err.Error())
	} else {
		q.events = ev
	}
	if n, ok, err := p.integer("limit"); err != nil {
		v.add("limit", err.Error())
	} else if ok {
		q.limit = min(max(n, 1), maxLimit)
	}
	if srt, ok, err := p.str("sort"); err != nil {
		v.add("sort", err.Error())
	} else if ok && srt != "" {
		switch strings.ToLower(srt) {
		case "asc":
			q.asc = true
		case "desc":
		default:
			v.add("sort", "must be asc or desc")
		}
	}
	for _, k := range []string{"since_id", "until_id", "skip"} {
		n, ok, err := p.integer(k)
		if err != nil {
			v.add(k, err.Error())
			continue
		}
		if !ok {
			continue
		}
		switch k {
		case "since_id":
			q.since = n
		case "until_id":
			q.until = n
		case "skip":
			q.skip = max(n, 0)
		}
	}
	if tags, _, err := p.list("tags"); err != nil {
		v.add("tags", err.Error())
	} else {
		q.tags = tags
	}
	if mode, ok, err := p.str("tag_mode"); err != nil {
		v.add("tag_mode", err.Error())
	} else if ok && mode != "" {
		switch strings.ToLower(mode) {
		case "or":
			q.orMode = true
		case "and":
		default:
			v.add("tag_mode", "must be and or or")
		}
	}
	if search, _, err := p.str("search"); err != nil {
		v.add("search", err.Error())
	} else {
		q.search = words(search)
	}
	q.byQuery = len(q.search) > 0 || len(q.tags) > 0
	return q, v.err()
}

// listedByDefault reports whether an event shows in a list without an
// event filter: edit events are stream notifications, listed only when
// asked for by name.
func listedByDefault(event string) bool {
	return event != "message-edit" && event != "tag-change"
}

// filterLocked applies the list semantics the Python wrapper's doctests
// observed on the live service:
//
//   - with search and/or tags: (search matches ∪ tag matches under
//     tag_mode) ∩ event, then skip N from the newest end, then the newest
//     limit (the oldest with sort=asc); since_id and until_id are ignored,
//     and deleted (truncated) messages never match;
//   - otherwise: event ∩ (since_id, until_id), then the newest limit (the
//     oldest with sort=asc); skip is ignored.
//
// The result is always in ascending id order. th restricts to one thread.
func (s *Server) filterLocked(all []*message, q listQuery, th *thread) []*message {
	var tagFilter []string
	for _, t := range q.tags {
		if n := s.normalizeTagLocked(t); n != "" {
			tagFilter = append(tagFilter, n)
		}
	}
	var out []*message
	for _, m := range all {
		if m.removed || (th != nil && m.thread != th) {
			continue
		}
		if len(q.events) > 0 {
			if !slices.Contains(q.events, m.event) {
				continue
			}
		} else if !listedByDefault(m.event) {
			continue
		}
		if q.byQuery {
			if m.deleted {
				continue
			}
			hit := len(q.search) > 0 && s.matchSearchLocked(m, q.search)
			if !hit && len(tagFilter) > 0 {
				hit = matchTags(m.tags, tagFilter, q.orMode)
			}
			if !hit {
				continue
			}
		} else {
			if q.since > 0 && m.id <= q.since {
				continue
			}
			if q.until > 0 && m.id >= q.until {
				continue
			}
		}
		out = append(out, m)
	}
	if q.byQuery {
		out = out[:max(len(out)-q.skip, 0)]
	}
	if len(out) > q.limit {
		if q.asc {
			out = out[:q.limit]
		} else {
			out = out[len(out)-q.limit:]
		}
	}
	return out
}

func matchTags(have, want []string, or bool) bool {
	for _, t := range want {
		got := hasTag(have, t)
		if or && got {
			return true
		}
		if !or && !got {
			return false
		}
	}
	return !or
}

// matchSearchLocked: every keyword must be a whole word of the message's
// text (content, comment text, title, body, file name), case-insensitively.
func (s *Server) matchSearchLocked(m *message, terms []string) bool {
	text := m.text + " " + m.title
	if m.body != nil {
		text += " " + *m.body
	}
	if m.file != nil {
		text += " " + m.file.name
	}
	have := map[string]bool{}
	for _, w := range words(text) {
		have[w] = true
	}
	for _, t := range terms {
		if !have[t] {
			return false
		}
	}
	return true
}

func (s *Server) renderListLocked(ms []*message) []wireMessage {
	out := make([]wireMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, s.messageJSONLocked(m))
	}
	return out
}

// threadListLocked lists a flow's threads newest first by updated_at: limit
// (default 30, at most 100), since and until (ISO-8601, exclusive, on
// updated_at). application and empty are accepted and ignored, as observed.
// A full page carries Link rel="next" with until=<oldest updated_at>.
func (s *Server) threadListLocked(c *call, f *flow) (int, any, *apiError) {
	v := validation{}
	limit := defaultLimit
	if n, ok, err := c.p.integer("limit"); err != nil {
		v.add("limit", err.Error())
	} else if ok {
		limit = min(max(n, 1), maxLimit)
	}
	var since, until time.Time
	for _, k := range []string{"since", "until"} {
		raw, ok, err := c.p.str(k)
		if err != nil {
			v.add(k, err.Error())
			continue
		}
		if !ok || raw == "" {
			continue
		}
		t, perr := parseISO(raw)
		if perr != nil {
			v.add(k, "must be an ISO-8601 time such as 2019-01-01T00:00:00Z")
			continue
		}
		if k == "since" {
			since = t
		} else {
			until = t
		}
	}
	if e := v.err(); e != nil {
		return 0, nil, e
	}
	ts := slices.Clone(f.threadList)
	slices.SortStableFunc(ts, func(a, b *thread) int {
		if c := b.updated.Compare(a.updated); c != 0 {
			return c
		}
		return b.order - a.order
	})
	out := []*wireThread{}
	var last *thread
	more := false
	for _, t := range ts {
		u := t.updated.Truncate(time.Millisecond)
		if !since.IsZero() && !u.After(since) {
			continue
		}
		if !until.IsZero() && !u.Before(until) {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, s.threadJSONLocked(t))
		last = t
	}
	if more && last != nil {
		q := url.Values{}
		for k, vs := range c.r.URL.Query() {
			if k != "until" && k != "access_token" {
				q[k] = vs
			}
		}
		q.Set("until", isoTime(last.updated))
		c.header.Set("Link", "<"+s.flowURL(f)+"/threads?"+q.Encode()+`>; rel="next"`)
	}
	return http.StatusOK, out, nil
}

func parseISO(raw string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t, nil
		}
	}
	_, err := time.Parse(time.RFC3339, raw)
	return time.Time{}, err
}
