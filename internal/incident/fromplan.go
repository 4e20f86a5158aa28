package incident

import (
	"context"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
)

// OpenFromPlan opens an incident and starts the checklist of plan planID for it: what
// a hospital does when it declares an incident under one of its emergency plans. The plan
// must be one a sees. The incident is opened first; should the checklist fail to start,
// the incident stays open and the error says why (the checklist can be started again).
func OpenFromPlan(ctx context.Context, s *Service, p *Plans, a actor.Actor, in Input, planID int64) (Incident, ChecklistRun, error) {
	if _, err := p.Plan(ctx, a, planID); err != nil {
		return Incident{}, ChecklistRun{}, err
	}
	inc, err := s.Open(ctx, a, in)
	if err != nil {
		return Incident{}, ChecklistRun{}, err
	}
	run, err := p.StartPlanChecklist(ctx, a, planID, inc.ID)
	return inc, run, err
}

// StartPlanChecklist starts the checklist of plan planID for incident incidentID in a
// transaction of its own.
func (p *Plans) StartPlanChecklist(ctx context.Context, a actor.Actor, planID, incidentID int64) (ChecklistRun, error) {
	var run ChecklistRun
	err := p.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		run, err = p.StartChecklist(ctx, tx, a, planID, incidentID)
		return err
	})
	return run, err
}
