package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestReviewAndTasks: the review needs a root cause; tasks are added, done and undone,
// each on the timeline and in the trail; a closed incident's review and tasks are final.
func TestReviewAndTasks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{})
		in, err := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelGeneral))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.inc.SetReview(ctx, w.secA, in.ID, incident.ReviewInput{Lessons: "x"}); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("review without a root cause: %v", err)
		}
		if _, err := w.inc.SetReview(ctx, w.secA, in.ID, incident.ReviewInput{RootCause: "RDP 端口暴露在互联网", Lessons: "关闭外网远程桌面"}); err != nil {
			t.Fatal(err)
		}
		due := w.now.Add(7 * 24 * time.Hour)
		task, err := w.inc.AddTask(ctx, w.secA, in.ID, incident.TaskInput{Title: "关闭 3389 端口", Assignee: "net-admin", Due: &due})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.inc.SetTaskDone(ctx, w.secA, in.ID, task.ID+100, true); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("an unknown task: %v", err)
		}
		if task, err = w.inc.SetTaskDone(ctx, w.secA, in.ID, task.ID, true); err != nil || !task.Done || task.DoneAt == nil {
			t.Fatalf("done: %+v %v", task, err)
		}
		if task, err = w.inc.SetTaskDone(ctx, w.secA, in.ID, task.ID, false); err != nil || task.Done || task.DoneAt != nil {
			t.Fatalf("undone: %+v %v", task, err)
		}
		got, _ := w.inc.Incident(ctx, w.secA, in.ID)
		if got.Review == nil || got.Review.RootCause != "RDP 端口暴露在互联网" || got.Review.ReviewedBy != "sec-a" {
			t.Fatalf("review %+v", got.Review)
		}
		if len(got.Tasks) != 1 || got.Tasks[0].Assignee != "net-admin" || !got.Tasks[0].Due.Equal(due) {
			t.Fatalf("tasks %+v", got.Tasks)
		}
		want := []string{"incident.open", "incident.review", "incident.task_add", "incident.task_done", "incident.task_undone"}
		if diff := cmp.Diff(want, trailActions(t, db, in.ID)); diff != "" {
			t.Errorf("trail (-want +got):\n%s", diff)
		}
		for _, st := range []string{incident.StatusResolved, incident.StatusClosed} {
			if _, err := w.inc.SetStatus(ctx, w.secA, in.ID, st, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.inc.AddTask(ctx, w.secA, in.ID, incident.TaskInput{Title: "x"}); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("a task on a closed incident: %v", err)
		}
	})
}

// TestQuery: filters by status, level, category and overdue; bad filters are refused.
func TestQuery(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{})
		a, _ := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelLarge))
		bIn := input(w.hospA.ID, incident.LevelGeneral)
		bIn.Category = "data_security"
		b, _ := w.inc.Open(ctx, w.secA, bIn)
		if _, err := w.inc.SetStatus(ctx, w.secA, b.ID, incident.StatusContained, ""); err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(5 * time.Hour)
		ids := func(q incident.Query) []int64 {
			list, err := w.inc.Incidents(ctx, w.secA, q)
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, in := range list {
				out = append(out, in.ID)
			}
			return out
		}
		tests := []struct {
			name string
			q    incident.Query
			want []int64
		}{
			{"all", incident.Query{}, []int64{b.ID, a.ID}},
			{"status", incident.Query{Status: incident.StatusContained}, []int64{b.ID}},
			{"level", incident.Query{Level: incident.LevelLarge}, []int64{a.ID}},
			{"category", incident.Query{Category: "data_security"}, []int64{b.ID}},
			{"overdue", incident.Query{Overdue: true}, []int64{a.ID}},
		}
		for _, tc := range tests {
			if diff := cmp.Diff(tc.want, ids(tc.q)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
		if _, err := w.inc.Incidents(ctx, w.secA, incident.Query{Level: "severe"}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("a bad level: %v", err)
		}
	})
}
