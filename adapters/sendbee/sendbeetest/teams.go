package sendbeetest

import "slices"

// listTeams serves GET /teams/teams, optionally only the teams member_id
// belongs to.
func (s *Server) listTeams(c *call) (*result, error) {
	c.allowQuery("member_id", "page", "limit")
	memberID, err := c.optionalQueryID("member_id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wireTeam
	m := s.st.memberByID(memberID)
	for _, t := range s.st.teams {
		if memberID != "" && (m == nil || !slices.Contains(t.members, m)) {
			continue
		}
		out = append(out, wireTeamOf(t))
	}
	return paginate(c, out)
}

// listMembers serves GET /teams/members, optionally only the members of
// team_id.
func (s *Server) listMembers(c *call) (*result, error) {
	c.allowQuery("team_id", "page", "limit")
	teamID, err := c.optionalQueryID("team_id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wireMember
	for _, m := range s.st.members {
		if teamID != "" {
			t := s.st.teamByID(teamID)
			if t == nil || !slices.Contains(t.members, m) {
				continue
			}
		}
		out = append(out, s.st.wireMemberOf(m))
	}
	return paginate(c, out)
}

// setChatbotActivity serves PUT /automation/chatbot/activity.
func (s *Server) setChatbotActivity(c *call) (*result, error) {
	if err := c.parseBody("conversation_id", "active"); err != nil {
		return nil, err
	}
	id, err := c.id("conversation_id")
	if err != nil {
		return nil, err
	}
	active, err := c.boolean("active")
	if err != nil {
		return nil, err
	}
	if active == nil {
		return nil, badRequest("active is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(id)
	if cv == nil {
		return nil, notFound("conversation not found: %s", id)
	}
	s.setChatbotLocked(cv, *active, "api_activity")
	msg := "Chatbot turned off for this conversation"
	if *active {
		msg = "Chatbot turned on for this conversation"
	}
	return one(wireServerMessage{Message: msg})
}

// chatbotStatus serves GET /automation/chatbot/activity/status.
func (s *Server) chatbotStatus(c *call) (*result, error) {
	c.allowQuery("conversation_id")
	id, err := c.queryID("conversation_id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(id)
	if cv == nil {
		return nil, notFound("conversation not found: %s", id)
	}
	return one(wireChatbotStatus{ConversationID: cv.id, ChatbotActive: cv.chatbot})
}

// setChatbotLocked sets the chatbot state of cv and emits chatbot.status
// when it changed. s.mu must be held.
func (s *Server) setChatbotLocked(cv *conversation, active bool, cause string) bool {
	if cv.chatbot == active {
		return false
	}
	cv.chatbot = active
	s.emitLocked(cv.id, EventChatbotStatus, chatbotStatusData(cv, cause))
	return true
}
