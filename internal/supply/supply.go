// Package supply owns the hospital's software supply chain: the software asset library
// (软件资产库) of vendors, software products and their versions, each version's SBOM with
// its components and dependency graph, the vulnerability findings matched against the
// OSV database (with decisions that carry over between versions), licence verdicts, gate
// policies for procurement, go-live and updates, delivery integrity checks and the alerts
// raised when a new advisory hits stored software.
//
// Every object belongs to an organisation node, so reads and writes are limited to the
// actor's subtree exactly like the asset inventory, and every change is recorded in the
// trail in the same transaction.
package supply

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/vuln"
)

// Service stores and queries the software supply chain.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	vulns  *vuln.DB
	alerts Alerts
	log    *slog.Logger
	now    func() time.Time
}

// NewService returns a Service on db that matches against vulns, records changes in tl
// and raises its alerts through alerts (an *alert.Service). Alerts are also written to
// log (slog.Default when nil).
func NewService(db *store.DB, tl *trail.Log, vulns *vuln.DB, alerts Alerts, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, trail: tl, vulns: vulns, alerts: alerts, log: log, now: time.Now}
}

// SetClock replaces the service's clock; tests use it to age findings and expire decisions.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// orgFor returns organisation id if a sees it and it may own supply-chain records
// (a hospital or a department).
func orgFor(ctx context.Context, q store.Querier, a actor.Actor, id int64) (org.Node, error) {
	o, err := org.Visible(ctx, q, a, id)
	if err != nil {
		return org.Node{}, err
	}
	if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
		return org.Node{}, problem.Invalid("org_id", "software records belong to a hospital or a department, not a %s", o.Kind).WithMsg("supply.error.msg.org_kind")
	}
	return o, nil
}

// text trims s and checks its length; field names the input for errors.
func text(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", problem.Required(field)
	}
	if len([]rune(s)) > max {
		return "", problem.TooLong(field, max)
	}
	if strings.ContainsAny(s, "\x00") {
		return "", problem.Invalid(field, "contains a NUL character").WithMsg("supply.error.msg.nul_char")
	}
	return s, nil
}
