package velaflows

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strings"
)

// ConversationsOptions filters [Client.Conversations]. Zero fields are not
// sent.
type ConversationsOptions struct {
	ListOptions
	// Status keeps conversations with this status, such as StatusOpen.
	Status string
	// ChannelType keeps conversations of this channel, such as
	// ChannelWhatsApp.
	ChannelType string
}

// Conversations lists one page of inbox conversations:
// GET /inbox/conversations. Scope: inbox:read.
func (c *Client) Conversations(ctx context.Context, opts ConversationsOptions) (*Page[Conversation], *Response, error) {
	const op = "list conversations"
	q, err := opts.values(op)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range []struct{ key, v string }{{"status", opts.Status}, {"channelType", opts.ChannelType}} {
		if p.v == "" {
			continue
		}
		if q.Has(p.key) {
			return nil, nil, invalid(op, p.key, "is set twice (in the options and in Query)")
		}
		q.Set(p.key, p.v)
	}
	return getPage[Conversation](ctx, c, "/inbox/conversations", q)
}

// AllConversations iterates over the conversations of every page from
// opts.Page on, fetching each page when needed, MaxLimit conversations at
// a time unless opts.Limit says otherwise. It stops after the last page,
// when the caller stops, and at the first error (a done ctx included),
// which it yields once.
func (c *Client) AllConversations(ctx context.Context, opts ConversationsOptions) iter.Seq2[Conversation, error] {
	return allPages(ctx, opts.ListOptions, func(ctx context.Context, lo ListOptions) (*Page[Conversation], *Response, error) {
		o := opts
		o.ListOptions = lo
		return c.Conversations(ctx, o)
	})
}

// Conversation gets one conversation: GET /inbox/conversations/{id},
// answered with data.conversation. An unknown ID is an [*APIError] with
// CodeNotFound.
func (c *Client) Conversation(ctx context.Context, id string) (*Conversation, *Response, error) {
	seg, err := escapeID("get conversation", "id", id)
	if err != nil {
		return nil, nil, err
	}
	return getOne[Conversation](ctx, c, http.MethodGet, "/inbox/conversations/"+seg, nil, nil, "conversation")
}

// ConversationUpdate is the body of [Client.UpdateConversation]. Zero
// fields are not sent and leave the conversation's value unchanged; at
// least one field must be set.
type ConversationUpdate struct {
	// Status is the new status, such as StatusClosed or StatusOpen.
	Status string
	// Priority is the new priority, such as PriorityHigh.
	Priority string
	// AssignedAgentID assigns the conversation to this agent: a human
	// takes it over.
	AssignedAgentID string
	// Unassign sends assignedAgentId null: nobody is assigned, and the
	// conversation is the bot's again. It excludes AssignedAgentID.
	Unassign bool
}

// MarshalJSON implements [json.Marshaler]: {"status", "priority",
// "assignedAgentId"} with the set fields only, assignedAgentId null for
// Unassign.
func (u ConversationUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Status != "" {
		m["status"] = u.Status
	}
	if u.Priority != "" {
		m["priority"] = u.Priority
	}
	switch {
	case u.Unassign:
		m["assignedAgentId"] = nil
	case u.AssignedAgentID != "":
		m["assignedAgentId"] = u.AssignedAgentID
	}
	return json.Marshal(m)
}

// UpdateConversation changes a conversation's status, priority or
// assignee: PATCH /inbox/conversations/{id}, answered with
// data.conversation. VelaFlows then emits inbox.conversation.assigned or
// inbox.conversation.closed.
//
// Unverified: the docs name the events and the fields, not this endpoint
// (VelaFlows does not document it); the path and body are assumptions.
func (c *Client) UpdateConversation(ctx context.Context, id string, u ConversationUpdate) (*Conversation, *Response, error) {
	const op = "update conversation"
	seg, err := escapeID(op, "id", id)
	if err != nil {
		return nil, nil, err
	}
	if u.Unassign && u.AssignedAgentID != "" {
		return nil, nil, invalid(op, "assignedAgentId", "is set although Unassign is true")
	}
	if u.Status == "" && u.Priority == "" && u.AssignedAgentID == "" && !u.Unassign {
		return nil, nil, invalid(op, "body", "has no field to change")
	}
	if u.AssignedAgentID != "" && strings.TrimSpace(u.AssignedAgentID) == "" {
		return nil, nil, invalid(op, "assignedAgentId", "is blank")
	}
	return getOne[Conversation](ctx, c, http.MethodPatch, "/inbox/conversations/"+seg, nil, u, "conversation")
}

// AssignConversation assigns a conversation to an agent, so that a human
// owns it: [Client.UpdateConversation] with AssignedAgentID.
func (c *Client) AssignConversation(ctx context.Context, id, agentID string) (*Conversation, *Response, error) {
	if strings.TrimSpace(agentID) == "" {
		return nil, nil, invalid("assign conversation", "assignedAgentId", "is required")
	}
	return c.UpdateConversation(ctx, id, ConversationUpdate{AssignedAgentID: agentID})
}

// UnassignConversation removes a conversation's assignee:
// [Client.UpdateConversation] with Unassign.
func (c *Client) UnassignConversation(ctx context.Context, id string) (*Conversation, *Response, error) {
	return c.UpdateConversation(ctx, id, ConversationUpdate{Unassign: true})
}

// SetConversationStatus sets a conversation's status, such as StatusClosed
// to close it or StatusOpen to reopen it: [Client.UpdateConversation] with
// Status.
func (c *Client) SetConversationStatus(ctx context.Context, id, status string) (*Conversation, *Response, error) {
	if strings.TrimSpace(status) == "" {
		return nil, nil, invalid("set conversation status", "status", "is required")
	}
	return c.UpdateConversation(ctx, id, ConversationUpdate{Status: status})
}
