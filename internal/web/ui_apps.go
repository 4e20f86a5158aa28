package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

// The pages of the internet-hospital app registry (package appreg): the list, the
// admission form (事前备案), one app with its filing, applications, codes, findings and
// channels and the actions on it (review, eviction, code rotation, observations,
// re-admission). The score page is ui_apps_score.go, the periodic report ui_apps_report.go.

// appListData is what apps.html shows.
type appListData struct {
	Apps     []appreg.App
	Status   string
	Grade    string
	Statuses []string
	Grades   []string
}

// appStatuses are the states of an app in the order filters offer them.
var appStatuses = []string{appreg.StatusPending, appreg.StatusAdmitted, appreg.StatusRejected, appreg.StatusEvicted}

// appGrades are the grades filters offer.
var appGrades = []string{"A", "B", "C"}

func (s *Server) uiAppList(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "app.list.title", "apps")
	d := appListData{Status: r.URL.Query().Get("status"), Grade: r.URL.Query().Get("grade"), Statuses: appStatuses, Grades: appGrades}
	err = func() error {
		if d.Status != "" && !slices.Contains(appStatuses, d.Status) {
			return problem.OneOf("status", appStatuses...)
		}
		if d.Grade != "" && !slices.Contains(appGrades, d.Grade) {
			return problem.OneOf("grade", appGrades...)
		}
		d.Apps, err = reg.Apps(r.Context(), reqActor(r), appreg.Query{Status: d.Status, Grade: d.Grade})
		return err
	}()
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "apps.html", p)
}

// appForm is the admission form's content, as filed or as the reader typed it.
type appForm struct {
	In        appreg.Input
	Contacts  []appreg.Contact // one per role, in ContactRoles order
	Channels  []appreg.Channel // the rows shown: those filed and blank ones to add
	Versions  []appVersionRow
	Orgs      []orgOption // the hospitals the reader may file for (admission only)
	Platforms []string
	Hospital  string // the app's hospital (re-admission)
	Action    string // where the form posts
	Readmit   bool
	// BadSection and BadRow locate a problem with one of the rows: "contacts",
	// "channels" or "versions" and the row's index (-1: the section as a whole).
	BadSection string
	BadRow     int
}

// appVersionRow is one official version in the form, its numbers as typed.
type appVersionRow struct {
	appreg.Version
	Code    string // version code as typed
	Signers string // fingerprints, one a line
}

// blankRows is how many empty channel and version rows the form offers to add.
const blankRows = 2

// newAppForm lays in out for the form: a row per contact role, the filed channels and
// versions and blank rows to add more.
func newAppForm(in appreg.Input) appForm {
	f := appForm{In: in, Platforms: appreg.Platforms, BadRow: -1}
	for _, role := range appreg.ContactRoles {
		c := appreg.Contact{Role: role}
		for _, have := range in.Contacts {
			if have.Role == role {
				c = have
				break
			}
		}
		f.Contacts = append(f.Contacts, c)
	}
	f.Channels = append(slices.Clone(in.Channels), make([]appreg.Channel, blankRows)...)
	for _, v := range in.Versions {
		row := appVersionRow{Version: v, Signers: strings.Join(v.Signers, "\n")}
		if v.VersionCode != 0 {
			row.Code = strconv.FormatInt(v.VersionCode, 10)
		}
		f.Versions = append(f.Versions, row)
	}
	f.Versions = append(f.Versions, make([]appVersionRow, max(1, blankRows-len(in.Versions)))...)
	return f
}

// inputFromApp is the filing of ap as a form's starting point (re-admission).
func inputFromApp(ap appreg.App) appreg.Input {
	return appreg.Input{OrgID: ap.OrgID, Name: ap.Name, Platform: ap.Platform, Package: ap.Package, Operator: ap.Operator,
		Purpose: ap.Purpose, Contacts: ap.Contacts, Channels: ap.Channels, Versions: ap.Versions}
}

