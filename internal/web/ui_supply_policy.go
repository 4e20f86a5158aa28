package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/vuln"
)

// gateListData is what supply_gates.html shows: the gates of one organisation, and the
// gate form (a new gate, or the one whose save was refused).
type gateListData struct {
	OrgID      int64
	Orgs       []orgOption
	Gates      []supply.Gate
	Stages     []string
	Severities []string
	Form       supply.GateDefinition
	Failed     bool
}

// gateForm reads the gate form.
func gateForm(r *http.Request) (supply.GateDefinition, error) {
	v := r.PostFormValue
	g := supply.GateDefinition{Name: strings.TrimSpace(v("name")), Stage: v("stage"),
		Rules: supply.Rules{MaxSeverity: v("block_severity")}}
	var err error
	if g.OrgID, err = formID(r, "org_id"); err != nil {
		return g, err
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{
		{"require_sbom", &g.Rules.RequireSBOM},
		{"block_denied_licences", &g.Rules.DenyLicences},
		{"block_review_licences", &g.Rules.BlockReviewLicences},
		{"require_delivery_verified", &g.Rules.RequireDelivery},
		{"require_vendor_approved", &g.Rules.RequireVendorApproved},
		{"allow_uncovered", &g.Rules.AllowUncovered},
	} {
		if *f.dst, err = parseBool(f.name, v(f.name)); err != nil {
			return g, err
		}
	}
	ignore, err := parseBool("ignore_unknown_severity", v("ignore_unknown_severity"))
	if err != nil {
		return g, err
	}
	if ignore {
		g.Rules.UnknownSeverity = supply.UnknownIgnore
	}
	return g, nil
}

// showGates renders the gates of organisation org with the gate form holding form.
func (s *Server) showGates(w http.ResponseWriter, r *http.Request, org int64, form supply.GateDefinition, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.supplyPage(r, w, "supply.gates.title", "gates")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	d := gateListData{OrgID: org, Stages: supply.Stages, Severities: []string{"critical", "high", "medium", "low"},
		Form: form, Failed: formErr != nil}
	if d.Gates, err = s.Supply.Gates(ctx, a, org); err != nil {
		return err
	}
	if d.Orgs, err = s.orgOptions(ctx, a); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "supply_gates.html", p)
}

func (s *Server) uiGateList(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	form := supply.GateDefinition{OrgID: org, Stage: "go_live",
		Rules: supply.Rules{RequireSBOM: true, MaxSeverity: "high", DenyLicences: true}}
	if name := r.URL.Query().Get("edit"); name != "" {
		// Start from the gate in force under that name, to change it for this organisation.
		if g, err := s.Supply.GateNamed(r.Context(), reqActor(r), org, name); err == nil {
			form = supply.GateDefinition{OrgID: org, Name: g.Name, Stage: g.Stage, Rules: g.Rules}
		}
	}
	return s.showGates(w, r, org, form, nil)
}

func (s *Server) uiGateSave(w http.ResponseWriter, r *http.Request) error {
	g, err := gateForm(r)
	if err == nil {
		if g.OrgID == 0 {
			g.OrgID = principalFrom(r.Context()).User.OrgID
		}
		if _, err = s.Supply.SaveGate(r.Context(), reqActor(r), g); err == nil {
			return redirect(w, r, "/supply/gates?org_id="+strconv.FormatInt(g.OrgID, 10)+"&flash=flash.gate_saved")
		}
	}
	org := g.OrgID
	if org == 0 {
		org = principalFrom(r.Context()).User.OrgID
	}
	return s.showGates(w, r, org, g, err)
}

// policyData is what supply_policy.html shows: the policy in force for an organisation
// and the editor's three lists, one licence expression per line.
type policyData struct {
	OrgID    int64
	Orgs     []orgOption
	Policy   licence.Policy
	Verdicts []string // the choices for a licence on no list
	Allow    string
	Review   string
	Deny     string
	Unlisted string
}

