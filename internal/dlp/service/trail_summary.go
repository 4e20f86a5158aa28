package dlpsvc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/trail"
)

// The summaries of the trail entries the patient-data service writes, as catalogue
// messages: the same counts and masked names as the English summary, never a value.

// kindWord is a scan kind (text, upload, job, check) as a translated word.
func kindWord(kind string) i18n.Message { return i18n.M("dlp.kind." + kind) }

// siteTypes are the site identifiers hospitals commonly define, which the catalogues
// name (dlp.type.…); other site identifiers keep the name the hospital gave them.
var siteTypes = []string{"admission_no", "exam_no", "inpatient_no", "medical_record_no", "outpatient_no", "patient_id", "specimen_no"}

// typeWord is a finding type as a translated word when the catalogues name it.
func typeWord(typ string) any {
	if slices.Contains(dlp.StructuredTypes(), typ) || slices.Contains(dlp.DictionaryTypes(), typ) || slices.Contains(siteTypes, typ) {
		return i18n.M("dlp.type." + typ)
	}
	return typ
}

// yesNo is a flag as a translated word.
func yesNo(b bool) i18n.Message {
	if b {
		return i18n.M("yes")
	}
	return i18n.M("no")
}

// also joins a further clause to a summary: "…, identifies a person".
func also(m *i18n.Message, clause i18n.Message) *i18n.Message {
	return trail.Msg("trail.summary.list", *m, clause)
}

// scanMsg is scanSummary as a catalogue message.
func scanMsg(sc Scan) *i18n.Message {
	m := trail.Msg("trail.summary.dlp.scan", kindWord(sc.Kind), trailName(sc.Source), sc.Files, sc.Findings, sc.HighestLevel)
	if sc.IdentifiesPerson {
		m = also(m, i18n.M("trail.summary.dlp.identifies_person"))
	}
	if sc.Problems > 0 {
		m = also(m, i18n.M("trail.summary.dlp.problems", sc.Problems))
	}
	if sc.Decision != "" {
		m = also(m, i18n.M("trail.summary.dlp.decision", i18n.M("dlp.decision."+sc.Decision)))
	}
	return m
}

// jobFailedMsg is the trail summary of a failed job: the service's own fixed texts
// translated (with the count of files it got through), other errors as stored, masked.
func jobFailedMsg(msg string) *i18n.Message {
	base, rest, stopped := strings.Cut(msg, " (stopped after ")
	var reason i18n.Message
	switch base {
	case JobInterrupted:
		reason = i18n.M("dlp.job.interrupted")
	case JobUnrecorded:
		reason = i18n.M("dlp.job.unrecorded")
	case JobFailed:
		reason = i18n.M("dlp.job.failed")
	default:
		return trail.Msg("trail.summary.dlp.job_failed", trailName(msg))
	}
	var done, total int
	if _, err := fmt.Sscanf(rest, "%d of %d files", &done, &total); stopped && err == nil {
		return trail.Msg("trail.summary.dlp.job_failed_after", reason, done, total)
	}
	return trail.Msg("trail.summary.dlp.job_failed", reason)
}

// policyMsg is the trail summary of a stored pre-send policy.
func policyMsg(p Policy) *i18n.Message {
	return trail.Msg("trail.summary.dlp.policy_set", p.BlockLevel, yesNo(p.BlockIdentifiesPerson), p.AlertLevel,
		i18n.M("dlp.decision."+p.Unreadable), len(p.Custom), len(p.AllowedPaths))
}
