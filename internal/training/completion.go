package training

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Status is where a user stands with a course: when they last completed it (by its
// rule), until when that holds, and, when it does not (never completed, or expired),
// since when they are due.
type Status struct {
	Done        bool       `json:"done"`
	CompletedAt *time.Time `json:"completed_at"`
	ValidUntil  *time.Time `json:"valid_until"` // nil: holds for good (a course taken once)
	DueSince    *time.Time `json:"due_since"`   // set when not done
}

// user is a user as completion needs them.
type user struct {
	ID          int64
	Username    string
	DisplayName string
	Role        string
	OrgID       int64
	path        string
	CreatedAt   time.Time
}

type pair struct{ user, course int64 }

// ancestors returns path and the paths of the nodes above it ("/1/4/" → "/1/", "/1/4/").
func ancestors(path string) []string {
	var out []string
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i+1])
		}
	}
	return out
}

// scope loads the enabled users of the subtree at root and the courses that can apply
// to them: those of the subtree and of the nodes above root.
func (s *Service) scope(ctx context.Context, q store.Querier, root string) ([]user, []course, error) {
	cond, arg := actor.SubtreeSQL("uo.path", root)
	us, err := store.Collect(ctx, q, func(sc store.Scanner) (user, error) {
		var u user
		var created store.Time
		err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.OrgID, &u.path, &created)
		u.CreatedAt = created.Time
		return u, err
	}, `SELECT u.id, u.username, u.display_name, u.role, u.org_id, uo.path, u.created_at FROM users u JOIN orgs uo ON uo.id = u.org_id
		WHERE NOT u.disabled AND `+cond+` ORDER BY u.username`, arg)
	if err != nil {
		return nil, nil, fmt.Errorf("training: users: %w", err)
	}
	ccond, carg := actor.SubtreeSQL("o.path", root)
	args := []any{carg}
	where := ccond
	if up := ancestors(root); len(up) > 0 {
		where = "(" + ccond + " OR o.path IN (" + store.Placeholders(len(up)) + "))"
		for _, p := range up {
			args = append(args, p)
		}
	}
	cs, err := store.Collect(ctx, q, scanCourse, `SELECT `+courseColumns+` FROM training_courses c JOIN orgs o ON o.id = c.org_id
		WHERE `+where+` ORDER BY c.title, c.id`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("training: courses: %w", err)
	}
	return us, cs, nil
}

// applies reports whether course c is required of user u.
func applies(c course, u user) bool {
	return org.Contains(c.path, u.path) && c.RequiredOf(u.Role)
}

