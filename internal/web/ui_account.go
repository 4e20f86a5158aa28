package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/problem"
)

type accountData struct {
	Tokens        []auth.Token
	NewToken      string
	RecoveryLeft  int
	MFARequired   bool
	TokenName     string
	PasswordField string
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, code int, pe *problem.Error, d accountData) error {
	ctx := r.Context()
	p := principalFrom(ctx)
	pg := s.newPage(r, w, "account.title", "account")
	toks, err := s.Auth.Tokens(ctx, p.actor(r), p.User.ID)
	if err != nil {
		return err
	}
	d.Tokens = toks
	if p.User.MFAEnabled {
		if d.RecoveryLeft, err = s.Auth.RecoveryCodesLeft(ctx, p.User.ID); err != nil {
			return err
		}
	}
	d.MFARequired = p.Enrol
	if pe != nil {
		pg.fail(pe)
	}
	pg.Data = d
	return s.render(w, code, "account.html", pg)
}

func (s *Server) uiAccount(w http.ResponseWriter, r *http.Request) error {
	return s.accountPage(w, r, http.StatusOK, nil, accountData{})
}

func (s *Server) uiAccountPassword(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if r.PostFormValue("new_password") != r.PostFormValue("new_password2") {
		pe := problem.Invalid("new_password2", "the two passwords differ").WithCode("password_mismatch")
		return s.accountPage(w, r, http.StatusBadRequest, pe, accountData{})
	}
	err := s.Auth.ChangeOwnPassword(r.Context(), p.actor(r), r.PostFormValue("old_password"), r.PostFormValue("new_password"))
	if pe, ok := problem.As(err); ok {
		return s.accountPage(w, r, statusOf(pe.Kind), pe, accountData{})
	} else if err != nil {
		return err
	}
	// Whoever else was signed in as this user (with the old password) is signed out.
	if p.Session != nil {
		if err := s.Auth.EndOtherSessions(r.Context(), p.User.ID, p.rawTok); err != nil {
			return err
		}
	}
	return redirect(w, r, "/account?flash=flash.password_changed")
}

type mfaData struct {
	Enabled       bool
	Secret        string
	QR            template.URL // data: URL of the QR code PNG (trusted: we encoded it)
	RecoveryCodes []string
}

func (s *Server) uiMFAEnrolForm(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	pg := s.newPage(r, w, "mfa.enrol.title", "account")
	if p.User.MFAEnabled {
		pg.Data = mfaData{Enabled: true}
		return s.render(w, http.StatusOK, "account_mfa.html", pg)
	}
	en, err := s.Auth.BeginMFAEnrolment(r.Context(), p.actor(r))
	if err != nil {
		return err
	}
	pg.Data = mfaData{Secret: en.Secret, QR: qrURL(en.QRPNG)}
	return s.render(w, http.StatusOK, "account_mfa.html", pg)
}

func (s *Server) uiMFAEnrol(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	codes, err := s.Auth.ConfirmMFAEnrolment(r.Context(), p.actor(r), strings.TrimSpace(r.PostFormValue("code")))
	pg := s.newPage(r, w, "mfa.enrol.title", "account")
	if pe, ok := problem.As(err); ok {
		pg.fail(pe)
		// Show the pending enrolment again (the same secret: nothing was changed).
		en, berr := s.Auth.BeginMFAEnrolment(r.Context(), p.actor(r))
		if berr != nil {
			return berr
		}
		pg.Data = mfaData{Secret: en.Secret, QR: qrURL(en.QRPNG)}
		return s.render(w, statusOf(pe.Kind), "account_mfa.html", pg)
	} else if err != nil {
		return err
	}
	// Enrolling proved possession of the second factor: this session counts as verified.
	if p.Session != nil {
		if err := s.Auth.MarkSessionMFA(r.Context(), p.rawTok); err != nil {
			return err
		}
	}
	pg.Data = mfaData{Enabled: true, RecoveryCodes: codes}
	pg.Flash = "flash.mfa_enabled"
	return s.render(w, http.StatusOK, "account_mfa.html", pg)
}

// qrURL turns PNG bytes into a data: URL for an <img>. html/template would otherwise
// refuse the data: scheme and print #ZgotmplZ.
func qrURL(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

func (s *Server) uiTokenCreate(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	if days < 0 || days > 3650 {
		return s.accountPage(w, r, http.StatusBadRequest, problem.Invalid("days", "expiry must be between 0 and 3650 days").WithMsg("error.msg.days_between", 0, 3650), accountData{})
	}
	plain, _, err := s.Auth.CreateToken(r.Context(), p.actor(r), p.User.ID, strings.TrimSpace(r.PostFormValue("name")),
		r.PostFormValue("scope"), time.Duration(days)*24*time.Hour)
	if pe, ok := problem.As(err); ok {
		return s.accountPage(w, r, statusOf(pe.Kind), pe, accountData{TokenName: r.PostFormValue("name")})
	} else if err != nil {
		return err
	}
	return s.accountPage(w, r, http.StatusCreated, nil, accountData{NewToken: plain})
}

func (s *Server) uiTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Auth.RevokeToken(r.Context(), p.actor(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/account?flash=flash.token_revoked")
}