// formAppInput reads the admission form. Rows left blank are skipped; what the
// registry checks (required fields, e-mail addresses, digests) it checks itself.
// rows keeps what was typed, to show the form again as it was.
func formAppInput(r *http.Request) (appreg.Input, appForm, error) {
	_ = r.PostFormValue("name") // parses the form
	v := func(name string) string { return r.PostForm.Get(name) }
	in := appreg.Input{Name: v("name"), Platform: v("platform"), Package: v("package"), Operator: v("operator"),
		Purpose: v("purpose"), Evidence: v("evidence")}
	var formErr error
	if o := strings.TrimSpace(v("org_id")); o != "" {
		id, err := strconv.ParseInt(o, 10, 64)
		if err != nil || id <= 0 {
			formErr = problem.Invalid("org_id", "is not an organisation").WithMsg("error.msg.not_integer")
		}
		in.OrgID = id
	}
	for _, role := range appreg.ContactRoles {
		c := appreg.Contact{Role: role, Name: v("contact_" + role + "_name"), Phone: v("contact_" + role + "_phone"),
			Email: v("contact_" + role + "_email")}
		if strings.TrimSpace(c.Name+c.Phone+c.Email) != "" {
			in.Contacts = append(in.Contacts, c)
		}
	}
	names, urls := r.PostForm["channel_name"], r.PostForm["channel_url"]
	for i := range max(len(names), len(urls)) {
		c := appreg.Channel{Name: at(names, i), URL: at(urls, i)}
		if strings.TrimSpace(c.Name+c.URL) != "" {
			in.Channels = append(in.Channels, c)
		}
	}
	var typed []appVersionRow
	vers, codes, shas, sm3s, signers := r.PostForm["version"], r.PostForm["version_code"], r.PostForm["version_sha256"],
		r.PostForm["version_sm3"], r.PostForm["version_signers"]
	current := v("version_current")
	for i := range len(vers) {
		row := appVersionRow{Version: appreg.Version{Version: at(vers, i), SHA256: at(shas, i), SM3: at(sm3s, i),
			Current: current == strconv.Itoa(i)}, Code: strings.TrimSpace(at(codes, i)), Signers: at(signers, i)}
		if strings.TrimSpace(row.Version.Version+row.Code+row.SHA256+row.SM3+row.Signers) == "" {
			continue
		}
		if row.Code != "" {
			n, err := strconv.ParseInt(row.Code, 10, 64)
			if err != nil && formErr == nil {
				formErr = problem.Invalid("versions.version_code", "must be a whole number").WithMsg("error.msg.not_integer")
			}
			row.VersionCode = n
		}
		row.Signers = strings.TrimSpace(row.Signers)
		row.Version.Signers = strings.FieldsFunc(row.Signers, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' })
		typed = append(typed, row)
		in.Versions = append(in.Versions, row.Version)
	}
	f := newAppForm(in)
	// Show the versions as typed (codes that did not parse, signers with their separators).
	f.Versions = append(typed, make([]appVersionRow, max(1, blankRows-len(typed)))...)
	return in, f, formErr
}

// Bad reports whether the problem shown is about row i of section.
func (f appForm) Bad(section string, i int) bool {
	return f.BadSection == section && (f.BadRow == i || f.BadRow < 0)
}

// BadBelow reports whether the problem about section is shown under the whole table
// (it is about no single row).
func (f appForm) BadBelow(section string) bool { return f.BadSection == section && f.BadRow < 0 }

// locate finds the row of the form a problem of the registry's checks is about: it
// checks each row of the problem's section alone in an otherwise valid application.
// A problem no single row has (a channel named twice) stays with the whole section.
func (f *appForm) locate(err error) {
	pe, ok := problem.As(err)
	if !ok {
		return
	}
	section, _, found := strings.Cut(pe.Field, ".")
	if !found && pe.Field != "contacts" {
		return
	}
	f.BadSection, f.BadRow = section, -1
	base := appreg.Input{Name: "x", Platform: appreg.PlatformAndroid, Package: "x", Operator: "x", Purpose: "x"}
	fails := func(in appreg.Input) bool {
		pe2, ok := problem.As(appreg.Check(in))
		return ok && pe2.Field == pe.Field
	}
	switch section {
	case "contacts":
		for i, c := range f.Contacts {
			if in := base; strings.TrimSpace(c.Name+c.Phone+c.Email) != "" {
				in.Contacts = []appreg.Contact{c}
				if fails(in) {
					f.BadRow = i
					return
				}
			}
		}
	case "channels":
		for i, c := range f.Channels {
			if in := base; strings.TrimSpace(c.Name+c.URL) != "" {
				in.Channels = []appreg.Channel{c}
				if fails(in) {
					f.BadRow = i
					return
				}
			}
		}
	case "versions":
		for i, v := range f.Versions {
			if in := base; strings.TrimSpace(v.Version.Version+v.Code+v.SHA256+v.SM3+v.Signers) != "" {
				in.Versions = []appreg.Version{v.Version}
				if fails(in) {
					f.BadRow = i
					return
				}
			}
		}
	}
}

// at is xs[i], or "" past its end.
func at(xs []string, i int) string {
	if i < len(xs) {
		return xs[i]
	}
	return ""
}

// hospitalOptions lists the hospitals the reader sees, which can file apps.
func (s *Server) hospitalOptions(r *http.Request) ([]orgOption, error) {
	all, err := s.orgOptions(r.Context(), reqActor(r))
	if err != nil {
		return nil, err
	}
	nodes, err := s.Orgs.List(r.Context(), reqActor(r))
	if err != nil {
		return nil, err
	}
	hospital := map[int64]bool{}
	for _, n := range nodes {
		hospital[n.ID] = n.Kind == org.KindHospital
	}
	var out []orgOption
	for _, o := range all {
		if hospital[o.ID] {
			o.Label = strings.TrimLeft(o.Label, "\u3000")
			out = append(out, o)
		}
	}
	return out, nil
}

func (s *Server) uiAppNew(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.apps(); err != nil {
		return err
	}
	in := appreg.Input{OrgID: principalFrom(r.Context()).User.OrgID, Platform: appreg.PlatformAndroid}
	return s.showAppForm(w, r, newAppForm(in), nil)
}

// showAppForm renders the admission form with failed (a problem of the last submission)
// at its field.
func (s *Server) showAppForm(w http.ResponseWriter, r *http.Request, f appForm, failed error) error {
	p := s.newPage(r, w, "app.new.title", "apps")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	if f.Orgs, err = s.hospitalOptions(r); err != nil {
		return err
	}
	f.Action = "/apps"
	f.locate(failed)
	p.Data = f
	return s.render(w, code, "app_form.html", p)
}

func (s *Server) uiAppCreate(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	in, f, err := formAppInput(r)
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID // as the API does
	}
	if err == nil {
		var ap appreg.App
		if ap, err = reg.Apply(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, idPath("/apps/", ap.ID)+"?flash=flash.app.applied")
		}
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	return s.showAppForm(w, r, f, err)
}

