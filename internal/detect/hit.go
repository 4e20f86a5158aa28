package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/i18n"
)

// Source is the alert source of monitoring rules' alerts.
const Source = "monitor"

// Hit is a rule firing on a group: the events that made it fire (ids capped at 50, the
// most recent), the group's values and the time range of the events.
type Hit struct {
	Rule      *Rule
	OrgID     int64
	Account   string // the account involved, when the rule grouped by it or one event fired it
	PatientID string // the patient involved, when there is one (clear: never log it)
	GroupBy   []string
	Group     map[string]string
	From, To  time.Time
	Events    []string
	Seqs      []int64
	// Explanation is the explanation of the access that fired a relation rule (or any
	// single patient-record access), zero otherwise.
	Explanation explain.Explanation
}

// Evidence is what an alert of a hit stores as its evidence: no patient value in it.
type Evidence struct {
	Rule        string               `json:"rule"`
	Version     string               `json:"version"`
	Name        Text                 `json:"name"`
	GroupBy     []string             `json:"group_by,omitempty"`
	Group       map[string]string    `json:"group,omitempty"`
	From        time.Time            `json:"from"`
	To          time.Time            `json:"to"`
	Events      []string             `json:"events"`
	Seqs        []int64              `json:"seqs"`
	Explanation *explain.Explanation `json:"explanation,omitempty"`
}

// TitleKey returns the catalogue key of the title of rule id's alerts (built-in rules
// have their names in the catalogues; other rules use TitleCustom).
func TitleKey(id string) string { return "detect.rule." + id }

// Catalogue keys of the alert titles.
const (
	TitleCustom = "detect.alert.custom" // "%s": a rule's own names, "zh｜en"
)

// patientRef is a short keyed-free digest of a patient id for dedup keys: alerts show
// their dedup key, which must not carry the id itself.
func patientRef(id string) string {
	s := sha256.Sum256([]byte("detect.patient\x00" + id))
	return hex.EncodeToString(s[:8])
}

// safeGroup is the group without the patient id.
func (h Hit) safeGroup() map[string]string {
	g := make(map[string]string, len(h.Group))
	for k, v := range h.Group {
		if k != "patient_id" {
			g[k] = v
		}
	}
	return g
}

// AlertInput is the alert of h: source "monitor", kind the rule id, grouped per rule,
// group, account and patient (DedupKey), carrying its evidence events and explanation.
// A built-in rule's title is its catalogue name (TestBuiltinNamesInCatalogue); another
// rule's (or a built-in rule renamed) is its own names in both languages.
func (h Hit) AlertInput() alert.Input {
	r := h.Rule
	title := i18n.M(TitleCustom, r.Name.Zh+"｜"+r.Name.En)
	if b, ok := BuiltinRule(r.ID); ok && b.Name == r.Name {
		title = i18n.M(TitleKey(r.ID))
	}
	group := h.safeGroup()
	var subject []string
	for _, f := range h.GroupBy {
		if v, ok := group[f]; ok && v != "" {
			subject = append(subject, v)
		}
	}
	key := []string{r.ID}
	for _, f := range h.GroupBy {
		if f == "patient_id" {
			continue
		}
		key = append(key, group[f])
	}
	if h.Account != "" && group["account"] == "" {
		key = append(key, "a="+h.Account)
	}
	if h.PatientID != "" {
		key = append(key, "p="+patientRef(h.PatientID))
	}
	ev := Evidence{Rule: r.ID, Version: r.Version, Name: r.Name, GroupBy: h.GroupBy, Group: group, From: h.From, To: h.To,
		Events: h.Events, Seqs: h.Seqs}
	if h.Explanation.Class != "" {
		x := h.Explanation
		ev.Explanation = &x
	}
	dedup := strings.Join(key, "|")
	if len(dedup) > 300 {
		s := sha256.Sum256([]byte(dedup))
		dedup = r.ID + ":" + hex.EncodeToString(s[:16])
	}
	return alert.Input{OrgID: h.OrgID, Source: Source, Kind: r.ID, Severity: r.Severity, Title: title,
		Subject: strings.Join(subject, " "), Account: h.Account, PatientID: h.PatientID, Evidence: ev, DedupKey: dedup, At: h.To,
		Rule: r.ID, GroupBy: slices.Clone(h.GroupBy), Group: group, From: h.From, To: h.To}
}
