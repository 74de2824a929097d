package velaflowstest

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"
)

// executeWorkflow is POST /workflows/{id}/execute (the path is
// documented, the body and response are not). The input is the body's
// "input" object when that is the only member, else the whole body. The
// demo workflow "Hand off to a human agent" assigns the conversation named
// by input.conversationId to Maya Patel; every execution completes at once
// and emits workflow.execution.completed.
func (s *Server) executeWorkflow(c *call) (int, any, *apiError) {
	input := map[string]any{}
	for k, raw := range c.body.m {
		var v any
		_ = json.Unmarshal(raw, &v) // the body decoded as JSON, so each member does too
		input[k] = v
	}
	if inner, ok := input["input"].(map[string]any); ok && len(input) == 1 {
		input = inner
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wf := s.st.workflow(c.params["id"])
	if wf == nil {
		return 0, nil, notFound("Workflow", c.params["id"])
	}
	if wf.assigns != "" {
		id, _ := input["conversationId"].(string)
		if id == "" {
			return 0, nil, s.validationError([]fieldError{{"input.conversationId", "input.conversationId is required by this workflow"}})
		}
		cv := s.st.convByID[s.conversationKey(id)]
		if cv == nil {
			return 0, nil, notFound("Conversation", id)
		}
		s.setAgentLocked(cv, wf.assigns)
	}
	ex := &execution{id: s.st.ids.next(c.now), workflowID: wf.id, status: "completed", input: input, created: c.now}
	s.st.executions = append(s.st.executions, ex)
	w := executionWire(ex)
	s.emitLocked(EventWorkflowCompleted, "", "workflow:"+wf.id, map[string]any{"execution": w})
	return http.StatusCreated, map[string]any{"execution": w}, nil
}

func executionWire(ex *execution) wireExecution {
	return wireExecution{ID: ex.id, WorkflowID: ex.workflowID, Status: ex.status, Input: maps.Clone(ex.input), CreatedAt: formatTime(ex.created)}
}

// An Execution is a read-only view of a workflow execution.
type Execution struct {
	ID         string         `json:"_id"`
	WorkflowID string         `json:"workflowId"`
	Status     string         `json:"status"`
	Input      map[string]any `json:"input"`
	CreatedAt  time.Time      `json:"createdAt"`
}

// Executions returns every workflow execution, in order. Input maps are
// shallow copies.
func (s *Server) Executions() []Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Execution, 0, len(s.st.executions))
	for _, ex := range slices.Clone(s.st.executions) {
		out = append(out, Execution{ID: ex.id, WorkflowID: ex.workflowID, Status: ex.status, Input: maps.Clone(ex.input), CreatedAt: ex.created})
	}
	return out
}
