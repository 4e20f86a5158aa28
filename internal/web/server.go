// Package web is medguard's HTTP surface: the JSON API under /api/v1 (with its OpenAPI
// document), the server-rendered browser UI, static files, health and metrics. Handlers
// translate HTTP to calls on the domain services; every route is declared once in
// routes.go with the permission it needs, and one wrapper authenticates, authorizes,
// checks CSRF and maps errors for all of them.
package web

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/dlp/mask"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/portal"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/training"
	"github.com/medguard/medguard/internal/upstream"
	"github.com/medguard/medguard/internal/vuln"
)

//go:embed static
var staticFS embed.FS

// Deps are the services the HTTP layer calls.
type Deps struct {
	DB     *store.DB
	Trail  *trail.Log
	Orgs   *org.Service
	Auth   *auth.Service
	Assets *asset.Service
	Supply *supply.Service // software supply chain: vendors, products, SBOMs, findings, gates
	Vulns  *vuln.DB        // the OSV vulnerability database
	DLP    *dlpsvc.Service // patient-data detection: scans, jobs, policy checks, reveals
	Notify *notify.Service // notification channels, routes, outbox, dead letters
	Alerts *alert.Service  // the alert inbox of every module: alerts, cases, silences
	// Reference is the reference data (staff, patients, encounters) that explains
	// patient-record accesses.
	Reference *reference.Service
	Events    *events.Service // audit events of hospital systems (POST /api/v1/events)
	Apps      *appreg.Service // internet-hospital apps: admission, codes, channels, scores
	// Upstream is the regional side of upward reporting: the hospitals' links and the
	// app reports they push (nil: the routes answer 404).
	Upstream *upstream.Region
	// Risks is the risk register, Incidents the incidents with their reporting clocks and
	// Plans the emergency plans and drills (nil: their routes answer 404).
	Risks     *risk.Service
	Incidents *incident.Service
	Plans     *incident.Plans
	// Compliance (issue 17): each module adds its service under its own heading (nil: its
	// routes answer 404).
	// Compliance: catalogues (package control).

	// Compliance: assessments (package assess).
	// Assess keeps the compliance assessments; it holds the catalogue adapter (nil: the
	// assessment routes answer 404). AssessRisks is the register a gap becomes a risk in
	// (the risk register whose source mux reads module assess_item; nil: that route
	// answers 404).
	Assess      *assess.Service
	AssessRisks assess.RiskRaiser

	// Compliance: policies (package policy).
	Policies *policy.Service // policy documents and reviews, security roles, periodic self-checks

	// Compliance: training (package training).
	Training *training.Service

	// Compliance: data flows (package dataflow).
	Dataflows *dataflow.Service

	// Compliance: reports (package report).
	Reports *report.Service // periodic reports: templates, schedules, stored reports and their files

	// Compliance: overview (package overview).
	Overview *overview.Service // the overview dashboard of a hospital and of a region

	// AppKeys are the public keys (PEM) that verify the apps' authorization codes
	// offline, served at GET /api/v1/authcodes/keys.
	AppKeys []byte
	// WebCheck configures the checks of the apps' portals (zero: the system's roots).
	WebCheck portal.Options
	// AppModel is the scoring model the registry evaluates apps with: the score page
	// shows its grade thresholds and labels its finding types. Nil: the built-in model.
	AppModel *appscore.Model
	// Explain classifies patient-record accesses on the investigation pages; nil: one
	// is made on Reference (the server shares the detection engine's when it has one).
	Explain *explain.Explainer
	// DetectEnv is the detection engine's view of the hospital (internal networks, jump
	// hosts, holidays, time zone) for rule tests against history; its Explainer, when
	// nil, is Explain.
	DetectEnv detect.Env
	// EventIngests is how many event batches are stored at once (0: defaultIngests);
	// one more is answered 429.
	EventIngests int
	I18n         *i18n.Catalog
	Logger       *slog.Logger
	TLS          bool   // serving over TLS: Secure cookies and HSTS
	Version      string // shown in the UI footer and /api/v1/me
	// TrailCheckpoints is the file of signed trail checkpoints that verification checks
	// the chain extends and the trail page shows the newest of; empty = none.
	TrailCheckpoints string
}

// Server is the HTTP handler of the platform.
type Server struct {
	Deps
	mux       *http.ServeMux
	routes    []route
	tmpl      *templates
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	registry  *prometheus.Registry
	openapi   map[string]any // the OpenAPI document, built once in New

	outcomes outcomes // results of page actions shown after the redirect

	ingests chan struct{} // one token per event batch being stored

	logMaskOnce sync.Once
	logMask     *mask.Masker // masks patient data in causes written to the log
}

// New builds the server and registers every route.
func New(d Deps) (*Server, error) {
	if d.DB == nil || d.Trail == nil || d.Orgs == nil || d.Auth == nil || d.Assets == nil ||
		d.Supply == nil || d.Vulns == nil || d.DLP == nil || d.Notify == nil || d.Reference == nil {
		return nil, errors.New("web: missing service")
	}
	if d.I18n == nil {
		c, err := i18n.Load()
		if err != nil {
			return nil, err
		}
		d.I18n = c
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Explain == nil {
		d.Explain = explain.New(d.Reference, explain.Options{})
	}
	s := &Server{Deps: d, mux: http.NewServeMux(), registry: prometheus.NewRegistry()}
	s.ingests = make(chan struct{}, cmp.Or(max(d.EventIngests, 0), defaultIngests))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "medguard_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	s.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "medguard_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
	}, []string{"route"})
	s.registry.MustRegister(s.requests, s.durations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tm, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	s.tmpl = tm
	s.routes = s.routeTable()
	s.openapi = buildOpenAPI(d.Version)
	for _, rt := range s.routes {
		s.mux.Handle(strings.TrimSpace(rt.Method+" "+rt.Pattern), s.wrap(rt))
	}
	return s, nil
}

// Handler returns the root handler with security headers applied to every response.
func (s *Server) Handler() http.Handler {
	return s.securityHeaders(s.mux)
}

// Routes returns the route table (for tests and the OpenAPI document).
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{Method: r.Method, Pattern: r.Pattern, Permission: r.Perm, API: r.API, PreMFA: r.PreMFA}
	}
	return out
}

// RouteInfo describes a registered route.
type RouteInfo struct {
	Method     string
	Pattern    string
	Permission auth.Permission // "" = public
	API        bool
	PreMFA     bool
}

func (s *Server) handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Vendored files carry their version in the name, so they can be cached for long.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}

func (s *Server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("ok\n"))
	return err
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		s.Logger.Error("readyz: database", "err", err)
		http.Error(w, "database unavailable\n", http.StatusServiceUnavailable)
		return nil
	}
	v, err := s.DB.SchemaVersion(ctx)
	all, merr := store.Migrations()
	if err != nil || merr != nil || len(all) == 0 || v < all[len(all)-1].Version {
		http.Error(w, "schema not migrated\n", http.StatusServiceUnavailable)
		return nil
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = fmt.Fprintf(w, "ready (schema %d)\n", v)
	return err
}

// statusWriter records the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (CSV export) flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) observe(pattern string, start time.Time, code int) {
	if code == 0 {
		code = http.StatusOK
	}
	s.requests.WithLabelValues(pattern, strconv.Itoa(code)).Inc()
	s.durations.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
}
