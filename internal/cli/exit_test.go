package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/medguard/medguard/internal/problem"
)

// TestExitCode: the exit code follows from what an error is, never from what its text
// says, and every error is printed once, prefixed "medguard: ".
func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"nil", nil, ExitOK, ""},
		{"plain error naming a flag", errors.New("open /tmp/no/flags.json: no such file"), ExitError,
			"medguard: open /tmp/no/flags.json: no such file\n"},
		{"plain error naming a command", errors.New("unknown command in the manifest"), ExitError,
			"medguard: unknown command in the manifest\n"},
		{"usage", usagef("--format must be table or json"), ExitUsage,
			"medguard: --format must be table or json\nRun 'medguard help' for usage.\n"},
		{"wrapped usage", fmt.Errorf("sbom: %w", usagef("bad")), ExitUsage, "medguard: sbom: bad\nRun 'medguard help' for usage.\n"},
		{"trail broken", ErrTrailBroken, ExitTrailBroken, "medguard: the audit trail does not verify\n"},
		{"gate failed", outcomef(ErrCheckFailed, "gate %s failed", "go-live"), ExitCheckFailed, "medguard: gate go-live failed\n"},
		{"data found", outcomef(ErrDataFound, "data of level 4 found"), ExitError, "medguard: data of level 4 found\n"},
		{"rows rejected", outcomef(ErrRowsRejected, "2 of 3 rows rejected"), ExitRowsRejected, "medguard: 2 of 3 rows rejected\n"},
		{"wrapped check failed", fmt.Errorf("delivery: %w", ErrCheckFailed), ExitCheckFailed, "medguard: delivery: check failed\n"},
		{"problem", problem.Invalid("file", "the SBOM is not valid").WithErr(errors.New(`line 4: "x"`)), ExitError,
			"medguard: the SBOM is not valid\nmedguard: detail: line 4: \"x\"\n"},
	} {
		var b bytes.Buffer
		if code := exitCode(&b, nil, c.err); code != c.code || b.String() != c.stderr {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", c.name, code, b.String(), c.code, c.stderr)
		}
	}
}
