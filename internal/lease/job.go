package lease

import (
	"context"
	"time"
)

// Job is periodic work that one process at a time runs: whichever holds the lease named
// after the job. A process runs it as soon as it takes the lease, then every interval
// while it keeps it.
type Job struct {
	m     *Manager
	name  string
	every time.Duration
	tick  func(ctx context.Context)

	held bool      // whether the last step held the lease
	next time.Time // when the job is due again
}

// Job returns the job name that runs tick every interval on the process holding lease
// name. tick gets a context that ends when the lease is lost.
func (m *Manager) Job(name string, every time.Duration, tick func(ctx context.Context)) *Job {
	return &Job{m: m, name: name, every: every, tick: tick}
}

// Name returns the job's lease name.
func (j *Job) Name() string { return j.name }

// Step takes or renews the job's lease and runs the job when this process holds the
// lease and the job is due: at once after the lease was taken, then every interval. While
// the job runs its lease is renewed every heartbeat. ran reports whether it ran.
func (j *Job) Step(ctx context.Context) (ran bool, err error) {
	ok, err := j.m.Acquire(ctx, j.name)
	if err != nil || !ok {
		if j.held {
			j.m.log.Warn("gave up a lease: another process runs its job now", "lease", j.name, "err", err)
		}
		j.held = false
		return false, err
	}
	now := j.m.now()
	if !j.held {
		j.held, j.next = true, now
	}
	if now.Before(j.next) {
		return false, nil
	}
	j.next = now.Add(j.every)
	tctx, lose := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.m.heartbeat(tctx, j.name, lose)
	}()
	j.tick(tctx)
	lose()
	<-done
	return true, nil
}

// Run calls Step every heartbeat until ctx ends, then releases the lease. Errors are
// logged.
func (j *Job) Run(ctx context.Context) {
	t := time.NewTicker(j.m.Heartbeat())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			j.release(ctx)
			return
		case <-t.C:
		}
		if _, err := j.Step(ctx); err != nil && ctx.Err() == nil {
			j.m.log.Error("background job", "lease", j.name, "err", err)
		}
	}
}

// release gives the lease up, so that another process takes the job over at once. It
// does not trust j.held: a step cut short by ctx may have taken the lease without
// knowing it; releasing a lease another holds changes nothing.
func (j *Job) release(ctx context.Context) {
	j.held = false
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := j.m.Release(rctx, j.name); err != nil {
		j.m.log.Warn("release a lease", "lease", j.name, "err", err)
	}
}
