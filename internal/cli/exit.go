package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/problem"
)

// Exit codes of medguard, listed in the root command's help (exitCodesHelp).
const (
	ExitOK           = 0
	ExitError        = 1 // an error; also `scan --fail-on` when data at that level was found
	ExitUsage        = 2 // a command line that cannot run: see UsageError
	ExitTrailBroken  = 3 // `trail verify`: the chain or a signed checkpoint does not verify
	ExitCheckFailed  = 4 // `sbom check`, `delivery verify`, `authcode verify`, `app inspect`: the check failed
	ExitRowsRejected = 5 // `reference import`: some rows were rejected, the others imported
)

// exitCodesHelp ends the root command's long help.
const exitCodesHelp = `Exit codes:
  0  done (a scan without --fail-on finishes with 0 whatever it found)
  1  an error (the message follows "medguard: " on stderr), a bad configuration value
     (--data, --trail-hash… or MEDGUARD_* or the file) among them; or scan --fail-on LEVEL
     found data at or above that level; or events import accepted no event and rejected some
  2  usage: unknown command or flag, missing required flag, wrong number of arguments, a
     flag value the command cannot take such as --format xml (run "medguard help COMMAND")
  3  trail verify: the audit trail or a signed checkpoint does not verify
  4  sbom check: the gate failed; delivery verify: the files do not match the manifest;
     authcode verify: the authorization code is not valid (malformed, bad signature or
     unknown key, expired, not yet valid); app inspect: the APK's signature does not
     verify or it is not signed
  5  reference import: some rows were rejected (listed on stderr); the others were imported`

// ErrTrailBroken is returned by `trail verify` when the chain does not verify.
var ErrTrailBroken = errors.New("the audit trail does not verify")

// ErrCheckFailed is returned when `sbom check` finds that the gate fails, `delivery
// verify` finds a mismatch, `authcode verify` finds the code not valid or `app inspect`
// an APK whose signature does not verify.
var ErrCheckFailed = errors.New("check failed")

// ErrDataFound is returned by `scan --fail-on LEVEL` when data at or above that level
// was found. It exits 1 (ExitError), as secret scanners such as gitleaks do, so that a
// gateway or CI step that calls `medguard scan` fails closed: found data and a failed
// scan both stop it.
var ErrDataFound = errors.New("patient data found at or above the --fail-on level")

// ErrRowsRejected is returned by `reference import` when some rows of the file were
// rejected; the good rows were imported.
var ErrRowsRejected = errors.New("rows rejected")

// exitCodes maps each sentinel outcome to its exit code; every other error exits
// ExitError, a UsageError ExitUsage.
var exitCodes = []struct {
	err  error
	code int
}{
	{ErrTrailBroken, ExitTrailBroken},
	{ErrCheckFailed, ExitCheckFailed},
	{ErrDataFound, ExitError},
	{ErrRowsRejected, ExitRowsRejected},
	{ErrNothingImported, ExitError},
}

// UsageError is a command line that cannot run as given: an unknown command or flag, a
// missing required flag, a wrong number of arguments or a bad flag value. It exits
// ExitUsage, its message followed by a hint to the command's help.
type UsageError struct{ Err error }

func (u *UsageError) Error() string { return u.Err.Error() }
func (u *UsageError) Unwrap() error { return u.Err }

// usagef returns a UsageError with a formatted message.
func usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// asUsage makes err a UsageError unless it is one already (or nil).
func asUsage(err error) error {
	var u *UsageError
	if err == nil || errors.As(err, &u) {
		return err
	}
	return &UsageError{Err: err}
}

// outcome is a sentinel outcome with a message of its own: it prints msg and exits as
// its sentinel does.
type outcome struct {
	sentinel error
	msg      string
}

func (o *outcome) Error() string { return o.msg }
func (o *outcome) Unwrap() error { return o.sentinel }

func outcomef(sentinel error, format string, a ...any) error {
	return &outcome{sentinel: sentinel, msg: fmt.Sprintf(format, a...)}
}

