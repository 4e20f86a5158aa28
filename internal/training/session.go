package training

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Session is one delivery of a course: when, where (a place or an online link), by whom.
type Session struct {
	ID        int64        `json:"id"`
	CourseID  int64        `json:"course_id"`
	StartsAt  time.Time    `json:"starts_at"`
	Place     string       `json:"place"`
	Link      string       `json:"link"`
	Trainer   string       `json:"trainer"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	Attendees []Attendance `json:"attendance"`
}

// SessionInput is what a person writes of a session.
type SessionInput struct {
	StartsAt time.Time `json:"starts_at"`
	Place    string    `json:"place"`
	Link     string    `json:"link"`
	Trainer  string    `json:"trainer"`
}

// Attendance is whether a user attended a session, and who recorded it.
type Attendance struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Attended    bool      `json:"attended"`
	RecordedBy  string    `json:"recorded_by"`
	RecordedAt  time.Time `json:"recorded_at"`
}

// Mark is one line of an attendance record: a user (by name) attended or not.
type Mark struct {
	Username string `json:"username"`
	Attended bool   `json:"attended"`
}

func checkSession(in SessionInput) (SessionInput, error) {
	var err error
	if in.StartsAt.IsZero() {
		return in, problem.Required("starts_at")
	}
	in.StartsAt = in.StartsAt.UTC().Truncate(time.Second)
	if in.Place, err = text("place", in.Place, 200, false); err != nil {
		return in, err
	}
	if in.Trainer, err = text("trainer", in.Trainer, 100, false); err != nil {
		return in, err
	}
	if in.Link, err = text("link", in.Link, 500, false); err != nil {
		return in, err
	}
	if in.Link != "" {
		u, err := url.Parse(in.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return in, problem.Invalid("link", "must be an http(s) address").WithMsg("training.error.link")
		}
	}
	if in.Place == "" && in.Link == "" {
		return in, problem.Invalid("place", "a session needs a place or an online link").WithMsg("training.error.place")
	}
	return in, nil
}

// AddSession adds a session to course courseID.
func (s *Service) AddSession(ctx context.Context, a actor.Actor, courseID int64, in SessionInput) (Session, error) {
	in, err := checkSession(in)
	if err != nil {
		return Session{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.course(ctx, tx, a, courseID)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO training_sessions (course_id, starts_at, place, link, trainer, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.ID, in.StartsAt, in.Place, in.Link, in.Trainer, a.Username, s.now()).Scan(&id); err != nil {
			return fmt.Errorf("training: add session: %w", err)
		}
		when := in.StartsAt.Format("2006-01-02 15:04")
		return s.record(ctx, tx, a, c.OrgID, "training_session", id, "training.session.create",
			fmt.Sprintf("session %d of training course %d %s on %s", id, c.ID, c.Title, when),
			"trail.summary.training.session.create", []any{id, c.ID, c.Title, when}, in)
	})
	if err != nil {
		return Session{}, err
	}
	return s.Session(ctx, a, id)
}

const sessionColumns = `t.id, t.course_id, t.starts_at, t.place, t.link, t.trainer, t.created_by, t.created_at`

func scanSession(sc store.Scanner) (Session, error) {
	var x Session
	var starts, created store.Time
	err := sc.Scan(&x.ID, &x.CourseID, &starts, &x.Place, &x.Link, &x.Trainer, &x.CreatedBy, &created)
	x.StartsAt, x.CreatedAt = starts.Time, created.Time
	x.Attendees = []Attendance{}
	return x, err
}

// session reads session id and its course through q, as manager a sees them.
func (s *Service) session(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Session, course, error) {
	cond, arg := a.SeesSQL("o.path")
	x, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM training_sessions t
		JOIN training_courses c ON c.id = t.course_id JOIN orgs o ON o.id = c.org_id WHERE t.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return x, course{}, problem.NotFound("training session")
	}
	if err != nil {
		return x, course{}, fmt.Errorf("training: session %d: %w", id, err)
	}
	c, err := s.course(ctx, q, a, x.CourseID)
	return x, c, err
}

// Session returns session id with its attendance.
func (s *Service) Session(ctx context.Context, a actor.Actor, id int64) (Session, error) {
	x, _, err := s.session(ctx, s.db, a, id)
	if err != nil {
		return x, err
	}
	x.Attendees, err = s.attendance(ctx, s.db, id)
	return x, err
}

func (s *Service) attendance(ctx context.Context, q store.Querier, sessionID int64) ([]Attendance, error) {
	out, err := store.Collect(ctx, q, func(sc store.Scanner) (Attendance, error) {
		var x Attendance
		var at store.Time
		err := sc.Scan(&x.UserID, &x.Username, &x.DisplayName, &x.Attended, &x.RecordedBy, &at)
		x.RecordedAt = at.Time
		return x, err
	}, `SELECT u.id, u.username, u.display_name, a.attended, a.recorded_by, a.recorded_at FROM training_attendance a
		JOIN users u ON u.id = a.user_id WHERE a.session_id = ? ORDER BY u.username`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("training: attendance: %w", err)
	}
	if out == nil {
		out = []Attendance{}
	}
	return out, nil
}

// Sessions lists the sessions of course courseID, latest first, with their attendance.
func (s *Service) Sessions(ctx context.Context, a actor.Actor, courseID int64) ([]Session, error) {
	if _, err := s.course(ctx, s.db, a, courseID); err != nil {
		return nil, err
	}
	xs, err := store.Collect(ctx, s.db, scanSession, `SELECT `+sessionColumns+` FROM training_sessions t
		WHERE t.course_id = ? ORDER BY t.starts_at DESC, t.id DESC`, courseID)
	if err != nil {
		return nil, fmt.Errorf("training: sessions: %w", err)
	}
	for i := range xs {
		if xs[i].Attendees, err = s.attendance(ctx, s.db, xs[i].ID); err != nil {
			return nil, err
		}
	}
	if xs == nil {
		xs = []Session{}
	}
	return xs, nil
}

// RecordAttendance records, for session sessionID, whether each user marked attended
// (replacing an earlier mark of the same user). Each user must belong to the course's
// organisation or below it.
func (s *Service) RecordAttendance(ctx context.Context, a actor.Actor, sessionID int64, marks []Mark) (Session, error) {
	if len(marks) == 0 {
		return Session{}, problem.Required("attendance")
	}
	if len(marks) > 2000 {
		return Session{}, problem.Invalid("attendance", "at most 2000 lines").WithMsg("training.error.too_many_marks", 2000)
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		x, c, err := s.session(ctx, tx, a, sessionID)
		if err != nil {
			return err
		}
		now := s.now()
		cond := actor.ContainsSQL("co.path", "uo.path")
		n, present := 0, 0
		for _, m := range marks {
			var uid int64
			err := tx.QueryRowContext(ctx, `SELECT u.id FROM users u JOIN orgs uo ON uo.id = u.org_id JOIN orgs co ON co.id = ?
				WHERE u.username = ? AND `+cond, c.OrgID, m.Username).Scan(&uid)
			if errors.Is(err, sql.ErrNoRows) {
				return problem.Invalid("attendance", "names someone who is not a user of the course's organisation").
					WithMsg("training.error.attendee")
			}
			if err != nil {
				return fmt.Errorf("training: attendance: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO training_attendance (session_id, user_id, attended, recorded_by, recorded_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, user_id) DO UPDATE SET attended = excluded.attended,
				recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at`, x.ID, uid, m.Attended, a.Username, now); err != nil {
				return fmt.Errorf("training: attendance: %w", err)
			}
			n++
			if m.Attended {
				present++
			}
		}
		return s.record(ctx, tx, a, c.OrgID, "training_session", x.ID, "training.attendance",
			fmt.Sprintf("attendance of session %d of training course %s recorded: %d of %d present", x.ID, c.Title, present, n),
			"trail.summary.training.attendance", []any{x.ID, c.Title, present, n}, marks)
	})
	if err != nil {
		return Session{}, err
	}
	return s.Session(ctx, a, sessionID)
}
