// Package training owns training and awareness (培训与考核) of a hospital: courses with
// the roles that must take them (or all staff) and how often (recurrence in months),
// their sessions and attendance, a question bank per course (imported from CSV in UTF-8
// or GBK), exams drawn from it and scored against a pass mark, and the completion of
// required training — who must take what, who is overdue since when (Overdue), the
// completion rate the assessment's automatic check reads (Completion), and a Sweep that
// reminds each overdue person once per due period.
//
// An exam is the course's own (its id is the course's id): an attempt draws the
// course's exam_questions questions in an order fixed by a stored seed and stores them
// with the attempt, so that grading is by the questions shown even when the bank changes.
// Neither the answers nor the explanations leave the service before the attempt is
// submitted: the types a taker sees before (Attempt.Questions) have no field for them.
//
// Managing courses needs the compliance permissions and is limited to the actor's
// subtree (another hospital's course is not found); taking an exam needs only a signed-in
// user, for a course of that user's organisation or one above it.
package training

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Completion rules of a course.
const (
	RuleAttendance = "attendance" // attended a session
	RuleExam       = "exam"       // passed the exam
	RuleBoth       = "both"       // both
)

// Rules lists the completion rules.
var Rules = []string{RuleAttendance, RuleExam, RuleBoth}

// Roles are the auth role names a course may be required for (auth.Roles; kept here so
// that this package does not import auth).
var Roles = []string{"admin", "security_officer", "privacy_officer", "auditor", "it_ops", "app_operator", "regulator"}

// Course is a training course of an organisation, with its exam settings.
type Course struct {
	ID               int64     `json:"id"`
	OrgID            int64     `json:"org_id"`
	OrgName          string    `json:"hospital"`
	Title            string    `json:"title"`
	Description      string    `json:"description"`
	Hours            float64   `json:"hours"`
	AllStaff         bool      `json:"all_staff"`
	Roles            []string  `json:"roles"`
	RecurrenceMonths int       `json:"recurrence_months"`
	Rule             string    `json:"rule"`
	Exam             Exam      `json:"exam"`
	Questions        int       `json:"questions"` // in the bank
	CreatedBy        string    `json:"created_by"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Required reports whether the course is required of anyone.
func (c Course) Required() bool { return c.AllStaff || len(c.Roles) > 0 }

// RequiredOf reports whether the course is required of a user with role.
func (c Course) RequiredOf(role string) bool { return c.AllStaff || slices.Contains(c.Roles, role) }

// Exam are the exam settings of a course.
type Exam struct {
	Questions        int `json:"questions"`    // drawn per attempt
	PassPercent      int `json:"pass_percent"` // 1–100
	TimeLimitMinutes int `json:"time_limit_minutes"`
	MaxAttempts      int `json:"max_attempts"` // per due period
}

// CourseInput is what a person writes of a course. Exam zero values take defaults
// (10 questions, pass 80 %, 30 minutes, 3 attempts).
type CourseInput struct {
	OrgID            int64    `json:"org_id"`
	Title            string   `json:"title"`
	Description      string   `json:"description"`
	Hours            float64  `json:"hours"`
	AllStaff         bool     `json:"all_staff"`
	Roles            []string `json:"roles"`
	RecurrenceMonths int      `json:"recurrence_months"`
	Rule             string   `json:"rule"`
	Exam             Exam     `json:"exam"`
}

// Raiser raises alerts (alert.Service) inside the caller's transaction.
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// Options configures a Service.
type Options struct {
	// Grace is how long after an attempt's time limit a submission is still scored
	// (default 1 minute: the page's own timer submits at the limit).
	Grace time.Duration
	// Seed, optional, gives the seed of a new attempt (default: random). Tests fix it.
	Seed func() int64
	Now  func() time.Time
}

// Service keeps courses, sessions, the question bank and exam attempts.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	alerts Raiser
	opt    Options
}

// New returns the training service on db; changes are trailed in tl and overdue
// reminders raised through alerts (nil: recorded only).
func New(db *store.DB, tl *trail.Log, alerts Raiser, opt Options) *Service {
	if opt.Grace <= 0 {
		opt.Grace = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, trail: tl, alerts: alerts, opt: opt}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// text checks a required or optional text field (problem.Text).
var text = problem.Text

// checkCourse validates and normalises in.
func checkCourse(in CourseInput) (CourseInput, error) {
	var err error
	if in.Title, err = text("title", in.Title, 200, true); err != nil {
		return in, err
	}
	if in.Description, err = text("description", in.Description, 10000, false); err != nil {
		return in, err
	}
	if math.IsNaN(in.Hours) || in.Hours < 0 || in.Hours > 1000 {
		return in, problem.Invalid("hours", "must be 0 to 1000").WithMsg("training.error.hours")
	}
	in.Hours = math.Round(in.Hours*10) / 10
	var roles []string
	for _, r := range in.Roles {
		r = strings.TrimSpace(r)
		if r == "" || slices.Contains(roles, r) {
			continue
		}
		if !slices.Contains(Roles, r) {
			return in, problem.OneOf("roles", Roles...)
		}
		roles = append(roles, r)
	}
	slices.Sort(roles)
	in.Roles = roles
	if in.RecurrenceMonths < 0 || in.RecurrenceMonths > 120 {
		return in, problem.Invalid("recurrence_months", "must be 0 (once) to 120").WithMsg("training.error.recurrence")
	}
	if in.Rule == "" {
		in.Rule = RuleAttendance
	}
	if !slices.Contains(Rules, in.Rule) {
		return in, problem.OneOf("rule", Rules...)
	}
	e := &in.Exam
	if e.Questions == 0 {
		e.Questions = 10
	}
	if e.PassPercent == 0 {
		e.PassPercent = 80
	}
	if e.TimeLimitMinutes == 0 {
		e.TimeLimitMinutes = 30
	}
	if e.MaxAttempts == 0 {
		e.MaxAttempts = 3
	}
	switch {
	case e.Questions < 1 || e.Questions > 200:
		return in, problem.Invalid("exam.questions", "must be 1 to 200").WithMsg("training.error.exam_questions")
	case e.PassPercent < 1 || e.PassPercent > 100:
		return in, problem.Invalid("exam.pass_percent", "must be 1 to 100").WithMsg("training.error.pass_percent")
	case e.TimeLimitMinutes < 1 || e.TimeLimitMinutes > 600:
		return in, problem.Invalid("exam.time_limit_minutes", "must be 1 to 600").WithMsg("training.error.time_limit")
	case e.MaxAttempts < 1 || e.MaxAttempts > 20:
		return in, problem.Invalid("exam.max_attempts", "must be 1 to 20").WithMsg("training.error.max_attempts")
	}
	return in, nil
}

// record appends a trail entry for a change of course c.
func (s *Service) record(ctx context.Context, tx *store.Tx, a actor.Actor, orgID int64, objType string, objID int64,
	action, summary string, key string, args []any, after any) error {
	_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: objType, ObjectID: fmt.Sprint(objID),
		OrgID: orgID, Summary: summary, Msg: trail.Msg(key, args...), After: after})
	return err
}