// statuses computes the status of every user of us with every course of cs at now.
func (s *Service) statuses(ctx context.Context, q store.Querier, cs []Course, us []user, now time.Time) (map[pair]Status, error) {
	out := map[pair]Status{}
	if len(cs) == 0 || len(us) == 0 {
		return out, nil
	}
	ids := make([]any, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	wanted := map[int64]bool{}
	for _, u := range us {
		wanted[u.ID] = true
	}
	latest := func(query string) (map[pair]time.Time, error) {
		m := map[pair]time.Time{}
		rows, err := q.QueryContext(ctx, query, append(ids, now)...)
		if err != nil {
			return nil, fmt.Errorf("training: completion: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p pair
			var at store.Time
			if err := rows.Scan(&p.user, &p.course, &at); err != nil {
				return nil, fmt.Errorf("training: completion: %w", err)
			}
			if wanted[p.user] && at.Valid {
				m[p] = at.Time
			}
		}
		return m, rows.Err()
	}
	in := store.Placeholders(len(cs))
	attended, err := latest(`SELECT a.user_id, t.course_id, MAX(t.starts_at) FROM training_attendance a
		JOIN training_sessions t ON t.id = a.session_id WHERE a.attended AND t.course_id IN (` + in + `) AND t.starts_at <= ?
		GROUP BY a.user_id, t.course_id`)
	if err != nil {
		return nil, err
	}
	passed, err := latest(`SELECT user_id, course_id, MAX(submitted_at) FROM training_attempts
		WHERE passed AND course_id IN (` + in + `) AND submitted_at <= ? GROUP BY user_id, course_id`)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		for _, u := range us {
			p := pair{u.ID, c.ID}
			at, okA := attended[p]
			ps, okP := passed[p]
			var done *time.Time
			switch c.Rule {
			case RuleAttendance:
				if okA {
					done = &at
				}
			case RuleExam:
				if okP {
					done = &ps
				}
			default:
				if okA && okP {
					done = &at
					if ps.Before(at) {
						done = &ps
					}
				}
			}
			var st Status
			st.CompletedAt = done
			if done != nil && c.RecurrenceMonths > 0 {
				v := done.AddDate(0, c.RecurrenceMonths, 0)
				st.ValidUntil = &v
			}
			st.Done = done != nil && (st.ValidUntil == nil || st.ValidUntil.After(now))
			if !st.Done {
				due := c.CreatedAt
				if u.CreatedAt.After(due) {
					due = u.CreatedAt
				}
				if st.ValidUntil != nil {
					due = *st.ValidUntil
				}
				st.DueSince = &due
			}
			out[p] = st
		}
	}
	return out, nil
}

// requirement is one user who must take one course, and where they stand.
type requirement struct {
	u user
	c course
	Status
}

// requirements lists who in the subtree at root must take what, and where they stand.
func (s *Service) requirements(ctx context.Context, q store.Querier, root string, now time.Time) ([]requirement, []course, error) {
	us, cs, err := s.scope(ctx, q, root)
	if err != nil {
		return nil, nil, err
	}
	plain := make([]Course, len(cs))
	for i, c := range cs {
		plain[i] = c.Course
	}
	st, err := s.statuses(ctx, q, plain, us, now)
	if err != nil {
		return nil, nil, err
	}
	var out []requirement
	for _, c := range cs {
		for _, u := range us {
			if applies(c, u) {
				out = append(out, requirement{u: u, c: c, Status: st[pair{u.ID, c.ID}]})
			}
		}
	}
	return out, cs, nil
}

// Completion counts, for organisation orgID and the organisations below it, the
// required trainings (each enabled user times each course required of their role, of
// their organisation or one above it) and those done: completed by the course's rule and
// not expired. It is the automatic-evidence check "training.completion".
func (s *Service) Completion(ctx context.Context, orgID int64) (required, done int, err error) {
	o, err := org.Visible(ctx, s.db, actor.System(), orgID)
	if err != nil {
		return 0, 0, err
	}
	rs, _, err := s.requirements(ctx, s.db, o.Path, s.now())
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rs {
		if r.Done {
			done++
		}
	}
	return len(rs), done, nil
}

// OverdueItem is a user who has not completed (or whose completion expired) a course
// required of them, since DueSince.
type OverdueItem struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	OrgID       int64     `json:"org_id"`
	CourseID    int64     `json:"course_id"`
	CourseTitle string    `json:"course_title"`
	DueSince    time.Time `json:"due_since"`
	Expired     bool      `json:"expired"` // completed once, the completion has run out
}

// root returns the path of organisation orgID as a sees it (0: a's own node).
func root(ctx context.Context, q store.Querier, a actor.Actor, orgID int64) (string, error) {
	if orgID == 0 {
		if a.OrgPath == "" {
			return "", problem.NotFound("organisation")
		}
		return a.OrgPath, nil
	}
	o, err := org.Visible(ctx, q, a, orgID)
	return o.Path, err
}

// Overdue lists, for organisation orgID (0: a's own) and below, who is overdue with a
// required course, longest overdue first. For reports and the dashboard.
func (s *Service) Overdue(ctx context.Context, a actor.Actor, orgID int64) ([]OverdueItem, error) {
	p, err := root(ctx, s.db, a, orgID)
	if err != nil {
		return nil, err
	}
	return s.overdue(ctx, s.db, p, s.now())
}

