package dlpsvc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Alerts of patient-data detection. A pre-send check that answers block or alert raises
// one alert per checked file (kind dlp_block or dlp_alert), and a path job that finds
// level-4+ data outside the organisation's allowed paths raises one (kind
// dlp_outside_allowed). An alert names the file or folder only masked, as the scan's
// source is stored, and carries counts, never a value.

// AlertSource is the source of the alerts patient-data detection raises.
const AlertSource = "dlp"

// Kinds of the alerts patient-data detection raises.
const (
	AlertKindBlock          = "dlp_block"
	AlertKindAlert          = "dlp_alert"
	AlertKindOutsideAllowed = "dlp_outside_allowed"
)

// OutsideLevel is the level from which data found outside an allowed path raises an
// alert.
const OutsideLevel = 4

// MaxAllowedPaths bounds the allowed paths of one policy.
const MaxAllowedPaths = 50

// Alerts is what patient-data detection needs of the alert inbox: *alert.Service.
type Alerts interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// checkEvidence is what the alert of a pre-send check holds: counts, never a value.
type checkEvidence struct {
	ScanID           int64          `json:"scan_id"`
	Decision         string         `json:"decision"`
	Reasons          []string       `json:"reasons"`
	Files            int            `json:"files"`
	Findings         int            `json:"findings"`
	HighestLevel     int            `json:"highest_level"`
	IdentifiesPerson bool           `json:"identifies_person"`
	CountsByType     map[string]int `json:"counts_by_type"`
}

// raiseCheck raises the alert of pre-send check sc inside tx, when its decision is
// block or alert: each checked file an alert of its own.
func (s *Service) raiseCheck(ctx context.Context, tx *store.Tx, a actor.Actor, sc Scan, reasons []string) error {
	if s.opt.Alerts == nil || (sc.Decision != DecisionBlock && sc.Decision != DecisionAlert) {
		return nil
	}
	in := alert.Input{OrgID: sc.OrgID, Source: AlertSource, Subject: sc.Source, Account: a.Username,
		DedupKey: "dlp_check:" + idString(sc.ID), At: *sc.FinishedAt,
		Evidence: checkEvidence{ScanID: sc.ID, Decision: sc.Decision, Reasons: reasons, Files: sc.Files, Findings: sc.Findings,
			HighestLevel: sc.HighestLevel, IdentifiesPerson: sc.IdentifiesPerson, CountsByType: sc.CountsByType}}
	if sc.Decision == DecisionBlock {
		in.Kind, in.Severity = AlertKindBlock, alert.SeverityHigh
		in.Title = i18n.M("alert.dlp.block", sc.Source, sc.HighestLevel)
	} else {
		in.Kind, in.Severity = AlertKindAlert, alert.SeverityMedium
		in.Title = i18n.M("alert.dlp.alert", sc.Source, sc.HighestLevel)
	}
	_, _, err := s.opt.Alerts.Raise(ctx, tx, in)
	return err
}

// outsideEvidence is what the alert of a job that found data outside the allowed paths
// holds.
type outsideEvidence struct {
	ScanID       int64 `json:"scan_id"`
	Files        int   `json:"files"`
	HighestLevel int   `json:"highest_level"`
}

// raiseOutside raises the alert of job sc, over the real path root, that found level-4+
// data in files outside the allowed paths. Raising the same folder again while its
// alert is open counts it.
func (s *Service) raiseOutside(ctx context.Context, tx *store.Tx, sc Scan, root string, files, highest int) error {
	if s.opt.Alerts == nil || files == 0 {
		return nil
	}
	// The key names the folder by a digest: a path may hold a patient's name or ID.
	sum := sha256.Sum256([]byte(root))
	sev := alert.SeverityHigh
	if highest >= 5 {
		sev = alert.SeverityCritical
	}
	_, _, err := s.opt.Alerts.Raise(ctx, tx, alert.Input{OrgID: sc.OrgID, Source: AlertSource, Kind: AlertKindOutsideAllowed,
		Severity: sev, Title: i18n.M("alert.dlp.outside_allowed", sc.Source, files), Subject: sc.Source,
		DedupKey: AlertKindOutsideAllowed + ":" + hex.EncodeToString(sum[:16]), At: *sc.FinishedAt,
		Evidence: outsideEvidence{ScanID: sc.ID, Files: files, HighestLevel: highest}})
	return err
}

// outsideAllowed reports whether the file of unit path p (a member "a.zip!/b.docx" is
// in its archive's place) lies outside every allowed path; with no allowed paths
// nothing is outside.
func outsideAllowed(p string, allowed []string) bool {
	if len(allowed) == 0 {
		return false
	}
	file, _, _ := strings.Cut(p, "!/")
	file = filepath.Clean(file)
	for _, a := range allowed {
		if within(file, a) {
			return false
		}
	}
	return true
}

// validateAllowedPaths checks and cleans the allowed paths of a policy.
func validateAllowedPaths(ps []string) ([]string, error) {
	if len(ps) > MaxAllowedPaths {
		return nil, problem.Invalid("allowed_paths", "at most %d paths", MaxAllowedPaths).WithMsg("alert.error.allowed_paths_max", MaxAllowedPaths)
	}
	out := make([]string, 0, len(ps))
	seen := map[string]bool{}
	for _, p := range ps {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			continue
		case len(p) > 500:
			return nil, problem.Invalid("allowed_paths", "a path is longer than 500 characters").WithMsg("alert.error.allowed_path_long", 500)
		case strings.ContainsRune(p, 0):
			return nil, problem.Invalid("allowed_paths", "a path contains a NUL character").WithMsg("alert.error.nul")
		case !filepath.IsAbs(p):
			return nil, problem.Invalid("allowed_paths", "every path must be absolute").WithMsg("alert.error.allowed_path_absolute")
		}
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}
