package dlpsvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// ReasonOutsideRoots is the problem of a symbolic link inside a job's path that leads
// outside the scan roots; it is not followed.
const ReasonOutsideRoots = "outside the scan roots"

// JobInterrupted is the error stored for a job that the server stopped; pages translate
// it (dlp.job.interrupted), like JobUnrecorded.
const (
	JobInterrupted = "interrupted: the server stopped before the job ended"
	JobUnrecorded  = "the end of the job could not be recorded; see the server log"
	JobFailed      = "the job failed; see the server log"
	// JobStopped follows a job's error when some of its files were scanned.
	JobStopped = " (stopped after %d of %d files; their results are kept)"
)

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
		return "", problem.Required("path").WithCode("dlp_path_required")
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
	o, _, engine, err := s.engineAt(ctx, a, orgID)
	if err != nil {
		return Scan{}, err
	}
	// The root is shown masked; the job walks the real one.
	source, _ := maskName(engine, real)
	sc := Scan{OrgID: orgID, OrgName: o.Name, Kind: KindJob, Source: validText(source), Status: StatusQueued, CreatedAt: s.stamp()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.insertScan(ctx, tx, a, &sc); err != nil {
			return err
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "dlp.job_start", ObjectType: "dlp_scan", ObjectID: idString(sc.ID),
			OrgID: orgID, Summary: "scan job over " + trailName(sc.Source),
			Msg: trail.Msg("trail.summary.dlp.job_start", trailName(sc.Source)), After: trailAfter(sc)})
		return err
	})
	if err != nil {
		return Scan{}, err
	}
	s.wg.Add(1)
	go s.runJob(s.ctx, a, sc, real, nil)
	return sc, nil
}

// Owners tells which processes serving the store are alive; *lease.Manager is one.
type Owners interface {
	// Live returns the SQL condition that the lease named by column is held and not
	// expired, and its argument.
	Live(column string) (string, any)
}

// SetOwner names the lease of this process, recorded as the owner of every job it
// starts: while the lease lives, Recover in any process leaves the job alone. `serve`
// sets it once it holds the lease.
func (s *Service) SetOwner(lease string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owner = lease
}

func (s *Service) ownerName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner
}

// Recover takes over the jobs left queued or running by processes that are gone: it
// marks as failed (interrupted) each job whose owner's lease is not live in owners —
// expired, released, or never taken — and returns how many it marked. A nil owners
// counts no process alive. A serving process calls it at start and then every lease
// time to live; a job of a process that lives is never touched.
func (s *Service) Recover(ctx context.Context, owners Owners) (int, error) {
	q := `UPDATE dlp_scans SET status = ?, error = ?, finished_at = ? WHERE status IN (?, ?)`
	args := []any{StatusFailed, JobInterrupted, s.stamp(), StatusQueued, StatusRunning}
	if owners != nil {
		cond, arg := owners.Live("dlp_scans.owner")
		q += ` AND NOT ` + cond
		args = append(args, arg)
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("dlp: recover interrupted jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Batching of a job's results: each batch of files is stored, with the job's running
// totals and progress, in its own transaction, so that memory stays bounded whatever the
// number and size of the files and a job that stops keeps what it stored.
const (
	// jobBatch is the number of files whose results one transaction stores.
	jobBatch = 64
	// jobAhead bounds how many files past the next one to store may be scanned or
	// held; results are stored in the order of the walk.
	jobAhead = 4 * jobBatch
)

// runJob runs one path job; ctx stops it. batchDone, when not nil, is called after each
// batch is stored with the job's totals so far.
func (s *Service) runJob(ctx context.Context, a actor.Actor, sc Scan, root string, batchDone func(Scan)) {
	defer s.wg.Done()
	select {
	case s.jobs <- struct{}{}:
		defer func() { <-s.jobs }()
	case <-ctx.Done():
		s.failJob(a, sc, JobInterrupted)
		return
	}
	var out outside
	if err := s.runPath(ctx, &sc, root, batchDone, &out); err != nil {
		if errors.Is(err, errTakenOver) {
			s.log.Warn("dlp job taken over by another process: this process's lease had expired", "scan", sc.ID)
			return
		}
		msg := JobFailed
		if ctx.Err() != nil {
			msg = JobInterrupted
		} else {
			s.log.Error("dlp job failed", "scan", sc.ID, "err", err)
		}
		if sc.FilesTotal > 0 {
			msg += fmt.Sprintf(JobStopped, sc.FilesDone, sc.FilesTotal)
		}
		s.failJob(a, sc, msg)
		return
	}
	finished := s.stamp()
	sc.Status, sc.FinishedAt = StatusDone, &finished
	// The end is recorded even when the server starts to stop meanwhile.
	sctx := context.WithoutCancel(ctx)
	err := s.db.InTx(sctx, func(tx *store.Tx) error {
		if err := s.finishScan(sctx, tx, &sc); err != nil {
			return err
		}
		if err := s.raiseOutside(sctx, tx, sc, root, out.files, out.highest); err != nil {
			return err
		}
		_, err := s.trail.Append(sctx, tx, a, trail.Event{Action: "dlp.job_done", ObjectType: "dlp_scan", ObjectID: idString(sc.ID),
			OrgID: sc.OrgID, Summary: scanSummary(sc), Msg: scanMsg(sc), After: trailAfter(sc)})
		return err
	})
	if errors.Is(err, errTakenOver) {
		s.log.Warn("dlp job taken over by another process: this process's lease had expired", "scan", sc.ID)
		return
	}
	if err != nil {
		s.log.Error("dlp job: record the end", "scan", sc.ID, "err", err)
		s.failJob(a, sc, JobUnrecorded)
		return
	}
	if _, err := s.PurgeExpired(sctx); err != nil {
		s.log.Error("dlp: purge expired raw values", "err", err)
	}
}

// failJob records sc, with the totals of what it stored, as failed with msg.
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
			OrgID: sc.OrgID, Summary: trailName(msg), Msg: jobFailedMsg(msg), After: trailAfter(sc)})
		return err
	})
	if err != nil && !errors.Is(err, errTakenOver) {
		s.log.Error("dlp job: record failure", "scan", sc.ID, "err", err)
	}
}

