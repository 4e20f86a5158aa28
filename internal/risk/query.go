package risk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// levelMsg names level id for a trail summary: its catalogue key when there is one,
// the id itself for a level of a custom matrix.
func (s *Service) levelMsg(id string) any {
	if k := "risk.level." + id; s.cat.Has(i18n.EN, k) && s.cat.Has(i18n.ZhCN, k) {
		return i18n.M(k)
	}
	return id
}

func statusMsg(st string) i18n.Message { return i18n.M("risk.status." + st) }

const riskColumns = `r.id, r.org_id, o.name, r.title, r.description, r.category, r.threat, r.vulnerability,
	r.inherent_likelihood, r.inherent_impact, r.inherent_level, r.inherent_score, r.likelihood, r.impact, r.level, r.score,
	r.owner, r.treatment, r.status, r.next_review_at, r.last_reviewed_at, r.created_by, r.created_at, r.updated_at`

func scanRisk(sc store.Scanner) (Risk, error) {
	var r Risk
	var next, last, created, updated store.Time
	if err := sc.Scan(&r.ID, &r.OrgID, &r.OrgName, &r.Title, &r.Description, &r.Category, &r.Threat, &r.Vulnerability,
		&r.InherentLikelihood, &r.InherentImpact, &r.InherentLevel, &r.InherentScore, &r.Likelihood, &r.Impact, &r.Level, &r.Score,
		&r.Owner, &r.Treatment, &r.Status, &next, &last, &r.CreatedBy, &created, &updated); err != nil {
		return Risk{}, err
	}
	r.NextReviewAt, r.LastReviewedAt, r.CreatedAt, r.UpdatedAt = next.Time, last.Ptr(), created.Time, updated.Time
	r.AssetIDs, r.Sources = []int64{}, []Source{}
	return r, nil
}

