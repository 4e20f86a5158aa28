package supply

import (
	"encoding/json"
	"io"
)

// writeCheckJSON writes a check result as one indented JSON object (CheckResult).
func writeCheckJSON(w io.Writer, res CheckResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
