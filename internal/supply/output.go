package supply

import (
	"fmt"
	"io"
)

// CheckFormats are the output formats of WriteCheck, one file each: output_table.go,
// output_json.go, output_sarif.go.
var CheckFormats = []string{"table", "json", "sarif"}

// WriteCheck writes the result of an SBOM check in format (table, json or sarif); source
// names the checked file in the SARIF output.
func WriteCheck(w io.Writer, res CheckResult, format, source string) error {
	switch format {
	case "table", "":
		return writeCheckTable(w, res)
	case "json":
		return writeCheckJSON(w, res)
	case "sarif":
		return writeCheckSARIF(w, res, source)
	}
	return fmt.Errorf("supply: unknown format %q (want table, json or sarif)", format)
}
