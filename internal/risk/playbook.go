package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// PlaybookTask is a task a level's playbook adds to a risk: its title as a catalogue
// key, its due date in days from when it is added (0: none), and whether it links to
// emergency response (Options.EmergencyLink).
type PlaybookTask struct {
	Key       string
	DueDays   int
	Emergency bool
}

// DefaultPlaybooks returns the playbooks of the default matrix's levels: critical and
// high risks get active-defence tasks and a link to emergency response, medium ones
// management, training and audit tasks, low ones monitoring.
func DefaultPlaybooks() map[string][]PlaybookTask {
	defence := []PlaybookTask{
		{Key: "risk.playbook.defence.contain", DueDays: 3},
		{Key: "risk.playbook.defence.harden", DueDays: 14},
		{Key: "risk.playbook.defence.monitor", DueDays: 7},
		{Key: "risk.playbook.defence.emergency", DueDays: 7, Emergency: true},
	}
	critical := append([]PlaybookTask{{Key: "risk.playbook.defence.report", DueDays: 1}}, defence...)
	return map[string][]PlaybookTask{
		"critical": critical,
		"high":     defence,
		"medium": {
			{Key: "risk.playbook.manage.policy", DueDays: 30},
			{Key: "risk.playbook.manage.training", DueDays: 60},
			{Key: "risk.playbook.manage.audit", DueDays: 90},
		},
		"low": {
			{Key: "risk.playbook.monitor.watch", DueDays: 0},
		},
	}
}

// playbook adds the tasks of level lvl's playbook to risk r, except those r already has
// open.
func (s *Service) playbook(ctx context.Context, tx *store.Tx, a actor.Actor, r Risk, lvl string) error {
	tasks := s.opt.Playbooks[lvl]
	if len(tasks) == 0 {
		return nil
	}
	open, err := s.tasks(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range open {
		if t.DoneAt == nil && t.TitleMsg != nil {
			have[t.TitleMsg.Key] = true
		}
	}
	now := s.now()
	added := 0
	for _, pt := range tasks {
		if have[pt.Key] {
			continue
		}
		t := Task{RiskID: r.ID, Title: s.cat.T(i18n.EN, pt.Key), TitleMsg: &i18n.Message{Key: pt.Key}, Playbook: lvl,
			Assignee: r.Owner}
		if pt.DueDays > 0 {
			d := now.Add(time.Duration(pt.DueDays) * 24 * time.Hour)
			t.DueAt = &d
		}
		if pt.Emergency {
			t.Link = s.opt.EmergencyLink
		}
		if _, err := s.insertTask(ctx, tx, a, t); err != nil {
			return err
		}
		added++
	}
	if added == 0 {
		return nil
	}
	return s.record(ctx, tx, a, r, "risk.playbook", fmt.Sprintf("risk %d %s: %d tasks of the %s playbook added", r.ID, r.Title, added, lvl),
		trail.Msg("trail.summary.risk.playbook", r.ID, r.Title, added, s.levelMsg(lvl)), nil, nil)
}
