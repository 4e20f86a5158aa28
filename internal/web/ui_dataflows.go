package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
)

// dataflowListData is the register's page: the flows, deficient first, and its figures.
type dataflowListData struct {
	Flows         []dataflow.Flow
	Total         int
	Counts        dataflow.Counts
	Kinds         []string
	Kind          string
	Level         string
	OnlyDeficient bool
	Levels        []string
	ImportErrors  []dataflowImportRow // the wrong lines of a register just imported
	Columns       []string            // the columns of an imported register
}

func (s *Server) uiDataflowList(w http.ResponseWriter, r *http.Request) error {
	return s.renderDataflowList(w, r, nil, nil)
}

// renderDataflowList renders the register with failed (an import's problem) at the top
// and the wrong lines of the import.
func (s *Server) renderDataflowList(w http.ResponseWriter, r *http.Request, failed error, importErrors []dataflowImportRow) error {
	svc, err := s.dataflows()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "dataflow.list.title", "compliance")
	p.Sub = "dataflows"
	q, qerr := dataflowQuery(r)
	d := dataflowListData{Kinds: dataflow.RecipientKinds, Kind: q.RecipientKind, Level: r.URL.Query().Get("level"),
		OnlyDeficient: q.Deficient != nil && *q.Deficient, Levels: []string{"1", "2", "3", "4", "5"},
		ImportErrors: importErrors, Columns: dataflow.Columns}
	err = func() error {
		if qerr != nil {
			return qerr
		}
		var err error
		if d.Counts, err = svc.Counts(r.Context(), reqActor(r), 0); err != nil {
			return err
		}
		q.Limit = 500
		d.Flows, d.Total, err = svc.Flows(r.Context(), reqActor(r), q)
		return err
	}()
	if failed != nil {
		err = failed
	}
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "dataflows.html", p)
}

// dataflowShowData is one flow's page: the flow with its deficiencies and linked risks,
// and for a writer the edit form (not once ended) and the end form (until the
// destruction is recorded).
type dataflowShowData struct {
	Flow   dataflow.Flow
	Risks  []risk.Risk
	Form   *dataflowForm
	CanEnd bool
}

func (s *Server) uiDataflowShow(w http.ResponseWriter, r *http.Request) error {
	return s.showFlow(w, r, nil, nil)
}

// dataflowForm is the form of a flow: a new one (ID 0) or the edit of flow ID, with the
// business systems of the organisation to pick its sources from.
type dataflowForm struct {
	ID         int64
	In         dataflow.Input
	Levels     map[string]int // the level chosen per category (absent: not sent)
	Selected   map[int64]bool // the source systems picked
	Orgs       []orgOption    // hospitals a new flow may belong to
	Assets     []asset.Asset  // business systems to pick from
	Kinds      []string
	Categories []string
	Bases      []string
	Deidents   []string
	Transfers  []string
	Statuses   []string
	LevelSteps []int
}

// dataflowFormInput reads the flow form (templates/_dataflow.html) into an Input: one
// level select per GB/T 39725 category ("" when the category is not sent) and the
// picked source systems. It returns what it could read with the first field that is
// not a number where one is asked, so the form is shown again as written.
func dataflowFormInput(v url.Values) (dataflow.Input, error) {
	in := dataflow.Input{Name: v.Get("name"), RecipientName: v.Get("recipient_name"), RecipientKind: v.Get("recipient_kind"),
		Purpose: v.Get("purpose"), LegalBasis: v.Get("legal_basis"), AgreementRef: v.Get("agreement_ref"),
		AgreementSigned: v.Get("agreement_signed"), AgreementExpires: v.Get("agreement_expires"), Deident: v.Get("deidentification"),
		DeidentNote: v.Get("deidentification_note"), Transfer: v.Get("transfer"), Frequency: v.Get("frequency"),
		Volume: v.Get("volume"), Retention: v.Get("retention"), Status: v.Get("status"),
		Categories: []dataflow.Category{}, SourceAssetIDs: []int64{}}
	var first error
	for _, c := range dataflow.Categories {
		t := strings.TrimSpace(v.Get("level_" + c))
		if t == "" {
			continue
		}
		l, err := strconv.Atoi(t)
		if err != nil || l < 1 || l > 5 {
			if first == nil {
				first = problem.Invalid("categories", "a level is from 1 to 5").WithMsg("dataflow.error.level")
			}
			continue
		}
		in.Categories = append(in.Categories, dataflow.Category{Category: c, Level: l})
	}
	for _, t := range v["source_asset_ids"] {
		id, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil || id <= 0 {
			if first == nil {
				first = problem.Invalid("source_asset_ids", "names an asset that is not this hospital's").WithMsg("dataflow.error.asset")
			}
			continue
		}
		in.SourceAssetIDs = append(in.SourceAssetIDs, id)
	}
	if t := strings.TrimSpace(v.Get("org_id")); t != "" {
		id, err := strconv.ParseInt(t, 10, 64)
		if (err != nil || id <= 0) && first == nil {
			first = problem.Invalid("org_id", "organisation is not valid").WithMsg("error.msg.not_valid")
		}
		in.OrgID = max(id, 0)
	}
	return in, first
}