// appShowData is what app.html shows.
type appShowData struct {
	App          appreg.App
	Applications []appreg.Application
	Codes        []appreg.Code
	Findings     []appreg.Finding
	Observations []appreg.Observation
	Inspections  []appreg.Inspection
	PortalURLs   []string // the addresses a web check may be run on
	Readmit      *appForm // the re-admission form, for an evicted or rejected app
	Platforms    []string
	Now          time.Time
}

func (s *Server) uiAppShow(w http.ResponseWriter, r *http.Request) error {
	return s.showApp(w, r, nil, nil)
}

// showApp renders app {id} with failed (the problem of an action on it) at the top; a
// re-admission form as the reader typed it replaces the filed one.
func (s *Server) showApp(w http.ResponseWriter, r *http.Request, failed error, readmit *appForm) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx, a := r.Context(), reqActor(r)
	ap, err := reg.App(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "app.show.title", "apps")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	d := appShowData{App: ap, Platforms: appreg.Platforms, Now: time.Now()}
	if d.Applications, err = reg.Applications(ctx, a, id); err != nil {
		return err
	}
	if d.Codes, err = reg.Codes(ctx, a, id); err != nil {
		return err
	}
	if d.Findings, err = reg.Findings(ctx, a, id, true); err != nil {
		return err
	}
	if d.Observations, err = reg.LatestObservations(ctx, a, id); err != nil {
		return err
	}
	if d.Inspections, err = reg.Inspections(ctx, a, id); err != nil {
		return err
	}
	d.PortalURLs = appreg.PortalURLs(ap)
	slices.SortStableFunc(d.App.Contacts, func(a, b appreg.Contact) int {
		return slices.Index(appreg.ContactRoles, a.Role) - slices.Index(appreg.ContactRoles, b.Role)
	})
	if ap.Status == appreg.StatusEvicted || ap.Status == appreg.StatusRejected {
		if readmit == nil {
			f := newAppForm(inputFromApp(ap))
			readmit = &f
		}
		readmit.Readmit, readmit.Hospital, readmit.Action = true, ap.OrgName, idPath("/apps/", id)+"/readmit"
		readmit.In.Platform, readmit.In.Package = ap.Platform, ap.Package
		readmit.locate(failed)
		d.Readmit = readmit
	}
	p.Data = d
	return s.render(w, code, "app.html", p)
}

