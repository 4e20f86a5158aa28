-- Weekly snapshots of a hospital's security score (package overview): Sweep writes the
-- score of the current ISO week (the Monday it starts, YYYY-MM-DD, UTC) for every
-- hospital, replacing the week's earlier snapshot, so that the overview can draw the
-- score's trend over the last twelve weeks. The parts are the score's penalties (JSON).
CREATE TABLE overview_snapshots (
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    week TEXT NOT NULL,
    score INTEGER NOT NULL,
    parts TEXT NOT NULL DEFAULT '{}',
    taken_at {{ts}} NOT NULL,
    PRIMARY KEY (org_id, week)
);