func (s *Service) overdue(ctx context.Context, q store.Querier, p string, now time.Time) ([]OverdueItem, error) {
	rs, _, err := s.requirements(ctx, q, p, now)
	if err != nil {
		return nil, err
	}
	out := []OverdueItem{}
	for _, r := range rs {
		if r.Done {
			continue
		}
		out = append(out, OverdueItem{UserID: r.u.ID, Username: r.u.Username, DisplayName: r.u.DisplayName, OrgID: r.u.OrgID,
			CourseID: r.c.ID, CourseTitle: r.c.Title, DueSince: *r.DueSince, Expired: r.CompletedAt != nil})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].DueSince.Equal(out[j].DueSince) {
			return out[i].DueSince.Before(out[j].DueSince)
		}
		if out[i].Username != out[j].Username {
			return out[i].Username < out[j].Username
		}
		return out[i].CourseID < out[j].CourseID
	})
	return out, nil
}

// CourseStat is the completion of one course among those who must take it.
type CourseStat struct {
	Course
	Required int `json:"required"`
	Done     int `json:"done"`
	Percent  int `json:"percent"` // done × 100 / required; 100 when nobody must take it
}

// CourseStats lists the courses of organisation orgID (0: a's own) and above it, with
// their completion among the users of orgID's subtree.
func (s *Service) CourseStats(ctx context.Context, a actor.Actor, orgID int64) ([]CourseStat, error) {
	p, err := root(ctx, s.db, a, orgID)
	if err != nil {
		return nil, err
	}
	rs, cs, err := s.requirements(ctx, s.db, p, s.now())
	if err != nil {
		return nil, err
	}
	byID := map[int64]*CourseStat{}
	out := make([]CourseStat, len(cs))
	for i, c := range cs {
		out[i] = CourseStat{Course: c.Course}
		byID[c.ID] = &out[i]
	}
	for _, r := range rs {
		st := byID[r.c.ID]
		st.Required++
		if r.Done {
			st.Done++
		}
	}
	for i := range out {
		out[i].Percent = 100
		if out[i].Required > 0 {
			out[i].Percent = out[i].Done * 100 / out[i].Required
		}
	}
	return out, nil
}

// MyCourse is a course that applies to the signed-in user: required of their role, or
// open to all of their organisation with an exam.
type MyCourse struct {
	Course
	Required     bool            `json:"required"`
	Status       Status          `json:"status"`
	AttemptsUsed int             `json:"attempts_used"` // in the current due period
	Attempts     []AttemptResult `json:"attempts"`
}

// AttemptResult is one of the user's own attempts at a course's exam.
type AttemptResult struct {
	ID          int64      `json:"id"`
	StartedAt   time.Time  `json:"started_at"`
	SubmittedAt *time.Time `json:"submitted_at"`
	Percent     int        `json:"percent"`
	Passed      bool       `json:"passed"`
}

