-- Emergency plans and drills (package incident, plan.go and drill.go): a hospital's plans
-- adopted from the built-in templates, their approved versions, the checklists run for
-- incidents, drills and their improvement tasks.
CREATE TABLE plans (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    template_id TEXT NOT NULL DEFAULT '',       -- the template it was adopted from
    title TEXT NOT NULL,                        -- the title in the plan's first language, for lists
    content TEXT NOT NULL,                      -- roles, people, steps and checklist, as JSON
    version INTEGER NOT NULL,                   -- raised by every edit
    status TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at {{ts}},
    review_due {{ts}},                          -- when the plan is to be reviewed again
    drill_alerted_at {{ts}},                    -- the sweep raised "not drilled" (cleared by a drill)
    review_alerted_at {{ts}},                   -- the sweep raised "review overdue" (cleared by an approval)
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX plans_org ON plans (org_id);

-- Every approved version, as it was approved.
CREATE TABLE plan_versions (
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    version INTEGER NOT NULL,
    content TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at {{ts}} NOT NULL,
    PRIMARY KEY (plan_id, version)
);

-- A plan's checklist instantiated for an incident. incident_id names an incident of
-- package incident without a foreign key (the incidents table is another migration's).
CREATE TABLE plan_runs (
    id {{pk}},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    plan_version INTEGER NOT NULL,
    incident_id BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    started_at {{ts}} NOT NULL,
    UNIQUE (incident_id, plan_id)
);
CREATE INDEX plan_runs_plan ON plan_runs (plan_id);

CREATE TABLE plan_run_items (
    id {{pk}},
    run_id BIGINT NOT NULL REFERENCES plan_runs(id),
    position INTEGER NOT NULL,
    item_key TEXT NOT NULL,                     -- the plan's item id
    phase TEXT NOT NULL,
    role TEXT NOT NULL,
    text_en TEXT NOT NULL,
    text_zh TEXT NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    done_by TEXT NOT NULL DEFAULT '',
    done_at {{ts}},
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX plan_run_items_run ON plan_run_items (run_id, position);

-- A drill of a plan (tabletop, functional, full-scale) with its timings.
CREATE TABLE plan_drills (
    id {{pk}},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    held_on {{ts}} NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('tabletop', 'functional', 'full_scale')),
    scenario TEXT NOT NULL,
    participants TEXT NOT NULL,                 -- JSON list of names
    started_at {{ts}},
    detected_at {{ts}},
    contained_at {{ts}},
    recovered_at {{ts}},
    findings TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX plan_drills_plan ON plan_drills (plan_id, held_on);

-- Improvement tasks a drill found, tracked to closure.
CREATE TABLE plan_drill_tasks (
    id {{pk}},
    drill_id BIGINT NOT NULL REFERENCES plan_drills(id),
    title TEXT NOT NULL,
    assignee TEXT NOT NULL,
    due_at {{ts}} NOT NULL,
    done_at {{ts}},
    done_by TEXT NOT NULL DEFAULT '',
    overdue_alerted_at {{ts}},                  -- the sweep raised "overdue" for it
    created_at {{ts}} NOT NULL
);
CREATE INDEX plan_drill_tasks_open ON plan_drill_tasks (due_at);
