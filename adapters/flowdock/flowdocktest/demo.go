package flowdocktest

import "net/http"

// The demo data: organization "Acme" (acme), three users besides the bot,
// three flows the bot has joined and one it has not, and a few messages.

func demoUsers() []User {
	return []User{
		{ID: 1305, Nick: "dana", Name: "Dana Scully", Email: "dana@acme.test"},
		{ID: 1310, Nick: "mike", Name: "Mike Ross", Email: "mike@acme.test"},
		{ID: 1320, Nick: "Ray_", Name: "Ray Zhu", Email: "ray@acme.test"},
	}
}

func demoFlows() []Flow {
	return []Flow{
		{Org: "acme", OrgName: "Acme", Name: "main", DisplayName: "Main", Members: []int{DefaultBotID, 1305, 1310, 1320}},
		{Org: "acme", Name: "ops", DisplayName: "Ops", SourceName: "CI", Members: []int{DefaultBotID, 1305, 1310}},
		{Org: "acme", Name: "random", DisplayName: "Random", Members: []int{DefaultBotID, 1320}},
		{Org: "acme", Name: "hr", DisplayName: "HR", AccessMode: "organization", Members: []int{1305, 1320}},
	}
}

// seedDemo posts the demo messages.
func (s *Server) seedDemo() {
	s.mu.Lock()
	defer s.mu.Unlock()
	post := func(flowRef, nick, text string, o postOptions) *message {
		f, u := s.flowRefLocked(flowRef), s.userByNickLocked(nick)
		if f == nil || u == nil || !f.members[u.id] {
			return nil // replaced by options
		}
		m, e := s.createLocked(&call{p: simParams("message", text, o), user: u, header: http.Header{}, sim: true}, target{flow: f}, "")
		if e != nil {
			return nil
		}
		return m
	}
	first := post("acme/main", "dana", "Good morning! Deploy is at 10:00 #deploy", postOptions{})
	if first != nil {
		post("acme/main", "mike", "Thanks @dana, I will be there", postOptions{thread: first.thread.id})
	}
	post("acme/main", "Ray_", "@"+s.bot.nick+" ping", postOptions{})
	post("acme/ops", "dana", "Looking into build 88, see https://ci.acme.test/b/88", postOptions{tags: []string{"ci"}})
	if f := s.flowRefLocked("acme/ops"); f != nil {
		c := &call{header: http.Header{}, sim: true, p: params{
			"event": "activity", "title": "marked build as failed", "external_thread_id": "build-88",
			"author": map[string]any{"name": "ci-bot"},
			"thread": map[string]any{
				"title": "Build #88", "external_url": "https://ci.acme.test/b/88",
				"status": map[string]any{"color": "red", "value": "failed"},
				"fields": []any{map[string]any{"label": "Branch", "value": "main"}},
			},
		}}
		_, _ = s.integrationCreateLocked(c, f, nil)
	}
	post("acme/random", "Ray_", "lunch?", postOptions{})
	post("acme/hr", "dana", "Salary review next week", postOptions{})
	if dana := s.userByNickLocked("dana"); dana != nil && dana != s.bot {
		c := &call{p: simParams("message", "hi bot, are you there?", postOptions{}), user: dana, header: http.Header{}, sim: true}
		_, _ = s.createLocked(c, target{chat: s.chatLocked(dana.id, s.bot.id, true), to: s.bot.id}, "")
	}
}