// appAction runs do on app {id}, which the reader must see (another hospital's app is
// 404 before the form is read), and returns to the app with flash, or shows the app with
// the problem.
func (s *Server) uiAppAction(w http.ResponseWriter, r *http.Request, flash string, do func(reg *appreg.Service, id int64) error) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	if err := do(reg, id); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showApp(w, r, err, nil)
	}
	return redirect(w, r, idPath("/apps/", id)+"?flash="+flash)
}

func (s *Server) uiAppReview(w http.ResponseWriter, r *http.Request) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	d := appreg.Decision{Comment: r.PostFormValue("comment")}
	flash := "flash.app.rejected"
	switch r.PostFormValue("decision") {
	case "approve":
		d.Approve, flash = true, "flash.app.approved"
	case "reject":
	default:
		return s.showApp(w, r, problem.OneOf("decision", "approve", "reject"), nil)
	}
	if _, err := reg.Review(r.Context(), reqActor(r), id, d); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showApp(w, r, err, nil)
	}
	return redirect(w, r, idPath("/apps/", id)+"?flash="+flash)
}

func (s *Server) uiAppEvict(w http.ResponseWriter, r *http.Request) error {
	return s.uiAppAction(w, r, "flash.app.evicted", func(reg *appreg.Service, id int64) error {
		_, err := reg.Evict(r.Context(), reqActor(r), id, r.PostFormValue("reason"))
		return err
	})
}

func (s *Server) uiAppRotateCode(w http.ResponseWriter, r *http.Request) error {
	return s.uiAppAction(w, r, "flash.app.code_rotated", func(reg *appreg.Service, id int64) error {
		_, err := reg.RotateCode(r.Context(), reqActor(r), id)
		return err
	})
}

func (s *Server) uiAppInspect(w http.ResponseWriter, r *http.Request) error {
	return s.uiAppAction(w, r, "flash.app.inspected", func(reg *appreg.Service, id int64) error {
		_, err := inspectUpload(w, r, reg, id)
		return err
	})
}

func (s *Server) uiAppWebCheck(w http.ResponseWriter, r *http.Request) error {
	return s.uiAppAction(w, r, "flash.app.webchecked", func(reg *appreg.Service, id int64) error {
		_, err := s.checkPortal(r, reg, id, r.PostFormValue("url"))
		return err
	})
}

func (s *Server) uiAppObserve(w http.ResponseWriter, r *http.Request) error {
	return s.uiAppAction(w, r, "flash.app.observed", func(reg *appreg.Service, id int64) error {
		o := appreg.Observation{Channel: r.PostFormValue("channel"), Version: r.PostFormValue("version"),
			SHA256: r.PostFormValue("sha256"), Signer: r.PostFormValue("signer")}
		_, err := reg.Observe(r.Context(), reqActor(r), id, o)
		return err
	})
}

func (s *Server) uiAppReadmit(w http.ResponseWriter, r *http.Request) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	in, f, err := formAppInput(r)
	if err == nil {
		if _, err = reg.Readmit(r.Context(), reqActor(r), id, in); err == nil {
			return redirect(w, r, idPath("/apps/", id)+"?flash=flash.app.readmit")
		}
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	return s.showApp(w, r, err, &f)
}

// AppStatus is an app's state in the page's language.
func (p *page) AppStatus(status string) string {
	if key := "app.status." + status; p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return status
}

// Platform is an app platform's name in the page's language.
func (p *page) Platform(platform string) string {
	if key := "app.platform." + platform; p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return platform
}

// FieldIs reports whether the problem shown is about one of fields.
func (p *page) FieldIs(fields ...string) bool {
	return p.Field != "" && slices.Contains(fields, p.Field)
}