// get reads risk id as a sees it, with its assets and sources (another organisation's
// risk is not found).
func (s *Service) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Risk, error) {
	cond, arg := a.SeesSQL("o.path")
	r, err := scanRisk(q.QueryRowContext(ctx, `SELECT `+riskColumns+` FROM risks r JOIN orgs o ON o.id = r.org_id
		WHERE r.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Risk{}, problem.NotFound("risk")
	}
	if err != nil {
		return Risk{}, fmt.Errorf("risk: risk %d: %w", id, err)
	}
	list := []Risk{r}
	if err := s.links(ctx, q, list); err != nil {
		return Risk{}, err
	}
	return list[0], nil
}

// links fills the asset ids and sources of rs.
func (s *Service) links(ctx context.Context, q store.Querier, rs []Risk) error {
	if len(rs) == 0 {
		return nil
	}
	byID := map[int64]*Risk{}
	ids := make([]any, len(rs))
	for i := range rs {
		byID[rs[i].ID], ids[i] = &rs[i], rs[i].ID
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		in := `(` + store.Placeholders(len(chunk)) + `)`
		rows, err := q.QueryContext(ctx, `SELECT risk_id, asset_id FROM risk_assets WHERE risk_id IN `+in+` ORDER BY asset_id`, chunk...)
		if err != nil {
			return fmt.Errorf("risk: assets: %w", err)
		}
		for rows.Next() {
			var rid, aid int64
			if err := rows.Scan(&rid, &aid); err != nil {
				rows.Close()
				return fmt.Errorf("risk: assets: %w", err)
			}
			byID[rid].AssetIDs = append(byID[rid].AssetIDs, aid)
		}
		rows.Close()
		rows, err = q.QueryContext(ctx, `SELECT risk_id, module, source_id FROM risk_sources WHERE risk_id IN `+in+`
			ORDER BY linked_at, module, source_id`, chunk...)
		if err != nil {
			return fmt.Errorf("risk: sources: %w", err)
		}
		for rows.Next() {
			var rid int64
			var src Source
			if err := rows.Scan(&rid, &src.Module, &src.ID); err != nil {
				rows.Close()
				return fmt.Errorf("risk: sources: %w", err)
			}
			byID[rid].Sources = append(byID[rid].Sources, src)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("risk: sources: %w", err)
		}
		rows.Close()
	}
	return nil
}

// Risk returns risk id with its assets, sources, tasks, acceptances and history.
func (s *Service) Risk(ctx context.Context, a actor.Actor, id int64) (Risk, error) {
	r, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return Risk{}, err
	}
	if r.Tasks, err = s.tasks(ctx, s.db, id); err != nil {
		return Risk{}, err
	}
	if r.Acceptances, err = s.acceptances(ctx, s.db, id); err != nil {
		return Risk{}, err
	}
	if r.History, err = s.history(ctx, s.db, id); err != nil {
		return Risk{}, err
	}
	return r, nil
}

// Query narrows Risks and HeatMap. Empty fields match everything; Status "active" is
// every state but closed.
type Query struct {
	Status string // open, treating, accepted, closed, active
	Level  string // a level id of the matrix (the current rating)
	OrgID  int64  // this organisation and its subtree
	Owner  string
	Text   string // in the title, description, threat or vulnerability
	// Rating chooses the rating HeatMap counts: "residual" (default) or "inherent".
	Rating string
	Limit  int // default and at most 500
	Offset int
}

// where turns q into conditions and arguments on risks r joined with orgs o.
func (s *Service) where(ctx context.Context, a actor.Actor, q Query) ([]string, []any, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	switch {
	case q.Status == "active":
		where = append(where, "r.status <> 'closed'")
	case q.Status != "":
		if !slices.Contains(Statuses, q.Status) {
			return nil, nil, problem.OneOf("status", append(Statuses, "active")...)
		}
		where, args = append(where, "r.status = ?"), append(args, q.Status)
	}
	if q.Level != "" {
		if s.m.Rank(q.Level) == 0 {
			ids := []string{}
			for _, b := range s.m.Levels {
				ids = append(ids, b.ID)
			}
			return nil, nil, problem.OneOf("level", ids...)
		}
		where, args = append(where, "r.level = ?"), append(args, q.Level)
	}
	if q.OrgID != 0 {
		var p string
		err := s.db.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, q.OrgID).Scan(&p)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(p)) {
			return nil, nil, problem.NotFound("organisation")
		}
		if err != nil {
			return nil, nil, fmt.Errorf("risk: organisation: %w", err)
		}
		c, v := actor.SubtreeSQL("o.path", p)
		where, args = append(where, c), append(args, v)
	}
	if q.Owner != "" {
		where, args = append(where, "r.owner = ?"), append(args, q.Owner)
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		p := "%" + actor.EscapeLike(strings.ToLower(t)) + "%"
		where = append(where, `(LOWER(r.title) LIKE ? ESCAPE '\' OR LOWER(r.description) LIKE ? ESCAPE '\'
			OR LOWER(r.threat) LIKE ? ESCAPE '\' OR LOWER(r.vulnerability) LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p, p)
	}
	return where, args, nil
}

// Risks lists the risks a sees that match q, most pressing first: current level
// highest first, then current score, then the next review soonest. It returns one page
// and the number of matches.
func (s *Service) Risks(ctx context.Context, a actor.Actor, q Query) ([]Risk, int, error) {
	where, args, err := s.where(ctx, a, q)
	if err != nil {
		return nil, 0, err
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 500
	}
	q.Offset = max(q.Offset, 0)
	from := ` FROM risks r JOIN orgs o ON o.id = r.org_id WHERE ` + strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("risk: risks: %w", err)
	}
	out, err := store.Collect(ctx, s.db, scanRisk, `SELECT `+riskColumns+from+
		` ORDER BY r.level_rank DESC, r.score DESC, r.next_review_at, r.id LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("risk: risks: %w", err)
	}
	if out == nil {
		out = []Risk{}
	}
	if err := s.links(ctx, s.db, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// HeatMap is the matrix with the risks counted in each cell.
type HeatMap struct {
	Matrix *Matrix `json:"matrix"`
	Rating string  `json:"rating"` // residual or inherent
	// Cells[l-1][i-1] is the cell of likelihood l and impact i.
	Cells [][]Cell `json:"cells"`
	Total int      `json:"total"`
}

// Cell is one cell of a heat map: its level, how many risks it holds and their ids (for
// drill-down), most pressing first.
type Cell struct {
	Likelihood int     `json:"likelihood"`
	Impact     int     `json:"impact"`
	Level      string  `json:"level"`
	Count      int     `json:"count"`
	RiskIDs    []int64 `json:"risk_ids"`
}

// HeatMap counts the risks a sees that match q (q.Status defaults to "active": closed
// risks are not on the map) in the cells of their residual rating, or of their inherent
// rating when q.Rating is "inherent".
func (s *Service) HeatMap(ctx context.Context, a actor.Actor, q Query) (HeatMap, error) {
	lc, ic := "r.likelihood", "r.impact"
	switch q.Rating {
	case "", "residual":
		q.Rating = "residual"
	case "inherent":
		lc, ic = "r.inherent_likelihood", "r.inherent_impact"
	default:
		return HeatMap{}, problem.OneOf("rating", "residual", "inherent")
	}
	if q.Status == "" {
		q.Status = "active"
	}
	where, args, err := s.where(ctx, a, q)
	if err != nil {
		return HeatMap{}, err
	}
	hm := HeatMap{Matrix: s.m, Rating: q.Rating}
	for l := 1; l <= len(s.m.Likelihood); l++ {
		row := make([]Cell, len(s.m.Impact))
		for i := range row {
			row[i] = Cell{Likelihood: l, Impact: i + 1, Level: s.m.Level(l, i+1), RiskIDs: []int64{}}
		}
		hm.Cells = append(hm.Cells, row)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, `+lc+`, `+ic+` FROM risks r JOIN orgs o ON o.id = r.org_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY r.level_rank DESC, r.score DESC, r.next_review_at, r.id`, args...)
	if err != nil {
		return HeatMap{}, fmt.Errorf("risk: heat map: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var l, i int
		if err := rows.Scan(&id, &l, &i); err != nil {
			return HeatMap{}, fmt.Errorf("risk: heat map: %w", err)
		}
		if !s.m.Valid(l, i) {
			continue // rated on a larger matrix than the one configured now
		}
		c := &hm.Cells[l-1][i-1]
		c.Count++
		c.RiskIDs = append(c.RiskIDs, id)
		hm.Total++
	}
	return hm, rows.Err()
}
