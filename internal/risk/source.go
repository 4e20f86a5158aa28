package risk

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
)

// link links risk id to src (once).
func (s *Service) link(ctx context.Context, tx *store.Tx, a actor.Actor, id int64, src Source) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO risk_sources (risk_id, module, source_id, linked_by, linked_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (risk_id, module, source_id) DO NOTHING`, id, src.Module, src.ID, a.Username, s.now()); err != nil {
		return fmt.Errorf("risk: link: %w", err)
	}
	return nil
}

// SourceReader reads the facts of a record of another module that a risk comes from
// (joined in internal/app over the alert inbox, the supply chain, the privacy cases, the
// app registry, deliveries …). It reads as actor a sees: a record a does not see is
// problem.NotFound. An unknown module is problem.Invalid.
type SourceReader interface {
	Source(ctx context.Context, a actor.Actor, module string, id int64) (SourceFacts, error)
}

// SourceFacts is what a source says of the risk it suggests: the organisation it
// belongs to, a title and description, and a suggested category, rating, threat,
// vulnerability and assets. Likelihood and Impact are on the service's matrix (0: the
// matrix's middle step).
type SourceFacts struct {
	OrgID         int64
	Title         string
	Description   string
	Category      string
	Threat        string
	Vulnerability string
	Likelihood    int
	Impact        int
	AssetIDs      []int64
}
