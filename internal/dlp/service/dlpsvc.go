// Package dlpsvc is medguard's patient-data detection service: it runs the dlp engine
// over pasted text, uploaded files and documents (through package input), server-side
// paths under configured scan roots (background jobs with bounded concurrency and
// progress) and the pre-send policy checks that mail or file-transfer gateways call, and
// keeps the history of every scan with its files, per-file verdicts and findings.
//
// Findings are stored and shown with masked previews only. The raw value of each
// finding is sealed with SM4-GCM under a platform key and opened only by Reveal, which
// needs its own permission and is recorded in the trail. Each organisation has a policy
// (when a check blocks or alerts) and its site-specific identifiers (病案号, 门诊号 …),
// used by every scan of that organisation. Every scan and every reveal is trailed.
package dlpsvc

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Kinds of scan.
const (
	KindText   = "text"   // pasted text
	KindUpload = "upload" // an uploaded file, archive or document
	KindJob    = "job"    // a server-side path under a scan root
	KindCheck  = "check"  // a pre-send policy check
)

// Statuses of a scan.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Limits of what one scan stores; beyond them findings are counted but not stored.
const (
	// MaxStoredFindingsPerFile bounds the findings stored for one file.
	MaxStoredFindingsPerFile = 1000
	// MaxStoredFindings bounds the findings stored for one scan.
	MaxStoredFindings = 50000
	// MaxStoredFiles bounds the file rows of one scan; past it only files with
	// findings or problems are stored.
	MaxStoredFiles = 20000
	// MaxJobFiles bounds the files one job walks.
	MaxJobFiles = 200000
	// MaxTextSize bounds a pasted text.
	MaxTextSize = 4 << 20
)

// Options configure a Service.
type Options struct {
	// Key is the 16-byte SM4 key that seals raw values.
	Key []byte
	// KeyFile, used when Key is nil, names the file holding the key; it is read,
	// or created, on the first scan or reveal (see LoadOrCreateKey).
	KeyFile string
	// ScanRoots are the directories under which path jobs may scan; none
	// disables path jobs.
	ScanRoots []string
	// RawRetention is how long raw values stay revealable; 0 keeps them.
	RawRetention time.Duration
	// MaxJobs bounds the path jobs running at once (default 2).
	MaxJobs int
	// Workers is the number of files one job scans at once (default GOMAXPROCS).
	Workers int
	// Limits bound what reading one input may cost (see input.Limits). In path jobs,
	// a plain-text file larger than Limits.MaxFileSize is not refused but scanned in
	// windows of at most that size (see chunk.go).
	Limits input.Limits
	// MayReveal reports whether a role may reveal raw values; nil allows nobody.
	MayReveal func(role string) bool
	// Alerts receives the alerts of pre-send checks and path jobs (see alerts.go); nil
	// raises none.
	Alerts Alerts
	// Logger receives job failures (slog.Default when nil). Patient data is never
	// logged.
	Logger *slog.Logger
}

// Service stores and queries patient-data scans.
type Service struct {
	db    *store.DB
	trail *trail.Log
	opt   Options
	log   *slog.Logger
	now   func() time.Time

	jobs   chan struct{} // semaphore of running jobs
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	scanners map[string]*dlp.Scanner // by the JSON of the custom identifiers
	sealed   *sealer                 // built on first use
	owner    string                  // lease of this process, owner of the jobs it starts
}

// New returns a Service on db that records scans and reveals in tl.
func New(db *store.DB, tl *trail.Log, opt Options) (*Service, error) {
	var sl *sealer
	switch {
	case opt.Key != nil:
		var err error
		if sl, err = newSealer(opt.Key); err != nil {
			return nil, err
		}
	case opt.KeyFile == "":
		return nil, errors.New("dlp: the service needs a raw-value key or key file")
	}
	if opt.MaxJobs <= 0 {
		opt.MaxJobs = 2
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{db: db, trail: tl, opt: opt, sealed: sl, log: opt.Logger, now: time.Now,
		jobs: make(chan struct{}, opt.MaxJobs), ctx: ctx, cancel: cancel, scanners: map[string]*dlp.Scanner{}}, nil
}

// seal returns the sealer, reading or creating the key file on first use.
func (s *Service) seal() (*sealer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed != nil {
		return s.sealed, nil
	}
	key, err := LoadOrCreateKey(s.opt.KeyFile)
	if err != nil {
		return nil, err
	}
	if s.sealed, err = newSealer(key); err != nil {
		return nil, err
	}
	return s.sealed, nil
}

// SetClock replaces the service's clock; tests use it to age raw values.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Close stops running jobs (they are marked failed) and waits for them to end.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// Wait blocks until every job started so far has ended.
func (s *Service) Wait() { s.wg.Wait() }

// ScanRoots returns the configured scan roots.
func (s *Service) ScanRoots() []string { return append([]string(nil), s.opt.ScanRoots...) }

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// cleanName trims a source name and bounds its length; control characters become
// spaces so that a name cannot forge lines in a table or log.
func cleanName(s string, def string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	if s == "" {
		return def
	}
	return s
}