// policyLines splits a textarea into its non-empty lines.
func policyLines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// showPolicy renders the licence policy of organisation org; form, when set, is what a
// refused submission held.
func (s *Server) showPolicy(w http.ResponseWriter, r *http.Request, org int64, form *policyData, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.supplyPage(r, w, "supply.policy.title", "policy")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	d := policyData{OrgID: org, Verdicts: []string{string(licence.VerdictReview), string(licence.VerdictAllowed),
		string(licence.VerdictUnknown), string(licence.VerdictDenied)}}
	if d.Policy, err = s.Supply.LicencePolicy(ctx, a, org); err != nil {
		return err
	}
	if d.Orgs, err = s.orgOptions(ctx, a); err != nil {
		return err
	}
	if form != nil {
		d.Allow, d.Review, d.Deny, d.Unlisted = form.Allow, form.Review, form.Deny, form.Unlisted
	} else {
		d.Allow, d.Review, d.Deny = strings.Join(d.Policy.Allow, "\n"), strings.Join(d.Policy.Review, "\n"), strings.Join(d.Policy.Deny, "\n")
		d.Unlisted = string(d.Policy.Unlisted)
	}
	if d.Unlisted == "" {
		d.Unlisted = string(licence.VerdictReview)
	}
	p.Data = d
	return s.render(w, code, "supply_policy.html", p)
}

func (s *Server) uiLicencePolicy(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	return s.showPolicy(w, r, org, nil, nil)
}

func (s *Server) uiLicencePolicySet(w http.ResponseWriter, r *http.Request) error {
	org, err := formID(r, "org_id")
	if err != nil {
		return err
	}
	if org == 0 {
		org = principalFrom(r.Context()).User.OrgID
	}
	form := policyData{Allow: r.PostFormValue("allow"), Review: r.PostFormValue("review"), Deny: r.PostFormValue("deny"),
		Unlisted: r.PostFormValue("unlisted")}
	doc, err := json.Marshal(policyView{Allow: policyLines(form.Allow), Review: policyLines(form.Review),
		Deny: policyLines(form.Deny), Unlisted: strings.TrimSpace(form.Unlisted)})
	if err != nil {
		return fmt.Errorf("web: licence policy form: %w", err)
	}
	if _, err = s.Supply.SetLicencePolicy(r.Context(), reqActor(r), org, doc); err == nil {
		return redirect(w, r, "/supply/licence-policy?org_id="+strconv.FormatInt(org, 10)+"&flash=flash.policy_saved")
	}
	return s.showPolicy(w, r, org, &form, err)
}

// vulnDBData is what supply_vulndb.html shows, with the outcome of an upload just made.
type vulnDBData struct {
	Status vuln.Status
	Import *vulnImportResponse
}

// showVulnDB renders the vulnerability database's status and the outcome of an upload.
func (s *Server) showVulnDB(w http.ResponseWriter, r *http.Request, imp *vulnImportResponse, actionErr error) error {
	p := s.supplyPage(r, w, "supply.vulndb.title", "vulndb")
	code, err := actionError(p, actionErr)
	if err != nil {
		return err
	}
	st, err := s.Vulns.Status(r.Context())
	if err != nil {
		return err
	}
	p.Data = vulnDBData{Status: statusView(st), Import: imp}
	return s.render(w, code, "supply_vulndb.html", p)
}

func (s *Server) uiVulnDB(w http.ResponseWriter, r *http.Request) error {
	if out, ok := outcomeOf[vulnImportResponse](s, r); ok {
		return s.showVulnDB(w, r, &out, nil)
	}
	return s.showVulnDB(w, r, nil, nil)
}

func (s *Server) uiVulnDBImport(w http.ResponseWriter, r *http.Request) error {
	out, err := s.importVulns(w, r)
	if err != nil {
		return s.showVulnDB(w, r, nil, err)
	}
	return redirect(w, r, "/supply/vulndb?"+s.keepOutcome(r, out)+"#vulndb-import-report")
}
