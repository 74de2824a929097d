package fromenv

import (
	"context"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// The names under which [Platforms.Actions] offers the platform actions,
// which rules files call (call: sendbee.update_contact) and Go code
// registers with flow.Engine.RegisterAction.
const (
	ActionSendbeeUpdateContact    = "sendbee.update_contact"    // sendbee.UpdateContactAction
	ActionVelaflowsCreateLead     = "velaflows.create_lead"     // velaflows.CreateLeadAction
	ActionVelaflowsUpdateCustomer = "velaflows.update_customer" // velaflows.UpdateCustomerAction
	ActionFlowdockPresent         = "flowdock.present"          // flowdock.PresentAction, in the first flow of FLOWDOCK_FLOWS
)

// Actions returns the flow actions of the platforms Build configured, by
// name: for Sendbee, ActionSendbeeUpdateContact; for VelaFlows,
// ActionVelaflowsCreateLead and ActionVelaflowsUpdateCustomer; for
// Flowdock with FLOWDOCK_FLOWS set, ActionFlowdockPresent, which presents
// items in the first flow it names. A platform that is not configured
// offers none, so a rules file calling one of its actions is refused when
// it is installed. The map is new on every call.
//
// With several instances of a platform, an action runs with the client of
// the instance the call's conversation is of (its Platform), and for a
// conversation of another platform with the default instance's, or else
// the first named one's (in the order of the _INSTANCES variable).
func (p *Platforms) Actions() map[string]flow.Action {
	byName := map[string]*instanceActions{}
	add := func(name, adapter string, a flow.Action) {
		ia := byName[name]
		if ia == nil {
			ia = &instanceActions{by: map[string]flow.Action{}}
			byName[name] = ia
		}
		ia.by[adapter] = a
		if ia.fallback == nil || adapter == bot.PlatformOf(adapter) {
			ia.fallback = a
		}
	}
	for _, a := range p.Adapters {
		switch a := a.(type) {
		case *sendbee.Adapter:
			add(ActionSendbeeUpdateContact, a.Name(), sendbee.UpdateContactAction(a.Client()))
		case *velaflows.Adapter:
			add(ActionVelaflowsCreateLead, a.Name(), velaflows.CreateLeadAction(a.Client()))
			add(ActionVelaflowsUpdateCustomer, a.Name(), velaflows.UpdateCustomerAction(a.Client()))
		case *flowdock.Adapter:
			if len(p.teamFlows) == 0 {
				continue
			}
			if where, err := flowdock.ParseChat(p.teamFlows[0]); err == nil {
				add(ActionFlowdockPresent, a.Name(), flowdock.PresentAction(a.Client(), where))
			}
		}
	}
	actions := map[string]flow.Action{}
	for name, ia := range byName {
		if len(ia.by) == 1 {
			actions[name] = ia.fallback
			continue
		}
		actions[name] = ia
	}
	return actions
}

// instanceActions is an action of a platform with several instances: it
// runs the action of the call's instance, or the fallback.
type instanceActions struct {
	by       map[string]flow.Action // by adapter name
	fallback flow.Action
}

func (ia *instanceActions) Run(ctx context.Context, c flow.ActionCall) error {
	if a, ok := ia.by[c.Platform]; ok {
		return a.Run(ctx, c)
	}
	return ia.fallback.Run(ctx, c)
}
