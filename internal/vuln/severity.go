package vuln

import (
	"fmt"
	"strings"

	"github.com/ossf/osv-schema/bindings/go/osvschema"
	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// Severity levels.
const (
	LevelCritical = "critical"
	LevelHigh     = "high"
	LevelMedium   = "medium"
	LevelLow      = "low"
	LevelNone     = "none"
	LevelUnknown  = "unknown"
)

// SeverityDatabase is the Severity.Type of a level taken from the database's own
// rating (database_specific.severity, or an Ubuntu priority) rather than a CVSS vector.
const SeverityDatabase = "database"

// Severity is a record's headline severity.
type Severity struct {
	Type   string  `json:"type"`           // CVSS_V4, CVSS_V3, CVSS_V2, "database", or "" when unknown
	Vector string  `json:"vector"`         // the CVSS vector, or the database's rating as written
	Score  float64 `json:"score"`          // CVSS base score; 0 for a database rating
	Level  string  `json:"level"`          // critical, high, medium, low, none or unknown
	Note   string  `json:"note,omitempty"` // vectors that could not be scored, if any
	// From, when set, is the id of the alias record the severity was taken from, the
	// record's own being unknown (DB.Summaries).
	From string `json:"from,omitempty"`
}

// LevelOf maps a CVSS base score to a level: 0 none, below 4 low, below 7 medium,
// below 9 high, else critical.
func LevelOf(score float64) string {
	switch {
	case score <= 0:
		return LevelNone
	case score < 4:
		return LevelLow
	case score < 7:
		return LevelMedium
	case score < 9:
		return LevelHigh
	}
	return LevelCritical
}

// ScoreVector computes the CVSS base score of a vector of the given OSV severity type
// (CVSS_V4, CVSS_V3 for 3.0 and 3.1 vectors, CVSS_V2).
func ScoreVector(typ, vector string) (float64, error) {
	switch typ {
	case "CVSS_V4":
		c, err := gocvss40.ParseVector(vector)
		if err != nil {
			return 0, fmt.Errorf("vuln: CVSS v4.0 vector %q: %w", vector, err)
		}
		return c.Score(), nil
	case "CVSS_V3":
		switch {
		case strings.HasPrefix(vector, "CVSS:3.1/"):
			c, err := gocvss31.ParseVector(vector)
			if err != nil {
				return 0, fmt.Errorf("vuln: CVSS v3.1 vector %q: %w", vector, err)
			}
			return c.BaseScore(), nil
		case strings.HasPrefix(vector, "CVSS:3.0/"):
			c, err := gocvss30.ParseVector(vector)
			if err != nil {
				return 0, fmt.Errorf("vuln: CVSS v3.0 vector %q: %w", vector, err)
			}
			return c.BaseScore(), nil
		}
		return 0, fmt.Errorf("vuln: CVSS v3 vector %q does not start with CVSS:3.0/ or CVSS:3.1/", vector)
	case "CVSS_V2":
		v := strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(vector, "("), ")"), "CVSS:2.0/")
		c, err := gocvss20.ParseVector(v)
		if err != nil {
			return 0, fmt.Errorf("vuln: CVSS v2 vector %q: %w", vector, err)
		}
		return c.BaseScore(), nil
	}
	return 0, fmt.Errorf("vuln: severity type %q has no CVSS vector", typ)
}

// cvssRank orders the CVSS versions: v4 preferred, then v3.x, then v2; 0 for the
// other severity types.
func cvssRank(typ string) int {
	switch typ {
	case "CVSS_V4":
		return 3
	case "CVSS_V3":
		return 2
	case "CVSS_V2":
		return 1
	}
	return 0
}

// severityOf picks the headline severity of a record: the highest-scoring vector of
// the newest CVSS version present (top level and affected[].severity, invalid vectors
// skipped), else the database's rating, else unknown.
func severityOf(v *osvschema.Vulnerability) Severity {
	list := append([]*osvschema.Severity(nil), v.GetSeverity()...)
	for _, a := range v.GetAffected() {
		list = append(list, a.GetSeverity()...)
	}
	var best Severity
	bestRank := 0
	var notes []string
	dbRating := ""
	for _, s := range list {
		typ := s.GetType().String()
		rank := cvssRank(typ)
		if rank == 0 {
			if s.GetType() == osvschema.Severity_Ubuntu && dbRating == "" {
				dbRating = s.GetScore()
			}
			continue
		}
		score, err := ScoreVector(typ, s.GetScore())
		if err != nil {
			notes = append(notes, strings.TrimPrefix(err.Error(), "vuln: "))
			continue
		}
		if rank > bestRank || (rank == bestRank && score > best.Score) {
			best = Severity{Type: typ, Vector: s.GetScore(), Score: score, Level: LevelOf(score)}
			bestRank = rank
		}
	}
	if bestRank == 0 {
		if ds := v.GetDatabaseSpecific().GetFields()["severity"]; ds.GetStringValue() != "" {
			dbRating = ds.GetStringValue()
		}
		if lvl := ratingLevel(dbRating); lvl != "" {
			best = Severity{Type: SeverityDatabase, Vector: dbRating, Level: lvl}
		} else {
			best = Severity{Level: LevelUnknown}
		}
	}
	best.Note = strings.Join(notes, "; ")
	if len(best.Note) > 1000 {
		best.Note = best.Note[:1000]
	}
	return best
}

// ratingLevel maps a database rating (GitHub's CRITICAL/HIGH/MODERATE/LOW, Ubuntu's
// priorities) to a level, or "" when the rating is not known.
func ratingLevel(r string) string {
	switch strings.ToLower(strings.TrimSpace(r)) {
	case "critical":
		return LevelCritical
	case "high", "important":
		return LevelHigh
	case "moderate", "medium":
		return LevelMedium
	case "low", "negligible":
		return LevelLow
	case "none":
		return LevelNone
	}
	return ""
}
