package supply

import (
	"slices"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/trail"
)

// The summaries of the trail entries supply writes, as catalogue messages: each shows the
// values of the English summary beside it, with its fixed words (a state, a stage, a
// built-in gate's name, a delivery problem) in the reader's language.

// gateWord is a gate's name: a built-in gate's translated, another as its owner named it.
func gateWord(name string) any {
	if slices.ContainsFunc(BuiltinGates(), func(g Gate) bool { return g.Name == name }) {
		return i18n.M("supply.gate." + name)
	}
	return name
}

// stageWord is a gate's stage as a translated word.
func stageWord(stage string) any {
	if slices.Contains(Stages, stage) {
		return i18n.M("supply.stage." + stage)
	}
	return stage
}

// vendorWord is a vendor's name, or "none declared" in the reader's language.
func vendorWord(name string) any {
	if name == "" {
		return i18n.M("trail.summary.supply.no_vendor")
	}
	return name
}

// gateResultMsg is the summary of a gate's evaluation.
func gateResultMsg(product, version, gate string, passed bool) *i18n.Message {
	result := i18n.M("supply.gate_status.failed")
	if passed {
		result = i18n.M("supply.gate_status.passed")
	}
	return trail.Msg("trail.summary.gate.evaluate", product, version, gateWord(gate), result)
}

// maxTrailProblems bounds the problems a delivery's trail summary lists.
const maxTrailProblems = 8

// deliveryMsg is the summary of a delivery check: verified, or failed with its problems
// (msgs, the catalogue form of probs, when the check gave them).
func deliveryMsg(product, version, vendor string, ok bool, probs []string, msgs []i18n.Message) *i18n.Message {
	if ok {
		return trail.Msg("trail.summary.delivery.verified", product, version, vendorWord(vendor))
	}
	items := make([]any, 0, len(probs))
	if len(msgs) == len(probs) {
		for _, m := range msgs {
			items = append(items, m)
		}
	} else {
		for _, p := range probs {
			items = append(items, p)
		}
	}
	var list any = i18n.M("trail.summary.delivery.no_problems")
	if len(items) > 0 {
		more := len(items) - maxTrailProblems
		items = items[:min(len(items), maxTrailProblems)]
		list = items[len(items)-1]
		for i := len(items) - 2; i >= 0; i-- {
			list = i18n.M("trail.summary.problems", items[i], list)
		}
		if more > 0 {
			list = i18n.M("trail.summary.problems_more", list, more)
		}
	}
	return trail.Msg("trail.summary.delivery.failed", product, version, vendorWord(vendor), list)
}

// stateWord is a finding's state as a translated word.
func stateWord(state string) i18n.Message { return i18n.M("supply.state." + state) }
