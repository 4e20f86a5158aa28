package web

import (
	"io"
	"net/http"

	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/training"
)

// Request bodies of the training API that are not domain inputs.
type (
	// attendanceRequest is the body of POST /api/v1/training/sessions/{id}/attendance.
	attendanceRequest struct {
		Attendance []training.Mark `json:"attendance"`
	}
	// submitRequest is the body of POST /api/v1/training/attempts/{id}/submit: per
	// question in the order shown, the indexes (from 0) of the options chosen.
	submitRequest struct {
		Answers [][]int `json:"answers"`
	}
)

func (s *Server) training() (*training.Service, error) {
	if s.Training == nil {
		return nil, problem.NotFound("training")
	}
	return s.Training, nil
}

func (s *Server) apiTrainingCourses(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	org, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	cs, err := t.CourseStats(r.Context(), reqActor(r), org)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, cs)
}

func (s *Server) apiTrainingCourseCreate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	var in training.CourseInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	c, err := t.CreateCourse(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/training/courses/", c.ID), c)
}

// withID runs fn with the service and the path's {id}.
func (s *Server) withTraining(r *http.Request, fn func(t *training.Service, id int64) (any, error)) (any, error) {
	t, err := s.training()
	if err != nil {
		return nil, err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	return fn(t, id)
}

// trainingJSON answers fn's value with status 200.
func (s *Server) trainingJSON(fn func(r *http.Request, t *training.Service, id int64) (any, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.withTraining(r, func(t *training.Service, id int64) (any, error) { return fn(r, t, id) })
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) apiTrainingCourseGet(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		return t.Course(r.Context(), reqActor(r), id)
	})(w, r)
}

func (s *Server) apiTrainingCourseUpdate(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		if _, err := t.Course(r.Context(), reqActor(r), id); err != nil {
			return nil, err
		}
		var in training.CourseInput
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
		return t.UpdateCourse(r.Context(), reqActor(r), id, in)
	})(w, r)
}

func (s *Server) apiTrainingSessions(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		return t.Sessions(r.Context(), reqActor(r), id)
	})(w, r)
}

func (s *Server) apiTrainingSessionAdd(w http.ResponseWriter, r *http.Request) error {
	v, err := s.withTraining(r, func(t *training.Service, id int64) (any, error) {
		if _, err := t.Course(r.Context(), reqActor(r), id); err != nil {
			return nil, err
		}
		var in training.SessionInput
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
		return t.AddSession(r.Context(), reqActor(r), id, in)
	})
	if err != nil {
		return err
	}
	x := v.(training.Session)
	return created(w, idPath("/api/v1/training/sessions/", x.ID), x)
}

func (s *Server) apiTrainingAttendance(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		if _, err := t.Session(r.Context(), reqActor(r), id); err != nil {
			return nil, err
		}
		var in attendanceRequest
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
		return t.RecordAttendance(r.Context(), reqActor(r), id, in.Attendance)
	})(w, r)
}

func (s *Server) apiTrainingQuestions(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		return t.Questions(r.Context(), reqActor(r), id)
	})(w, r)
}

// apiTrainingImport answers POST /api/v1/training/courses/{id}/questions/import: the
// questions added (200), or none and the lines at fault (422).
func (s *Server) apiTrainingImport(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	res, err := s.trainingImport(w, r, t, id)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if len(res.Errors) > 0 {
		code = http.StatusUnprocessableEntity
	}
	return writeJSON(w, code, res)
}

// trainingImport reads the uploaded CSV (body or multipart field "file") and imports it.
func (s *Server) trainingImport(w http.ResponseWriter, r *http.Request, t *training.Service, id int64) (training.ImportResult, error) {
	if _, err := t.Course(r.Context(), reqActor(r), id); err != nil {
		return training.ImportResult{}, err
	}
	f, release, err := importFile(w, r)
	if err != nil {
		return training.ImportResult{}, err
	}
	defer release()
	data, err := io.ReadAll(io.LimitReader(f, training.MaxImportBytes+1))
	if err != nil {
		return training.ImportResult{}, errFileTooLarge()
	}
	return t.ImportQuestions(r.Context(), reqActor(r), id, data)
}

func (s *Server) apiTrainingAttempts(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		return t.Attempts(r.Context(), reqActor(r), id)
	})(w, r)
}

func (s *Server) apiTrainingAttemptStart(w http.ResponseWriter, r *http.Request) error {
	v, err := s.withTraining(r, func(t *training.Service, id int64) (any, error) {
		return t.StartAttempt(r.Context(), reqActor(r), id)
	})
	if err != nil {
		return err
	}
	x := v.(training.Attempt)
	return created(w, idPath("/api/v1/training/attempts/", x.ID), x)
}

