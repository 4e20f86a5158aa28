package dlpsvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// ReasonOutsideRoots is the problem of a symbolic link inside a job's path that leads
// outside the scan roots; it is not followed.
const ReasonOutsideRoots = "outside the scan roots"

// errInterrupted is the error of a job that the server stopped.
const errInterrupted = "interrupted: the server stopped before the job ended"

// within reports whether path p is root or below it (both clean and absolute).
func within(p, root string) bool {
	if p == root {
		return true
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// roots returns the configured scan roots resolved to real paths; roots that do not
// exist are left out.
func (s *Service) roots() []string {
	var out []string
	for _, r := range s.opt.ScanRoots {
		abs, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			continue
		}
		out = append(out, real)
	}
	return out
}

// ResolvePath returns the real path of p (symbolic links and ".." resolved) when it
// exists and lies under a scan root; otherwise a problem that says why not.
func (s *Service) ResolvePath(p string) (string, error) {
	p = strings.TrimSpace(p)
	if len(s.opt.ScanRoots) == 0 {
		return "", problem.Invalid("path", "no scan roots are configured (set dlp.scan_roots or MEDGUARD_DLP_SCAN_ROOTS)").
			WithCode("dlp_no_scan_roots")
	}
	if p == "" {
		return "", problem.Invalid("path", "is required").WithCode("dlp_path_required")
	}
	if strings.ContainsRune(p, 0) || !filepath.IsAbs(p) {
		return "", problem.Invalid("path", "must be an absolute path on the server").WithCode("dlp_path_invalid")
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(p))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", problem.Invalid("path", "does not exist on the server").WithCode("dlp_path_missing")
		}
		return "", problem.Invalid("path", "cannot be read on the server").WithCode("dlp_path_missing")
	}
	for _, root := range s.roots() {
		if within(real, root) {
			return real, nil
		}
	}
	return "", problem.Invalid("path", "is outside the scan roots (%s)", strings.Join(s.opt.ScanRoots, ", ")).
		WithCode("dlp_path_outside_roots")
}

// StartJob validates path and queues a background scan of it for organisation orgID;
// the job's progress and outcome are in its scan record.
func (s *Service) StartJob(ctx context.Context, a actor.Actor, orgID int64, path string) (Scan, error) {
	real, err := s.ResolvePath(path)
	if err != nil {
		return Scan{}, err
	}
	o, err := orgFor(ctx, s.db, a, orgID)
	if err != nil {
		return Scan{}, err
	}
	sc := Scan{OrgID: orgID, OrgName: o.Name, Kind: KindJob, Source: validText(real), Status: StatusQueued, CreatedAt: s.stamp()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.insertScan(ctx, tx, a, &sc); err != nil {
			return err
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "dlp.job_start", ObjectType: "dlp_scan", ObjectID: idString(sc.ID),
			OrgID: orgID, Summary: "scan job over " + sc.Source, After: trailAfter(sc)})
		return err
	})
	if err != nil {
		return Scan{}, err
	}
	s.wg.Add(1)
	go s.runJob(a, sc, real)
	return sc, nil
}

