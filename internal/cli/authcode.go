package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/authcode"
)

// authcodeJSON is the JSON output of `authcode verify`.
type authcodeJSON struct {
	Status       string    `json:"status"` // valid, expired, not_yet_valid, invalid (no claims)
	ID           string    `json:"id,omitempty"`
	AppID        string    `json:"app_id,omitempty"`
	OrgID        int64     `json:"org_id,omitempty"`
	Hospital     string    `json:"hospital,omitempty"`
	HospitalCode string    `json:"hospital_code,omitempty"`
	IssuedAt     time.Time `json:"issued_at,omitzero"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	Algorithm    string    `json:"algorithm,omitempty"`
	KeyID        string    `json:"key_id,omitempty"`
	Error        string    `json:"error,omitempty"`
}

func (e *env) authcodeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "authcode", Short: "Authorization codes (授权码) of internet-hospital apps: verify offline, make signing keys"}

	var pubkey, format string
	verify := &cobra.Command{
		Use:   "verify CODE --pubkey FILE",
		Short: "Verify an authorization code offline with the issuer's public key(s) and print its claims; exit 4 when it is not valid",
		Long: `Verify an authorization code offline with the issuer's public key(s) and print its claims.

CODE is the code itself (MGAC1.…) or "-" to read it from standard input. FILE holds one
or more PEM public keys (Ed25519 or SM2): after a key rotation, keep the previous key in
the file so that the codes it signed verify until they expire.

Exit 0 when the code is valid now; exit 4 when it is not (malformed, an unknown
algorithm, a signature that does not verify or a key not in FILE, expired, not yet
valid), the reason on stderr; the claims of an expired or not yet valid code are still
printed. Revocation is checked by the platform, not here.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usagef("--format must be text or json")
			}
			keys, err := readLimited(pubkey, 1<<20)
			if err != nil {
				return err
			}
			ring, err := authcode.ParseKeyRingPEM(keys)
			if err != nil {
				return fmt.Errorf("%s: %w", pubkey, err)
			}
			code := args[0]
			if code == "-" {
				b, err := io.ReadAll(io.LimitReader(e.stdin, authcode.MaxCodeLen+1))
				if err != nil {
					return err
				}
				code = string(b)
			}
			claims, verr := authcode.Verify(code, ring, time.Now())
			status := "valid"
			switch {
			case errors.Is(verr, authcode.ErrExpired):
				status = "expired"
			case errors.Is(verr, authcode.ErrNotYetValid):
				status = "not_yet_valid"
			case verr != nil:
				// Nothing of a code that did not verify is worth printing as a claim; JSON
				// readers still get a document.
				if format == "json" {
					if err := writeJSON(e.stdout, authcodeJSON{Status: "invalid", Error: verr.Error()}); err != nil {
						return err
					}
				}
				return outcomef(ErrCheckFailed, "%v", verr)
			}
			if format == "json" {
				out := authcodeJSON{Status: status, ID: claims.ID, AppID: claims.AppID, OrgID: claims.OrgID,
					Hospital: claims.HospitalName, HospitalCode: claims.HospitalCode, IssuedAt: claims.IssuedAt,
					ExpiresAt: claims.ExpiresAt, Algorithm: string(claims.Algorithm), KeyID: claims.KeyID}
				if verr != nil {
					out.Error = verr.Error()
				}
				if err := writeJSON(e.stdout, out); err != nil {
					return err
				}
			} else {
				writeClaims(e.stdout, strings.ToUpper(strings.ReplaceAll(status, "_", " ")), claims)
			}
			if verr != nil {
				return outcomef(ErrCheckFailed, "%v", verr)
			}
			return nil
		},
	}
	verify.Flags().StringVar(&pubkey, "pubkey", "", "PEM file of the issuer's public key(s) (Ed25519 or SM2)")
	verify.Flags().StringVar(&format, "format", "text", "output format: text or json")
	_ = verify.MarkFlagRequired("pubkey")

	var alg, out string
	keygen := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Make a key pair that signs authorization codes: DIR/authcode-KEYID.key (private, mode 0600) and .pub",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := authcode.ParseAlgorithm(alg)
			if err != nil {
				return usagef("--alg must be ed25519 or sm2")
			}
			s, err := authcode.GenerateKey(a)
			if err != nil {
				return err
			}
			priv, err := s.MarshalPEM()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			base := filepath.Join(out, "authcode-"+s.Public().ID())
			if err := writeNew(base+".key", priv, 0o600); err != nil {
				return err
			}
			if err := writeNew(base+".pub", s.Public().MarshalPEM(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "key id:      %s (%s)\n", s.Public().ID(), a)
			fmt.Fprintf(e.stdout, "private key: %s (keep it secret: it issues codes)\n", base+".key")
			fmt.Fprintf(e.stdout, "public key:  %s (for verifiers; when rotating, add it to their key file and keep the old one)\n", base+".pub")
			return nil
		},
	}
	keygen.Flags().StringVar(&alg, "alg", "ed25519", "signature algorithm: ed25519 or sm2 (SM2 with SM3)")
	keygen.Flags().StringVar(&out, "out", "", "directory for the key files (created 0700 if missing)")
	_ = keygen.MarkFlagRequired("out")

	cmd.AddCommand(verify, keygen)
	return cmd
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeClaims prints a code's claims for people.
func writeClaims(w io.Writer, status string, c authcode.Claims) {
	hospital := c.HospitalName
	switch {
	case hospital == "":
		hospital = "code " + c.HospitalCode
	case c.HospitalCode != "":
		hospital += " (code " + c.HospitalCode + ")"
	}
	fmt.Fprintf(w, "authorization code: %s\n", status)
	fmt.Fprintf(w, "  app:          %s\n", c.AppID)
	fmt.Fprintf(w, "  hospital:     %s, organisation %d\n", hospital, c.OrgID)
	fmt.Fprintf(w, "  issued:       %s\n", c.IssuedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  expires:      %s\n", c.ExpiresAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  code id:      %s\n", c.ID)
	fmt.Fprintf(w, "  signed with:  %s key %s\n", c.Algorithm, c.KeyID)
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