// Mine lists the courses that apply to user a (required first) with where a stands and
// a's attempts.
func (s *Service) Mine(ctx context.Context, a actor.Actor) ([]MyCourse, error) {
	if a.UserID == 0 {
		return []MyCourse{}, nil
	}
	now := s.now()
	var u user
	var created store.Time
	if err := s.db.QueryRowContext(ctx, `SELECT u.id, u.username, u.display_name, u.role, u.org_id, uo.path, u.created_at FROM users u
		JOIN orgs uo ON uo.id = u.org_id WHERE u.id = ?`, a.UserID).Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.OrgID, &u.path, &created); err != nil {
		return nil, fmt.Errorf("training: mine: %w", err)
	}
	u.CreatedAt = created.Time
	up := ancestors(u.path)
	if len(up) == 0 {
		return []MyCourse{}, nil
	}
	args := make([]any, len(up))
	for i, p := range up {
		args[i] = p
	}
	cs, err := store.Collect(ctx, s.db, scanCourse, `SELECT `+courseColumns+` FROM training_courses c JOIN orgs o ON o.id = c.org_id
		WHERE o.path IN (`+store.Placeholders(len(up))+`) ORDER BY c.title, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("training: mine: %w", err)
	}
	var mine []Course
	for _, c := range cs {
		if c.RequiredOf(u.Role) || (!c.Required() && c.Rule != RuleAttendance) {
			mine = append(mine, c.Course)
		}
	}
	st, err := s.statuses(ctx, s.db, mine, []user{u}, now)
	if err != nil {
		return nil, err
	}
	out := []MyCourse{}
	for _, c := range mine {
		m := MyCourse{Course: c, Required: c.Required(), Status: st[pair{u.ID, c.ID}], Attempts: []AttemptResult{}}
		xs, err := store.Collect(ctx, s.db, scanAttempt, `SELECT `+attemptColumns+` FROM training_attempts t
			JOIN training_courses c ON c.id = t.course_id JOIN users u ON u.id = t.user_id WHERE t.course_id = ? AND t.user_id = ? ORDER BY t.id DESC`, c.ID, u.ID)
		if err != nil {
			return nil, fmt.Errorf("training: mine: %w", err)
		}
		from, err := s.periodStart(ctx, s.db, c, u.ID, now)
		if err != nil {
			return nil, err
		}
		for _, x := range xs {
			m.Attempts = append(m.Attempts, AttemptResult{ID: x.ID, StartedAt: x.StartedAt, SubmittedAt: x.SubmittedAt, Percent: x.percent, Passed: x.passed})
			if !x.StartedAt.Before(from) {
				m.AttemptsUsed++
			}
		}
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Required && !out[j].Required })
	return out, nil
}

// SweepResult counts what a Sweep did. A second Sweep in the same due periods counts
// nothing.
type SweepResult struct {
	Overdue  int `json:"overdue"`  // users × courses overdue
	Reminded int `json:"reminded"` // reminders sent now
}

// KindOverdue is the kind of the alert a reminder raises (source "training").
const KindOverdue = "training.overdue"

// Sweep finds, as the platform at time now, every user overdue with a required course
// and reminds each once per due period (keyed by user, course and the date due since,
// kept in training_reminders). The reminder is an alert of the user's organisation
// (source "training", kind training.overdue, low severity, Account the user's name):
// notify has no path to one user's inbox that is not an alert, and an alert reaches the
// user's inbox through a notification route (role or user) as well as the officers'
// alert list. Run it periodically (the scheduler in internal/app).
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var res SweepResult
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		items, err := s.overdue(ctx, tx, "/", now)
		if err != nil {
			return err
		}
		res.Overdue = len(items)
		for _, it := range items {
			date := it.DueSince.Format(time.DateOnly)
			key := KindOverdue + ":" + strconv.FormatInt(it.UserID, 10) + ":" + strconv.FormatInt(it.CourseID, 10) + ":" + date
			r, err := tx.ExecContext(ctx, `INSERT INTO training_reminders (dedup_key, user_id, course_id, due_since, sent_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`, key, it.UserID, it.CourseID, it.DueSince, now)
			if err != nil {
				return fmt.Errorf("training: reminder: %w", err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				continue
			}
			res.Reminded++
			if s.alerts == nil {
				continue
			}
			if _, _, err := s.alerts.Raise(ctx, tx, alert.Input{OrgID: it.OrgID, Source: "training", Kind: KindOverdue,
				Severity: alert.SeverityLow, Title: i18n.M("training.alert.overdue", it.Username, it.CourseTitle, date),
				Subject: "user " + it.Username, Account: it.Username, DedupKey: key, At: now,
				Evidence: map[string]any{"user_id": it.UserID, "course_id": it.CourseID, "due_since": it.DueSince, "expired": it.Expired,
					"link": "/training/mine"}}); err != nil {
				return fmt.Errorf("training: reminder: %w", err)
			}
		}
		return nil
	})
	return res, err
}

// Reminders lists when user uid was reminded of course courseID (for tests and the
// course page), oldest first.
func (s *Service) Reminders(ctx context.Context, uid, courseID int64) ([]time.Time, error) {
	out, err := store.Collect(ctx, s.db, func(sc store.Scanner) (time.Time, error) {
		var t store.Time
		err := sc.Scan(&t)
		return t.Time, err
	}, `SELECT due_since FROM training_reminders WHERE user_id = ? AND course_id = ? ORDER BY due_since`, uid, courseID)
	if err != nil {
		return nil, fmt.Errorf("training: reminders: %w", err)
	}
	return out, nil
}
