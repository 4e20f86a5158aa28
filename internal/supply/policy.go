package supply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// LicencePolicy returns the licence policy in force for organisation orgID: its own, else
// the nearest ancestor's, else licence.DefaultPolicy.
func (s *Service) LicencePolicy(ctx context.Context, a actor.Actor, orgID int64) (licence.Policy, error) {
	o, err := org.Visible(ctx, s.db, a, orgID)
	if err != nil {
		return licence.Policy{}, err
	}
	return policyAt(ctx, s.db, o.Path)
}

// policyAt returns the policy of the deepest node on path that has one.
func policyAt(ctx context.Context, q store.Querier, path string) (licence.Policy, error) {
	var ids []any
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return licence.DefaultPolicy(), nil
	}
	rows, err := q.QueryContext(ctx, `SELECT org_id, policy FROM licence_policies WHERE org_id IN (`+store.Placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return licence.Policy{}, fmt.Errorf("supply: licence policy: %w", err)
	}
	defer rows.Close()
	found := map[int64]string{}
	for rows.Next() {
		var id int64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			return licence.Policy{}, fmt.Errorf("supply: licence policy: %w", err)
		}
		found[id] = p
	}
	if err := rows.Err(); err != nil {
		return licence.Policy{}, fmt.Errorf("supply: licence policy: %w", err)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		if p, ok := found[ids[i].(int64)]; ok {
			var pol licence.Policy
			if err := json.Unmarshal([]byte(p), &pol); err != nil {
				return licence.Policy{}, fmt.Errorf("supply: stored licence policy: %w", err)
			}
			return pol, nil
		}
	}
	return licence.DefaultPolicy(), nil
}

// SetLicencePolicy stores the licence policy of organisation orgID from a YAML or JSON
// document, and re-judges the licences of the stored components below it.
func (s *Service) SetLicencePolicy(ctx context.Context, a actor.Actor, orgID int64, doc []byte) (licence.Policy, error) {
	pol, err := licence.ParsePolicy(doc)
	if err != nil {
		var pe *licence.PolicyError
		if !errors.As(err, &pe) {
			return licence.Policy{}, problem.Invalid("policy", "not a readable licence policy").WithMsg("supply.error.msg.policy_not_readable").WithErr(err)
		}
		msg := pe.Safe() // the line and place, never the value at fault
		return licence.Policy{}, problem.Invalid("policy", "%s", msg).WithMsg("supply.error.msg.policy_unreadable", msg).WithErr(err)
	}
	b, err := json.Marshal(pol)
	if err != nil {
		return licence.Policy{}, fmt.Errorf("supply: encode policy: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, orgID)
		if err != nil {
			return err
		}
		path := o.Path
		before, err := policyAt(ctx, tx, path)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM licence_policies WHERE org_id = ?`, orgID); err != nil {
			return fmt.Errorf("supply: replace policy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO licence_policies (org_id, policy, updated_at) VALUES (?, ?, ?)`,
			orgID, string(b), s.stamp()); err != nil {
			return fmt.Errorf("supply: store policy: %w", err)
		}
		if err := rejudgeLicences(ctx, tx, path); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "licence.policy_set", ObjectType: "org",
			ObjectID: idString(orgID), OrgID: orgID, Summary: fmt.Sprintf("allow %d, review %d, deny %d", len(pol.Allow),
				len(pol.Review), len(pol.Deny)),
			Msg:    trail.Msg("trail.summary.licence.policy_set", len(pol.Allow), len(pol.Review), len(pol.Deny)),
			Before: before, After: pol})
		return err
	})
	return pol, err
}

// rejudgeLicences recomputes the licence verdict of every stored component of products
// at or below path, with the policy in force for each product's organisation.
func rejudgeLicences(ctx context.Context, tx *store.Tx, path string) error {
	cond, arg := actor.SubtreeSQL("o.path", path)
	rows, err := tx.QueryContext(ctx, `SELECT sb.id, o.path FROM sboms sb JOIN product_versions pv ON pv.id = sb.version_id
		JOIN products p ON p.id = pv.product_id JOIN orgs o ON o.id = p.org_id WHERE `+cond, arg)
	if err != nil {
		return fmt.Errorf("supply: rejudge licences: %w", err)
	}
	type sb struct {
		id   int64
		path string
	}
	var sboms []sb
	for rows.Next() {
		var x sb
		if err := rows.Scan(&x.id, &x.path); err != nil {
			rows.Close()
			return fmt.Errorf("supply: rejudge licences: %w", err)
		}
		sboms = append(sboms, x)
	}
	rows.Close()
	judges := map[string]*licence.Matcher{}
	for _, x := range sboms {
		judge, ok := judges[x.path]
		if !ok {
			pol, err := policyAt(ctx, tx, x.path)
			if err != nil {
				return err
			}
			judge = pol.Matcher()
			judges[x.path] = judge
		}
		lrows, err := tx.QueryContext(ctx, `SELECT DISTINCT license FROM components WHERE sbom_id = ?`, x.id)
		if err != nil {
			return fmt.Errorf("supply: rejudge licences: %w", err)
		}
		var exprs []string
		for lrows.Next() {
			var e string
			if err := lrows.Scan(&e); err != nil {
				lrows.Close()
				return fmt.Errorf("supply: rejudge licences: %w", err)
			}
			exprs = append(exprs, e)
		}
		lrows.Close()
		for _, e := range exprs {
			if _, err := tx.ExecContext(ctx, `UPDATE components SET license_verdict = ? WHERE sbom_id = ? AND license = ?`,
				string(judge.Evaluate(e).Verdict), x.id, e); err != nil {
				return fmt.Errorf("supply: rejudge licences: %w", err)
			}
		}
	}
	return nil
}