// exitCode prints err on stderr, prefixed "medguard: ", and returns its exit code; cmd
// is the command that ran (or failed to), named in a usage error's hint. It is the one
// place where an error becomes an exit code.
func exitCode(stderr io.Writer, cmd *cobra.Command, err error) int {
	if err == nil {
		return ExitOK
	}
	if pe, ok := problem.As(err); ok {
		fmt.Fprintln(stderr, "medguard:", pe.Message)
		if pe.Kind == problem.KindInvalid && pe.Err != nil {
			// What the server keeps from its clients (the input quoted), the operator who
			// holds the file may see.
			fmt.Fprintln(stderr, "medguard: detail:", pe.Err)
		}
	} else {
		fmt.Fprintln(stderr, "medguard:", err)
	}
	var u *UsageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "Run '%s' for usage.\n", helpCommandFor(cmd))
		return ExitUsage
	}
	for _, x := range exitCodes {
		if errors.Is(err, x.err) {
			return x.code
		}
	}
	return ExitError
}

// helpCommandFor is the help command line of cmd: "medguard help sbom check".
func helpCommandFor(cmd *cobra.Command) string {
	if cmd == nil || !cmd.HasParent() || cmd.Name() == "help" && !cmd.Parent().HasParent() {
		return "medguard help"
	}
	path := strings.Fields(cmd.CommandPath())
	return strings.Join(append([]string{path[0], "help"}, path[1:]...), " ")
}

// strictUsage makes every command line cobra would run, ignore or answer with help in
// spite of a mistake fail with a UsageError: flag errors; positional arguments,
// required flags and flag groups, checked before the configuration is read; an unknown
// command under a group (cobra shows the group's help and exits 0); a group without a
// command; a help topic that does not exist.
func strictUsage(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return asUsage(err) })
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	// Groups are made runnable below only so that cobra checks their arguments: their
	// usage does not offer them as commands of their own ("medguard sbom [flags]").
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "{{if .Runnable}}",
		"{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Name() == "help" && c.Parent() == root {
			c.Args = func(_ *cobra.Command, args []string) error {
				if found, rest, err := root.Find(args); err != nil || len(rest) > 0 || found == nil {
					return usagef("unknown help topic %q", strings.Join(args, " "))
				}
				return nil
			}
			return
		}
		if c.HasSubCommands() && !c.Runnable() {
			// A group: runnable, so that cobra checks its arguments (a command it does not
			// have), which always fail.
			c.Args = groupArgs
			c.RunE = func(*cobra.Command, []string) error { return nil }
			return
		}
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if orig != nil {
				if err := orig(cmd, args); err != nil {
					return asUsage(err)
				}
			}
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return asUsage(err)
			}
			return asUsage(cmd.ValidateFlagGroups())
		}
	}
	walk(root)
}

// unknownWithHelp is the usage error of a command that does not exist asked for its help
// ("medguard alerts list --help"): cobra shows the help of the nearest group without
// checking the rest of the arguments, and a script asking whether a command exists
// would be told yes.
// It returns the group whose usage the error refers to.
func unknownWithHelp(root *cobra.Command, args []string) (*cobra.Command, error) {
	if !slices.Contains(args, "--help") && !slices.Contains(args, "-h") {
		return nil, nil
	}
	found, rest, err := root.Find(args)
	if err != nil {
		return root, asUsage(err) // an unknown command of the root
	}
	if found == nil || !found.HasSubCommands() {
		return nil, nil
	}
	found.InitDefaultHelpFlag()
	if err := found.ParseFlags(rest); err != nil {
		return nil, nil // cobra reports it when it runs
	}
	if pos := found.Flags().Args(); len(pos) > 0 {
		return found, groupArgs(found, pos)
	}
	return nil, nil
}

// groupArgs rejects the arguments of a group command: none names one of its commands,
// or cobra would have run that command.
func groupArgs(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" {
			names = append(names, c.Name())
		}
	}
	if len(args) == 0 {
		if !cmd.HasParent() {
			return usagef("no command given")
		}
		return usagef("%s needs one of the commands %s", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "),
			strings.Join(names, ", "))
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	cmd.SuggestionsMinimumDistance = cmp.Or(cmd.SuggestionsMinimumDistance, 2)
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return usagef("%s", msg)
}