// dataflowFormFor fills the form of in (flow id, 0 for a new one): the hospitals the
// reader may register in and the business systems the reader sees, plus the systems
// already picked whatever their kind.
func (s *Server) dataflowFormFor(r *http.Request, id int64, in dataflow.Input) (*dataflowForm, error) {
	f := &dataflowForm{ID: id, In: in, Levels: map[string]int{}, Selected: map[int64]bool{}, Kinds: dataflow.RecipientKinds,
		Categories: dataflow.Categories, Bases: dataflow.LegalBases, Deidents: dataflow.Deidents, Transfers: dataflow.Transfers,
		Statuses: []string{dataflow.StatusActive, dataflow.StatusSuspended}, LevelSteps: []int{1, 2, 3, 4, 5}}
	for _, c := range in.Categories {
		f.Levels[c.Category] = c.Level
	}
	for _, a := range in.SourceAssetIDs {
		f.Selected[a] = true
	}
	var err error
	if id == 0 {
		if f.Orgs, err = s.hospitalOptions(r); err != nil {
			return nil, err
		}
	}
	if s.Assets == nil {
		return f, nil
	}
	q := asset.Query{Kind: "business_system", OrgID: in.OrgID, PerPage: 500}
	if id == 0 {
		q.OrgID = 0 // a new flow's hospital is chosen on the form
	}
	pg, err := s.Assets.List(r.Context(), reqActor(r), q)
	if err != nil {
		return nil, err
	}
	f.Assets = pg.Items
	for _, aid := range in.SourceAssetIDs {
		if slices.ContainsFunc(f.Assets, func(a asset.Asset) bool { return a.ID == aid }) {
			continue
		}
		if a, err := s.Assets.Get(r.Context(), reqActor(r), aid); err == nil {
			f.Assets = append(f.Assets, a)
		}
	}
	return f, nil
}

// dataflowNewData is the page of a new flow.
type dataflowNewData struct{ Form *dataflowForm }

// uiDataflowNew shows the form of a new flow, in the reader's hospital.
func (s *Server) uiDataflowNew(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.dataflows(); err != nil {
		return err
	}
	return s.renderDataflowNew(w, r, dataflow.Input{OrgID: principalFrom(r.Context()).User.OrgID,
		Deident: dataflow.DeidentNone, Status: dataflow.StatusActive}, nil)
}

func (s *Server) renderDataflowNew(w http.ResponseWriter, r *http.Request, in dataflow.Input, failed error) error {
	p := s.newPage(r, w, "dataflow.new.title", "compliance")
	p.Sub = "dataflows"
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	f, err := s.dataflowFormFor(r, 0, in)
	if err != nil {
		return err
	}
	p.Data = dataflowNewData{Form: f}
	return s.render(w, code, "dataflow_new.html", p)
}

// uiDataflowCreate registers the flow of the form; a deficient one raises its risk in
// the page's language.
func (s *Server) uiDataflowCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.dataflows()
	if err != nil {
		return err
	}
	in, err := dataflowFormInput(r.PostForm)
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	if err == nil {
		in.Lang = s.newPage(r, nil, "", "").Lang
		var f dataflow.Flow
		if f, err = svc.Create(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, idPath("/dataflows/", f.ID)+"?flash=flash.dataflow.created")
		}
	}
	return s.renderDataflowNew(w, r, in, err)
}

// showFlow renders flow {id}, with failed (the problem of an action on it) at the top
// and, when the edit failed, the form as written (edit).
func (s *Server) showFlow(w http.ResponseWriter, r *http.Request, failed error, edit *dataflow.Input) error {
	_, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "dataflow.show.title", "compliance")
	p.Sub = "dataflows"
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	d := dataflowShowData{Flow: f, Risks: []risk.Risk{}}
	if s.Risks != nil {
		if d.Risks, err = s.Risks.RisksOf(r.Context(), reqActor(r), risk.ModuleDataflow, f.ID); err != nil {
			return err
		}
	}
	if p.Can(string(auth.PermComplianceWrite)) {
		d.CanEnd = f.Status != dataflow.StatusEnded || f.Destruction == nil
		if f.Status != dataflow.StatusEnded {
			in := f.Input()
			if edit != nil {
				in = *edit
			}
			if d.Form, err = s.dataflowFormFor(r, f.ID, in); err != nil {
				return err
			}
		}
	}
	p.Data = d
	return s.render(w, code, "dataflow.html", p)
}