func (s *Server) apiTrainingAttemptGet(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		return t.Attempt(r.Context(), reqActor(r), id)
	})(w, r)
}

func (s *Server) apiTrainingSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.trainingJSON(func(r *http.Request, t *training.Service, id int64) (any, error) {
		if _, err := t.Attempt(r.Context(), reqActor(r), id); err != nil {
			return nil, err
		}
		var in submitRequest
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
		return t.Submit(r.Context(), reqActor(r), id, in.Answers)
	})(w, r)
}

func (s *Server) apiTrainingOverdue(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	org, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	od, err := t.Overdue(r.Context(), reqActor(r), org)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, od)
}

func (s *Server) apiTrainingMine(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	m, err := t.Mine(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func init() {
	const tag = "training"
	apiDocs["GET /api/v1/training/courses"] = apiOp{Summary: "The training courses of the caller's organisation (or org_id) and above it, " +
		"each with its completion among those who must take it", Tag: tag, Response: listResponse[training.CourseStat]{}, Status: 200, Query: []string{"org_id"}}
	apiDocs["POST /api/v1/training/courses"] = apiOp{Summary: "Create a course: hours, roles that must take it or all staff, recurrence in months, " +
		"completion rule (attendance, exam, both) and exam settings (org_id defaults to the caller's organisation)",
		Tag: tag, Request: training.CourseInput{}, Response: training.Course{}, Status: 201}
	apiDocs["GET /api/v1/training/courses/{id}"] = apiOp{Summary: "A course with its exam settings", Tag: tag, Response: training.Course{}, Status: 200}
	apiDocs["PUT /api/v1/training/courses/{id}"] = apiOp{Summary: "Change a course and its exam settings", Tag: tag,
		Request: training.CourseInput{}, Response: training.Course{}, Status: 200}
	apiDocs["GET /api/v1/training/courses/{id}/sessions"] = apiOp{Summary: "The sessions of a course, latest first, with attendance",
		Tag: tag, Response: []training.Session{}, Status: 200}
	apiDocs["POST /api/v1/training/courses/{id}/sessions"] = apiOp{Summary: "Add a session: start time, place or online link, trainer",
		Tag: tag, Request: training.SessionInput{}, Response: training.Session{}, Status: 201}
	apiDocs["POST /api/v1/training/sessions/{id}/attendance"] = apiOp{Summary: "Record who attended a session (by user name; a later mark replaces an earlier one)",
		Tag: tag, Request: attendanceRequest{}, Response: training.Session{}, Status: 200}
	apiDocs["GET /api/v1/training/courses/{id}/questions"] = apiOp{Summary: "The question bank of a course, with the answers",
		Tag: tag, Response: []training.Question{}, Status: 200}
	apiDocs["POST /api/v1/training/courses/{id}/questions/import"] = apiOp{Summary: "Import questions from CSV (UTF-8 or GBK; header " +
		"type,question,option_a…option_h,answer,explanation[,question_en]): all added (200) or none, with the lines at fault (422)",
		Tag: tag, Body: "text/csv", Response: training.ImportResult{}, Status: 200}
	apiDocs["GET /api/v1/training/courses/{id}/attempts"] = apiOp{Summary: "The exam attempts of a course's takers with their scores, newest first",
		Tag: tag, Response: []training.AttemptSummary{}, Status: 200}
	apiDocs["POST /api/v1/training/exams/{id}/attempts"] = apiOp{Summary: "Start an attempt at the exam of course {id} (or resume the open one): " +
		"the questions drawn, without answers", Tag: tag, Response: training.Attempt{}, Status: 201}
	apiDocs["GET /api/v1/training/attempts/{id}"] = apiOp{Summary: "One of the caller's own attempts: questions only before submission, " +
		"the result with right answers and explanations after", Tag: tag, Response: training.Attempt{}, Status: 200}
	apiDocs["POST /api/v1/training/attempts/{id}/submit"] = apiOp{Summary: "Submit the answers of an attempt (per question, the indexes of the options " +
		"chosen): scored against the pass mark; late submissions score 0", Tag: tag, Request: submitRequest{}, Response: training.Attempt{}, Status: 200}
	apiDocs["GET /api/v1/training/overdue"] = apiOp{Summary: "Who is overdue with required training (user, course, due since), longest first",
		Tag: tag, Response: listResponse[training.OverdueItem]{}, Status: 200, Query: []string{"org_id"}}
	apiDocs["GET /api/v1/training/mine"] = apiOp{Summary: "The caller's courses: required ones first, where they stand, their attempts",
		Tag: tag, Response: []training.MyCourse{}, Status: 200}
}
