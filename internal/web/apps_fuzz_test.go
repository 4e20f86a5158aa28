package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/problem"
)

// FuzzAppForm feeds arbitrary bodies to the reader of the admission form: it never
// panics; its error, and the registry's checks of what it read, are client-safe
// problems; the form shown again keeps a row per contact role and at least one version
// row; a problem located in a row names a row the form shows.
func FuzzAppForm(f *testing.F) {
	for _, s := range []string{
		admissionForm(1, "sec@a.example").Encode(),
		admissionForm(1, "not-an-address").Encode(),
		"org_id=abc&name=x", "org_id=-5", "version=1.0&version_code=x&version_current=0",
		"version=1.0&version=1.0&version_current=7", "channel_name=a&channel_name=a&channel_url=ftp://x",
		"contact_security_email=%00&contact_security_name=%ff", "version_signers=ab%0Acd;ef,01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := http.NewRequest("POST", "/apps", strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r.ParseForm() != nil {
			return
		}
		in, form, err := formAppInput(r)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("not a problem: %v", err)
			}
		} else {
			err = appreg.Check(in)
			if _, ok := problem.As(err); err != nil && !ok {
				t.Fatalf("the registry's check is not a problem: %v", err)
			}
		}
		if len(form.Contacts) != len(appreg.ContactRoles) || len(form.Versions) == 0 {
			t.Fatalf("form rows: %d contacts, %d versions", len(form.Contacts), len(form.Versions))
		}
		form.locate(err)
		rows := map[string]int{"contacts": len(form.Contacts), "channels": len(form.Channels), "versions": len(form.Versions)}
		if form.BadRow >= 0 && (form.BadSection == "" || form.BadRow >= rows[form.BadSection]) {
			t.Fatalf("problem %v located in row %d of %q", err, form.BadRow, form.BadSection)
		}
	})
}