// uiDataflowAction runs do on flow {id}, which the reader must see, and returns to the
// flow with flash, or shows it with the problem (and the form as written, edit).
func (s *Server) uiDataflowAction(w http.ResponseWriter, r *http.Request, flash string,
	do func(svc *dataflow.Service, f dataflow.Flow, lang string) (*dataflow.Input, error)) error {
	svc, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	edit, err := do(svc, f, s.newPage(r, nil, "", "").Lang)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showFlow(w, r, err, edit)
	}
	return redirect(w, r, idPath("/dataflows/", f.ID)+"?flash="+flash)
}

// uiDataflowUpdate saves the edit form of flow {id}.
func (s *Server) uiDataflowUpdate(w http.ResponseWriter, r *http.Request) error {
	return s.uiDataflowAction(w, r, "flash.dataflow.saved", func(svc *dataflow.Service, f dataflow.Flow, lang string) (*dataflow.Input, error) {
		in, err := dataflowFormInput(r.PostForm)
		in.OrgID, in.Lang = f.OrgID, lang
		if err != nil {
			return &in, err
		}
		_, err = svc.Update(r.Context(), reqActor(r), f.ID, in)
		return &in, err
	})
}

// uiDataflowEnd ends flow {id}, with the record of the data's destruction when given.
func (s *Server) uiDataflowEnd(w http.ResponseWriter, r *http.Request) error {
	return s.uiDataflowAction(w, r, "flash.dataflow.ended", func(svc *dataflow.Service, f dataflow.Flow, lang string) (*dataflow.Input, error) {
		_, err := svc.End(r.Context(), reqActor(r), f.ID, dataflow.EndInput{By: r.PostFormValue("destroyed_by"),
			At: r.PostFormValue("destroyed_at"), Verification: r.PostFormValue("verification"), Lang: lang})
		return nil, err
	})
}

// uiDataflowAttach stores an agreement or destruction document of flow {id}.
func (s *Server) uiDataflowAttach(w http.ResponseWriter, r *http.Request) error {
	return s.uiDataflowAction(w, r, "flash.dataflow.attached", func(svc *dataflow.Service, f dataflow.Flow, _ string) (*dataflow.Input, error) {
		data, name, err := uploadedDocument(w, r, "file", "file_too_large", "file_required", maxDataflowDocument)
		if err != nil {
			return nil, err
		}
		_, err = svc.AddAttachment(r.Context(), reqActor(r), f.ID, name, bytes.NewReader(data))
		return nil, err
	})
}

// dataflowImportRow is a wrong line of an imported register, in the page's language.
type dataflowImportRow struct {
	Line           int
	Field, Message string
}

// uiDataflowImport imports a register in CSV into the reader's hospital (or the one
// chosen): all lines or none; the wrong lines are listed on the register's page.
func (s *Server) uiDataflowImport(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.dataflows()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "dataflow.list.title", "compliance")
	var rows []dataflowImportRow
	err = func() error {
		data, name, err := uploadedDocument(w, r, "file", "file_too_large", "file_required", dataflow.MaxImportBytes)
		if err != nil {
			return err
		}
		org, err := formID(r, "org_id")
		if err != nil {
			return err
		}
		if org == 0 {
			org = principalFrom(r.Context()).User.OrgID
		}
		rep, err := svc.Import(r.Context(), reqActor(r), org, name, data, p.Lang)
		if err != nil {
			return err
		}
		for _, e := range rep.Errors {
			row := dataflowImportRow{Line: e.Line, Field: e.Field, Message: p.Msg(e.Msg, e.Message)}
			if key := "dataflow.column." + e.Field; s.I18n.Has(p.Lang, key) {
				row.Field = p.T(key)
			}
			rows = append(rows, row)
		}
		if len(rows) > 0 {
			return problem.Invalid("file", "%d lines of the file are wrong", len(rows)).WithMsg("dataflow.error.csv_lines", len(rows))
		}
		return nil
	}()
	if err == nil {
		return redirect(w, r, "/dataflows?flash=flash.dataflow.imported")
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	return s.renderDataflowList(w, r, err, rows)
}