// progress updates the progress columns of a running job, unless another process took
// it over (errTakenOver).
func (s *Service) progress(ctx context.Context, sc *Scan) error {
	res, err := s.db.ExecContext(ctx, `UPDATE dlp_scans SET status = ?, started_at = ?, files_total = ?, files_done = ?
		WHERE id = ? AND status IN (?, ?)`,
		sc.Status, store.NullTime(sc.StartedAt), sc.FilesTotal, sc.FilesDone, sc.ID, StatusQueued, StatusRunning)
	if err != nil {
		return fmt.Errorf("dlp: job progress: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("dlp: job progress: %w", err)
	} else if n == 0 {
		return errTakenOver
	}
	return nil
}

// jobResult is the outcome of one file of a job.
type jobResult struct {
	i     int
	units []unitResult
	ok    bool // false when the scan was stopped before the file was read in full
}

// outside counts the files of a job with level-4+ data outside the allowed paths of
// its organisation's policy, and their highest level.
type outside struct {
	files, highest int
}

// runPath walks root, then scans its files with bounded concurrency, storing their
// results batch by batch and keeping sc's totals and progress up to date with what is
// stored, and counts into found the stored files with level-4+ data outside the allowed
// paths. On error sc holds the totals of what was stored.
func (s *Service) runPath(ctx context.Context, sc *Scan, root string, batchDone func(Scan), found *outside) error {
	started := s.stamp()
	sc.Status, sc.StartedAt = StatusRunning, &started
	if err := s.progress(ctx, sc); err != nil {
		return err
	}
	_, pol, engine, err := s.engineAt(ctx, actor.System(), sc.OrgID)
	if err != nil {
		return err
	}
	files, probs, err := s.walk(ctx, root)
	if err != nil {
		return err
	}
	sc.FilesTotal = len(files)
	if err := s.progress(ctx, sc); err != nil {
		return err
	}
	b := &jobBatcher{s: s, sc: sc, done: batchDone, engine: engine, allowed: pol.AllowedPaths, outside: found}
	for _, p := range probs {
		b.units = append(b.units, problemResult(p))
	}

	next := make(chan int)
	out := make(chan jobResult)
	var wg sync.WaitGroup
	for range min(s.opt.Workers, max(len(files), 1)) {
		wg.Go(func() {
			for i := range next {
				rs, ok := s.scanFile(ctx, engine, files[i])
				out <- jobResult{i: i, units: rs, ok: ok}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	// Results arrive in any order; held keeps those ahead of the next file to store.
	held := map[int][]unitResult{}
	sent, queued := 0, 0
	var failed error
loop:
	for queued < len(files) {
		var feed chan int
		if sent < len(files) && sent < queued+jobAhead {
			feed = next
		}
		select {
		case feed <- sent:
			sent++
		case r := <-out:
			if !r.ok {
				failed = ctx.Err()
				break loop
			}
			held[r.i] = r.units
			for rs, ok := held[queued]; ok; rs, ok = held[queued] {
				delete(held, queued)
				b.units = append(b.units, rs...)
				b.files++
				queued++
				if b.files == jobBatch || queued == len(files) {
					if failed = b.flush(ctx); failed != nil {
						break loop
					}
				}
			}
		case <-ctx.Done():
			failed = ctx.Err()
			break loop
		}
	}
	close(next)
	for range out {
		// Let the workers end; what they return now is not stored.
	}
	if failed == nil && (len(b.units) > 0 || b.files > 0) {
		failed = b.flush(ctx)
	}
	if failed == nil {
		failed = ctx.Err()
	}
	return failed
}

// jobBatcher stores the results of a job batch by batch.
type jobBatcher struct {
	s      *Service
	engine *dlp.Scanner // masks and scans the paths
	sc     *Scan        // totals of what is stored
	done   func(Scan)
	stored storedRows
	units  []unitResult // results of the batch
	files  int          // files of the batch
	// allowed are the policy's allowed paths; outside counts what lies beyond them.
	allowed []string
	outside *outside
}

// flush stores the batch with the job's new totals in one transaction; sc and the
// stored counts change only when it commits.
func (b *jobBatcher) flush(ctx context.Context) error {
	next := *b.sc
	next.CountsByType = maps.Clone(b.sc.CountsByType)
	out := *b.outside
	files := map[string]bool{}
	for _, u := range b.units {
		// Before withName masks the path.
		if u.problem == "" && u.verdict.HighestLevel >= OutsideLevel && outsideAllowed(u.path, b.allowed) {
			file, _, _ := strings.Cut(u.path, "!/")
			if !files[file] {
				files[file] = true
				out.files++
			}
			out.highest = max(out.highest, u.verdict.HighestLevel)
		}
	}
	for i := range b.units {
		b.units[i].withName(b.engine)
		next.add(b.units[i])
	}
	next.FilesDone += b.files
	st := b.stored
	err := b.s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := b.s.store(ctx, tx, next.ID, b.units, &st); err != nil {
			return err
		}
		return b.s.finishScan(ctx, tx, &next)
	})
	if err != nil {
		return fmt.Errorf("dlp: store results of job %d: %w", next.ID, err)
	}
	*b.sc, b.stored, *b.outside = next, st, out
	clear(b.units)
	b.units, b.files = b.units[:0], 0
	if b.done != nil {
		b.done(next)
	}
	return nil
}

// scanFile scans the file at path: a large plain-text file in chunks, anything else
// through input.Open. ok is false when ctx stopped the scan before the file was read in
// full.
func (s *Service) scanFile(ctx context.Context, engine *dlp.Scanner, path string) (rs []unitResult, ok bool) {
	if u, chunked := s.scanLarge(ctx, engine, path); chunked {
		if ctx.Err() != nil {
			return nil, false
		}
		return u, true
	}
	probs, err := input.Open(path, s.opt.Limits, func(u input.Unit) error {
		rs = append(rs, scanUnit(engine, u))
		return ctx.Err()
	})
	if ctx.Err() != nil {
		return nil, false
	}
	if err != nil {
		rs = append(rs, unitResult{path: path, problem: input.ReasonUnreadable})
	}
	for _, p := range probs {
		rs = append(rs, problemResult(p))
	}
	return rs, true
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
		return nil, nil, fmt.Errorf("dlp: walk the job's path: %w", err) // the path may name a patient: not logged
	}
	sort.Strings(files)
	return files, probs, nil
}

var errTooManyFiles = errors.New("too many files")
