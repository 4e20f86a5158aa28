package web

import (
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

type orgListData struct {
	Nodes []org.Node
	Input org.Input
	Kinds []string
}

func (s *Server) orgListPage(w http.ResponseWriter, r *http.Request, code int, pe *problem.Error, in org.Input) error {
	p := principalFrom(r.Context())
	nodes, err := s.Orgs.List(r.Context(), p.actor(r))
	if err != nil {
		return err
	}
	pg := s.newPage(r, w, "org.list.title", "orgs")
	if pe != nil {
		pg.fail(pe)
	}
	pg.Data = orgListData{Nodes: nodes, Input: in, Kinds: org.Kinds}
	return s.render(w, code, "orgs.html", pg)
}

func (s *Server) uiOrgList(w http.ResponseWriter, r *http.Request) error {
	return s.orgListPage(w, r, http.StatusOK, nil, org.Input{Kind: org.KindDepartment})
}

func orgInputFromForm(r *http.Request) org.Input {
	parent, _ := strconv.ParseInt(r.PostFormValue("parent_id"), 10, 64)
	return org.Input{ParentID: parent, Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"),
		Code: r.PostFormValue("code"), MFARequired: r.PostFormValue("mfa_required") == "on"}
}

func (s *Server) uiOrgCreate(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	in := orgInputFromForm(r)
	n, err := s.Orgs.Create(r.Context(), p.actor(r), in)
	if pe, ok := problem.As(err); ok && pe.Kind != problem.KindInternal {
		return s.orgListPage(w, r, statusOf(pe.Kind), pe, in)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+strconv.FormatInt(n.ID, 10)+"?flash=flash.org_saved")
}

type orgShowData struct {
	Node     org.Node
	Parent   *org.Node
	Children []org.Node
}

func (s *Server) orgShowPage(w http.ResponseWriter, r *http.Request, code int, pe *problem.Error, id int64, edit *org.Input) error {
	ctx := r.Context()
	a := principalFrom(ctx).actor(r)
	n, err := s.Orgs.Get(ctx, a, id)
	if err != nil {
		return err
	}
	all, err := s.Orgs.List(ctx, a)
	if err != nil {
		return err
	}
	d := orgShowData{Node: n}
	for i := range all {
		if all[i].ParentID == n.ID {
			d.Children = append(d.Children, all[i])
		}
		if all[i].ID == n.ParentID {
			d.Parent = &all[i]
		}
	}
	if edit != nil {
		d.Node.Name, d.Node.Code, d.Node.MFARequired = edit.Name, edit.Code, edit.MFARequired
	}
	pg := s.newPage(r, w, "org.show.title", "orgs")
	if pe != nil {
		pg.fail(pe)
	}
	pg.Data = d
	return s.render(w, code, "org_show.html", pg)
}

func (s *Server) uiOrgShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.orgShowPage(w, r, http.StatusOK, nil, id, nil)
}

func (s *Server) uiOrgUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	in := orgInputFromForm(r)
	_, err = s.Orgs.Update(r.Context(), principalFrom(r.Context()).actor(r), id, in)
	if pe, ok := problem.As(err); ok && pe.Kind == problem.KindInvalid {
		return s.orgShowPage(w, r, statusOf(pe.Kind), pe, id, &in)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+strconv.FormatInt(id, 10)+"?flash=flash.org_saved")
}

func (s *Server) uiOrgDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	err = s.Orgs.Delete(r.Context(), principalFrom(r.Context()).actor(r), id)
	if pe, ok := problem.As(err); ok && pe.Kind == problem.KindConflict {
		return s.orgShowPage(w, r, statusOf(pe.Kind), pe, id, nil)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/orgs?flash=flash.org_deleted")
}
