package training

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

const courseColumns = `c.id, c.org_id, o.name, o.path, c.title, c.description, c.hours, c.all_staff, c.roles, c.recurrence_months,
	c.need_attendance, c.need_exam, c.exam_questions, c.pass_percent, c.time_limit_minutes, c.max_attempts,
	(SELECT COUNT(*) FROM training_questions q WHERE q.course_id = c.id), c.created_by, c.created_at, c.updated_at`

// course is a Course with its organisation's path.
type course struct {
	Course
	path string
}

func scanCourse(sc store.Scanner) (course, error) {
	var c course
	var roles string
	var att, exam bool
	var created, updated store.Time
	err := sc.Scan(&c.ID, &c.OrgID, &c.OrgName, &c.path, &c.Title, &c.Description, &c.Hours, &c.AllStaff, &roles, &c.RecurrenceMonths,
		&att, &exam, &c.Exam.Questions, &c.Exam.PassPercent, &c.Exam.TimeLimitMinutes, &c.Exam.MaxAttempts, &c.Questions,
		&c.CreatedBy, &created, &updated)
	if err != nil {
		return c, err
	}
	c.Roles = []string{}
	if roles != "" {
		c.Roles = strings.Split(roles, ",")
	}
	switch {
	case att && exam:
		c.Rule = RuleBoth
	case exam:
		c.Rule = RuleExam
	default:
		c.Rule = RuleAttendance
	}
	c.CreatedAt, c.UpdatedAt = created.Time, updated.Time
	return c, nil
}

func ruleFlags(rule string) (attendance, exam bool) {
	return rule != RuleExam, rule != RuleAttendance
}

// CreateCourse records a new course of organisation in.OrgID (a hospital or a
// department a sees).
func (s *Service) CreateCourse(ctx context.Context, a actor.Actor, in CourseInput) (Course, error) {
	in, err := checkCourse(in)
	if err != nil {
		return Course{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
			return problem.Invalid("org_id", "a course belongs to a hospital or a department").WithMsg("training.error.org_kind")
		}
		now := s.now()
		att, exam := ruleFlags(in.Rule)
		if err := tx.QueryRowContext(ctx, `INSERT INTO training_courses (org_id, title, description, hours, all_staff, roles,
			recurrence_months, need_attendance, need_exam, exam_questions, pass_percent, time_limit_minutes, max_attempts,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			o.ID, in.Title, in.Description, in.Hours, in.AllStaff, strings.Join(in.Roles, ","), in.RecurrenceMonths, att, exam,
			in.Exam.Questions, in.Exam.PassPercent, in.Exam.TimeLimitMinutes, in.Exam.MaxAttempts, a.Username, now, now).Scan(&id); err != nil {
			return fmt.Errorf("training: create course: %w", err)
		}
		return s.record(ctx, tx, a, o.ID, "training_course", id, "training.course.create",
			fmt.Sprintf("training course %d %s created", id, in.Title), "trail.summary.training.course.create", []any{id, in.Title}, in)
	})
	if err != nil {
		return Course{}, err
	}
	return s.Course(ctx, a, id)
}

// UpdateCourse replaces what a person writes of course id with in (in.OrgID is ignored:
// a course stays with its organisation).
func (s *Service) UpdateCourse(ctx context.Context, a actor.Actor, id int64, in CourseInput) (Course, error) {
	in, err := checkCourse(in)
	if err != nil {
		return Course{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.course(ctx, tx, a, id)
		if err != nil {
			return err
		}
		att, exam := ruleFlags(in.Rule)
		if _, err := tx.ExecContext(ctx, `UPDATE training_courses SET title = ?, description = ?, hours = ?, all_staff = ?, roles = ?,
			recurrence_months = ?, need_attendance = ?, need_exam = ?, exam_questions = ?, pass_percent = ?, time_limit_minutes = ?,
			max_attempts = ?, updated_at = ? WHERE id = ?`, in.Title, in.Description, in.Hours, in.AllStaff, strings.Join(in.Roles, ","),
			in.RecurrenceMonths, att, exam, in.Exam.Questions, in.Exam.PassPercent, in.Exam.TimeLimitMinutes, in.Exam.MaxAttempts,
			s.now(), id); err != nil {
			return fmt.Errorf("training: update course: %w", err)
		}
		return s.record(ctx, tx, a, c.OrgID, "training_course", id, "training.course.update",
			fmt.Sprintf("training course %d %s updated", id, in.Title), "trail.summary.training.course.update", []any{id, in.Title}, in)
	})
	if err != nil {
		return Course{}, err
	}
	return s.Course(ctx, a, id)
}

// Course returns course id if a sees its organisation.
func (s *Service) Course(ctx context.Context, a actor.Actor, id int64) (Course, error) {
	c, err := s.course(ctx, s.db, a, id)
	return c.Course, err
}

// course reads course id through q, as manager a sees it.
func (s *Service) course(ctx context.Context, q store.Querier, a actor.Actor, id int64) (course, error) {
	cond, arg := a.SeesSQL("o.path")
	c, err := scanCourse(q.QueryRowContext(ctx, `SELECT `+courseColumns+` FROM training_courses c JOIN orgs o ON o.id = c.org_id
		WHERE c.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return c, problem.NotFound("training course")
	}
	if err != nil {
		return c, fmt.Errorf("training: course %d: %w", id, err)
	}
	return c, nil
}

// Courses lists the courses a sees (orgID > 0: of that organisation's subtree), by title.
func (s *Service) Courses(ctx context.Context, a actor.Actor, orgID int64) ([]Course, error) {
	cond, arg := a.SeesSQL("o.path")
	q := `SELECT ` + courseColumns + ` FROM training_courses c JOIN orgs o ON o.id = c.org_id WHERE ` + cond
	args := []any{arg}
	if orgID > 0 {
		o, err := org.Visible(ctx, s.db, a, orgID)
		if err != nil {
			return nil, err
		}
		c2, arg2 := actor.SubtreeSQL("o.path", o.Path)
		q += ` AND ` + c2
		args = append(args, arg2)
	}
	cs, err := store.Collect(ctx, s.db, scanCourse, q+` ORDER BY c.title, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("training: courses: %w", err)
	}
	out := make([]Course, len(cs))
	for i, c := range cs {
		out[i] = c.Course
	}
	return out, nil
}
