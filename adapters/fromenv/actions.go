package fromenv

import (
	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows"
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
func (p *Platforms) Actions() map[string]flow.Action {
	actions := map[string]flow.Action{}
	for _, a := range p.Adapters {
		switch a := a.(type) {
		case *sendbee.Adapter:
			actions[ActionSendbeeUpdateContact] = sendbee.UpdateContactAction(a.Client())
		case *velaflows.Adapter:
			actions[ActionVelaflowsCreateLead] = velaflows.CreateLeadAction(a.Client())
			actions[ActionVelaflowsUpdateCustomer] = velaflows.UpdateCustomerAction(a.Client())
		case *flowdock.Adapter:
			if len(p.teamFlows) == 0 {
				continue
			}
			if where, err := flowdock.ParseChat(p.teamFlows[0]); err == nil {
				actions[ActionFlowdockPresent] = flowdock.PresentAction(a.Client(), where)
			}
		}
	}
	return actions
}
