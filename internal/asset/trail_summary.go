package asset

import (
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/trail"
)

// assetMsg is the trail summary of a change to an asset, as a catalogue message: the
// summary the caller gave (only "csv import" today), else the asset's kind and code.
func assetMsg(summary, kind, code string) *i18n.Message {
	if summary == "csv import" {
		return trail.Msg("trail.summary.asset.csv_import")
	}
	return trail.Msg("trail.summary.asset.kind_code", i18n.M("kind."+kind), code)
}
