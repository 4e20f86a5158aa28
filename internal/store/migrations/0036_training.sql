-- Training and awareness (package training, 培训与考核): courses of a hospital with the
-- roles that must take them and how often, their sessions and who attended, a question
-- bank per course, exam attempts with the questions drawn for each (so that grading is by
-- the questions shown), and the overdue reminders a sweep sent (so that it sends each
-- once per due period).
CREATE TABLE training_courses (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    hours DOUBLE PRECISION NOT NULL DEFAULT 0,
    all_staff BOOLEAN NOT NULL DEFAULT FALSE,
    roles TEXT NOT NULL DEFAULT '',              -- auth role names, comma-separated
    recurrence_months INTEGER NOT NULL DEFAULT 0, -- 0: once; else a completion holds this long
    need_attendance BOOLEAN NOT NULL DEFAULT TRUE,
    need_exam BOOLEAN NOT NULL DEFAULT FALSE,
    exam_questions INTEGER NOT NULL DEFAULT 10,  -- questions an attempt draws
    pass_percent INTEGER NOT NULL DEFAULT 80,
    time_limit_minutes INTEGER NOT NULL DEFAULT 30,
    max_attempts INTEGER NOT NULL DEFAULT 3,     -- per due period
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX training_courses_org ON training_courses (org_id);

CREATE TABLE training_sessions (
    id {{pk}},
    course_id BIGINT NOT NULL REFERENCES training_courses(id) ON DELETE CASCADE,
    starts_at {{ts}} NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    trainer TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX training_sessions_course ON training_sessions (course_id, starts_at);

CREATE TABLE training_attendance (
    session_id BIGINT NOT NULL REFERENCES training_sessions(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    attended BOOLEAN NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at {{ts}} NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX training_attendance_user ON training_attendance (user_id);

-- The question bank: options and answers (option indexes from 0) as JSON arrays.
CREATE TABLE training_questions (
    id {{pk}},
    course_id BIGINT NOT NULL REFERENCES training_courses(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('single', 'multiple', 'truefalse')),
    text TEXT NOT NULL,
    text_en TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL,
    answer TEXT NOT NULL,
    explanation TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX training_questions_course ON training_questions (course_id);

-- Exam attempts: the questions drawn (with their answers, JSON, never shown before
-- submission), the answers given, and the score once submitted.
CREATE TABLE training_attempts (
    id {{pk}},
    course_id BIGINT NOT NULL REFERENCES training_courses(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seed BIGINT NOT NULL,
    questions TEXT NOT NULL,
    answers TEXT NOT NULL DEFAULT '[]',
    pass_percent INTEGER NOT NULL,
    started_at {{ts}} NOT NULL,
    deadline_at {{ts}} NOT NULL,
    submitted_at {{ts}},
    correct INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    percent INTEGER NOT NULL DEFAULT 0,
    passed BOOLEAN NOT NULL DEFAULT FALSE,
    late BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX training_attempts_user ON training_attempts (user_id, course_id);

-- The overdue reminders a sweep sent, one per user, course and due date.
CREATE TABLE training_reminders (
    dedup_key TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    course_id BIGINT NOT NULL REFERENCES training_courses(id) ON DELETE CASCADE,
    due_since {{ts}} NOT NULL,
    sent_at {{ts}} NOT NULL
);