// Recover marks the jobs left queued or running by a previous process as failed; call
// it once at start-up, before starting new jobs. It returns how many it marked.
func (s *Service) Recover(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE dlp_scans SET status = ?, error = ?, finished_at = ? WHERE status IN (?, ?)`,
		StatusFailed, errInterrupted, s.stamp(), StatusQueued, StatusRunning)
	if err != nil {
		return 0, fmt.Errorf("dlp: recover interrupted jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// runJob runs one path job in the background.
func (s *Service) runJob(a actor.Actor, sc Scan, root string) {
	defer s.wg.Done()
	ctx := s.ctx
	select {
	case s.jobs <- struct{}{}:
		defer func() { <-s.jobs }()
	case <-ctx.Done():
		s.failJob(a, sc, errInterrupted)
		return
	}
	o, err := s.runPath(ctx, &sc, root)
	if err != nil {
		msg := "the job failed; see the server log"
		if ctx.Err() != nil {
			msg = errInterrupted
		} else {
			s.log.Error("dlp job failed", "scan", sc.ID, "err", err)
		}
		s.failJob(a, sc, msg)
		return
	}
	finished := s.stamp()
	sc.Status, sc.FinishedAt = StatusDone, &finished
	o.totals(&sc)
	// The results are stored even when the server starts to stop meanwhile.
	sctx := context.WithoutCancel(ctx)
	err = s.db.InTx(sctx, func(tx *store.Tx) error {
		if err := s.store(sctx, tx, sc.ID, o); err != nil {
			return err
		}
		if err := s.finishScan(sctx, tx, &sc); err != nil {
			return err
		}
		_, err := s.trail.Append(sctx, tx, a, trail.Event{Action: "dlp.job_done", ObjectType: "dlp_scan", ObjectID: idString(sc.ID),
			OrgID: sc.OrgID, Summary: scanSummary(sc), After: trailAfter(sc)})
		return err
	})
	if err != nil {
		s.log.Error("dlp job: store results", "scan", sc.ID, "err", err)
		s.failJob(a, sc, "the results could not be stored; see the server log")
		return
	}
	if _, err := s.PurgeExpired(sctx); err != nil {
		s.log.Error("dlp: purge expired raw values", "err", err)
	}
}

// failJob records sc as failed with msg.
func (s *Service) failJob(a actor.Actor, sc Scan, msg string) {
	ctx := context.WithoutCancel(s.ctx)
	finished := s.stamp()
	sc.Status, sc.Error, sc.FinishedAt = StatusFailed, msg, &finished
	if sc.CountsByType == nil {
		sc.CountsByType = map[string]int{}
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.finishScan(ctx, tx, &sc); err != nil {
			return err
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "dlp.job_failed", ObjectType: "dlp_scan", ObjectID: idString(sc.ID),
			OrgID: sc.OrgID, Summary: msg, After: trailAfter(sc)})
		return err
	})
	if err != nil {
		s.log.Error("dlp job: record failure", "scan", sc.ID, "err", err)
	}
}

// progress updates the progress columns of a running job.
func (s *Service) progress(ctx context.Context, sc *Scan) error {
	_, err := s.db.ExecContext(ctx, `UPDATE dlp_scans SET status = ?, started_at = ?, files_total = ?, files_done = ? WHERE id = ?`,
		sc.Status, nullTime(sc.StartedAt), sc.FilesTotal, sc.FilesDone, sc.ID)
	if err != nil {
		return fmt.Errorf("dlp: job progress: %w", err)
	}
	return nil
}

// runPath walks root, then scans its files with bounded concurrency, recording progress.
func (s *Service) runPath(ctx context.Context, sc *Scan, root string) (*outcome, error) {
	started := s.stamp()
	sc.Status, sc.StartedAt = StatusRunning, &started
	if err := s.progress(ctx, sc); err != nil {
		return nil, err
	}
	o0, err := orgFor(ctx, s.db, actor.System(), sc.OrgID)
	if err != nil {
		return nil, err
	}
	pol, err := policyAt(ctx, s.db, o0)
	if err != nil {
		return nil, err
	}
	engine, err := s.scanner(pol.Custom)
	if err != nil {
		return nil, err
	}
	files, probs, err := s.walk(ctx, root)
	if err != nil {
		return nil, err
	}
	o := &outcome{}
	for _, p := range probs {
		o.units = append(o.units, problemResult(p))
	}
	sc.FilesTotal = len(files)
	if err := s.progress(ctx, sc); err != nil {
		return nil, err
	}
	step := max(1, len(files)/100)
	results := make([][]unitResult, len(files))
	next := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var progressErr error
	for range min(s.opt.Workers, max(len(files), 1)) {
		wg.Go(func() {
			for i := range next {
				var rs []unitResult
				probs, err := input.Open(files[i], s.opt.Limits, func(u input.Unit) error {
					rs = append(rs, scanUnit(engine, u))
					return ctx.Err()
				})
				if err != nil && ctx.Err() == nil {
					rs = append(rs, unitResult{path: files[i], problem: input.ReasonUnreadable})
				}
				for _, p := range probs {
					rs = append(rs, problemResult(p))
				}
				results[i] = rs
				mu.Lock()
				sc.FilesDone++
				if sc.FilesDone%step == 0 || sc.FilesDone == len(files) {
					if err := s.progress(ctx, sc); err != nil && progressErr == nil {
						progressErr = err
					}
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if progressErr != nil {
		return nil, progressErr
	}
	for _, rs := range results {
		o.units = append(o.units, rs...)
	}
	return o, nil
}

// walk lists the regular files under root (root itself when it is a file), sorted.
// Symbolic links are followed only when their target stays under a scan root; others
// are problems, as are unreadable directories.
func (s *Service) walk(ctx context.Context, root string) ([]string, []input.Problem, error) {
	roots := s.roots()
	inRoots := func(p string) bool {
		for _, r := range roots {
			if within(p, r) {
				return true
			}
		}
		return false
	}
	var files []string
	var probs []input.Problem
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			probs = append(probs, input.Problem{Path: p, Reason: input.ReasonUnreadable})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				probs = append(probs, input.Problem{Path: p, Reason: input.ReasonUnreadable + ": broken symbolic link"})
				return nil
			}
			if !inRoots(real) {
				probs = append(probs, input.Problem{Path: p, Reason: ReasonOutsideRoots})
				return nil
			}
			st, err := os.Stat(real)
			if err != nil || !st.Mode().IsRegular() {
				// Links to directories are not followed: the tree they lead to is
				// under a root and can be scanned by its own job.
				return nil
			}
			files = append(files, real)
		case d.Type().IsRegular():
			files = append(files, p)
		}
		if len(files) > MaxJobFiles {
			return fmt.Errorf("%w: more than %d files", errTooManyFiles, MaxJobFiles)
		}
		return nil
	})
	if errors.Is(err, errTooManyFiles) {
		probs = append(probs, input.Problem{Path: root, Reason: input.ReasonTooMany})
		files = files[:MaxJobFiles]
		err = nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dlp: walk %s: %w", root, err)
	}
	sort.Strings(files)
	return files, probs, nil
}

var errTooManyFiles = errors.New("too many files")
