package app

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events/syslogd"
	"github.com/medguard/medguard/internal/lease"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/upstream"
)

// Names of the leases of the background jobs of `serve`; one process at a time runs each.
const (
	LeaseTrailCheckpoint = "trail.checkpoint" // signs checkpoints of the trail
	LeaseDLPRetention    = "dlp.retention"    // drops raw values past their retention
	LeaseNotifyDispatch  = notify.LeaseName   // sends the notifications of the outbox
	LeaseEventsRetention = "events.retention" // deletes audit events past their retention
	LeaseDetect          = "detect.live"      // evaluates new audit events with the monitoring rules
	LeaseAppsUpstream    = "apps.upstream"    // reports the apps to the regional medguard (apps.upstream_url)
	LeaseAppsSweep       = "apps.sweep"       // evaluates the admitted apps again (codes expiring, deadlines passing)
	LeaseIncidentClocks  = "incidents.clocks" // warns before and escalates after the incidents' reporting deadlines
	LeaseRiskSweep       = "risk.sweep"       // expired acceptances, risk reviews and tasks due, plans' drills and tasks due
	// LeaseComplianceSweep: policy reviews due, training overdue, data flows re-judged,
	// automatic evidence re-checked, the overview's weekly scores, the scheduled reports.
	LeaseComplianceSweep = "compliance.sweep"
)

// upstreamCheck is how often the upward report is built and compared with the last one
// acknowledged: a change of the registry reaches the region within this time.
const upstreamCheck = time.Minute

// Convert runs the data conversions that follow the migrations but need the services:
// today, masking the names of the scans stored before migration 0013. `serve` runs it at
// start and `migrate` after migrating. It is safe to run again and from several
// processes at once.
func (a *App) Convert(ctx context.Context) error {
	n, err := a.DLP.MaskStoredNames(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		a.Logger.Info("masked patient data in the names of stored scans", "scans", n)
	}
	if n, err = a.Notify.SealPlain(ctx); err != nil {
		return err
	}
	if n > 0 {
		a.Logger.Info("sealed the plain secrets of notification channels", "channels", n)
	}
	return nil
}

// ConvertIfKeyed is Convert for `migrate`, which may run on another machine than the
// servers, with another data directory. Converting seals raw values under the DLP key
// of the data directory, and a key created here would seal values the servers cannot
// open: so it converts only when the key file exists, and otherwise leaves the scans
// to the first server that starts. It returns how many scans it converted and how many
// it left.
func (a *App) ConvertIfKeyed(ctx context.Context) (converted, left int, err error) {
	n, err := a.DLP.UnmaskedScans(ctx)
	if err != nil || n == 0 {
		return 0, 0, err
	}
	if _, err := os.Stat(a.DataFile(DLPKeyFile)); err != nil {
		return 0, n, nil
	}
	converted, err = a.DLP.MaskStoredNames(ctx)
	return converted, 0, err
}

// Start begins the work of a serving process; no other command calls it. It converts
// stored data (Convert), takes the process's own lease — owner of the path jobs it runs,
// renewed every heartbeat until Close — and takes over the jobs of processes that are
// gone (Recover: now and then every lease time to live). Then it runs the background
// jobs, each on the one process that holds its lease: purging the raw values past their
// retention (every dlp.purge_interval) and signing a checkpoint of the trail (every
// trail_checkpoint.interval), dispatching the notifications of the outbox and running the
// live detection over new audit events (each for as long as it holds its lease). A process runs a job at once when it takes the job's lease,
// and its first attempt is made before Start returns, so that a lone server has signed
// a checkpoint before it listens. When events.syslog_* names an address, it also binds and
// runs the syslog listener (a.Syslog) on this process, not through a lease. The work
// stops when ctx ends or at Close.
func (a *App) Start(ctx context.Context) error {
	if a.leases != nil {
		return errors.New("app: started twice")
	}
	if err := a.Convert(ctx); err != nil {
		return err
	}
	a.leases = lease.New(a.DB, lease.NewHolder(), a.Config.LeaseTTL, a.Logger)
	a.node = a.leases.Holder()
	if ok, err := a.leases.Acquire(ctx, a.node); err != nil {
		return err
	} else if !ok {
		return errors.New("app: another process holds this process's lease")
	}
	a.stopNode = a.keepNode(context.WithoutCancel(ctx))
	a.DLP.SetOwner(a.node)
	if err := a.recoverJobs(ctx); err != nil {
		return err
	}
	jobs, err := a.backgroundJobs()
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if _, err := j.Step(ctx); err != nil {
			return err
		}
	}
	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.Run(loops) })
	}
	// The dispatcher works for as long as it holds its lease (Notify.Run returns when the
	// lease is lost); it is taken before Start returns when free, and tried again every
	// heartbeat like the other jobs.
	dispatch := a.leases.Job(LeaseNotifyDispatch, time.Second, a.Notify.Run)
	if _, err := a.leases.Acquire(ctx, LeaseNotifyDispatch); err != nil {
		stop()
		wg.Wait()
		return err
	}
	wg.Go(func() {
		if _, err := dispatch.Step(loops); err != nil && loops.Err() == nil {
			a.Logger.Error("background job", "lease", dispatch.Name(), "err", err)
		}
		dispatch.Run(loops)
	})
	// The explanations' reference data is loaded now rather than at the first access the
	// live detection explains.
	wg.Go(func() {
		if err := a.Explain.Warm(loops); err != nil && loops.Err() == nil {
			a.Logger.Warn("load reference data for the explanations", "err", err)
		}
	})
	// The live detection, like the dispatcher, runs for as long as it holds its lease,
	// from the checkpoint the last holder committed; a change of the stored rules (on
	// any process) makes it load them again.
	if err := a.Detect.Prime(ctx); err != nil {
		stop()
		wg.Wait()
		return err
	}
	detectJob := a.leases.Job(LeaseDetect, time.Second, a.Detect.Run)
	if _, err := a.leases.Acquire(ctx, LeaseDetect); err != nil {
		stop()
		wg.Wait()
		return err
	}
	wg.Go(func() {
		if _, err := detectJob.Step(loops); err != nil && loops.Err() == nil {
			a.Logger.Error("background job", "lease", detectJob.Name(), "err", err)
		}
		detectJob.Run(loops)
	})
	wg.Go(func() { a.watchRules(loops, ruleCheck) })
	wg.Go(func() {
		t := time.NewTicker(a.leases.TTL())
		defer t.Stop()
		for {
			select {
			case <-loops.Done():
				return
			case <-t.C:
			}
			if err := a.recoverJobs(loops); err != nil && loops.Err() == nil {
				a.Logger.Error("take over the jobs of stopped processes", "err", err)
			}
		}
	})
	if a.Config.Events.syslogOn() {
		ln, err := a.syslogListener(ctx)
		if err == nil {
			err = ln.Listen()
		}
		if err != nil {
			stop()
			wg.Wait()
			return err
		}
		a.Syslog = ln
		wg.Go(func() {
			if err := ln.Serve(loops); err != nil {
				a.Logger.Error("syslog listener", "err", err)
			}
		})
	}
	a.stopLoops = func() {
		stop()
		wg.Wait()
	}
	a.Logger.Info("serving process started", "lease", a.node, "lease_ttl", a.leases.TTL().String())
	return nil
}

// keepNode renews the process's own lease every heartbeat until the returned function
// is called, which releases it. A lease found gone (the process stalled past its time
// to live and another pruned it) is taken again.
func (a *App) keepNode(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(a.leases.Heartbeat())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if err := a.leases.Release(rctx, a.node); err != nil {
					a.Logger.Warn("release the process's lease", "err", err)
				}
				return
			case <-t.C:
			}
			if ok, err := a.leases.Renew(ctx, a.node); err != nil {
				a.Logger.Warn("renew the process's lease", "err", err)
			} else if !ok {
				a.Logger.Error("the process's lease had expired: other processes may have failed its jobs")
				if _, err := a.leases.Acquire(ctx, a.node); err != nil {
					a.Logger.Warn("take the process's lease again", "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// ruleCheck is how often a serving process looks for a change of the stored rules.
const ruleCheck = 2 * time.Second

// watchRules reloads the live detection's rules when the stored rules change, until ctx
// ends.
func (a *App) watchRules(ctx context.Context, every time.Duration) {
	last, err := a.Rules.Version(ctx)
	if err != nil && ctx.Err() == nil {
		a.Logger.Error("monitoring rules", "err", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := a.Rules.Version(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.Logger.Error("monitoring rules", "err", err)
			}
			continue
		}
		if v != last {
			last = v
			a.Detect.Reload()
			a.ruleReloads.Add(1)
			a.Logger.Info("monitoring rules changed; the live detection loads them again")
		}
	}
}

// recoverJobs marks as failed the path jobs of processes whose lease expired, and drops
// leases long expired.
func (a *App) recoverJobs(ctx context.Context) error {
	n, err := a.DLP.Recover(ctx, a.leases)
	if err != nil {
		return err
	}
	if n > 0 {
		a.Logger.Warn("marked as failed the patient-data scan jobs of processes that stopped", "jobs", n)
	}
	return a.leases.Prune(ctx)
}

// backgroundJobs returns the periodic jobs of a serving process, on a.leases.
func (a *App) backgroundJobs() ([]*lease.Job, error) {
	pub, err := a.TrailPublisher()
	if err != nil {
		return nil, err
	}
	purge := cmp.Or(a.Config.DLP.PurgeInterval, time.Hour)
	jobs := []*lease.Job{
		a.leases.Job(LeaseDLPRetention, purge, a.purgeExpired),
		a.leases.Job(LeaseEventsRetention, purge, a.purgeEvents),
		a.leases.Job(LeaseTrailCheckpoint, cmp.Or(a.Config.TrailCheckpoint.Interval, time.Hour), pub.PublishLogged),
		a.leases.Job(LeaseAppsSweep, time.Hour, a.sweepApps),
		a.leases.Job(LeaseIncidentClocks, time.Minute, a.sweepIncidents),
		a.leases.Job(LeaseRiskSweep, time.Hour, a.sweepRisks),
		a.leases.Job(LeaseComplianceSweep, time.Hour, a.sweepCompliance),
	}
	if a.Config.Apps.UpstreamOn() {
		p, err := a.UpstreamPusher()
		if err != nil {
			return nil, err
		}
		// A failed push is logged and made again at the next check; Start does not wait
		// for the region.
		p.Attempts = 1
		p.Client = &http.Client{Timeout: 10 * time.Second}
		loop := &upstream.Loop{Pusher: p, Every: cmp.Or(a.Config.Apps.UpstreamInterval, 15*time.Minute), Logger: a.Logger}
		jobs = append(jobs, a.leases.Job(LeaseAppsUpstream, upstreamCheck, loop.Step))
	}
	return jobs, nil
}

// UpstreamPusher returns the pusher of this hospital's upward reports, as
// apps.upstream_* configure it.
func (a *App) UpstreamPusher() (*upstream.Pusher, error) {
	c := a.Config.Apps
	if !c.UpstreamOn() {
		return nil, errors.New("app: apps.upstream_url is not set: this medguard reports to no region")
	}
	key, err := upstream.ParseKey(c.UpstreamKey)
	if err != nil {
		return nil, err
	}
	return &upstream.Pusher{DB: a.DB, Apps: a.Apps, URL: c.UpstreamURL, Token: c.UpstreamToken, Key: key,
		Source: "medguard " + Version}, nil
}

// sweepApps evaluates the admitted apps again, logging failures.
func (a *App) sweepApps(ctx context.Context) {
	n, err := a.Apps.Sweep(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("evaluate the internet-hospital apps", "err", err)
		}
		return
	}
	a.Logger.Debug("evaluated the internet-hospital apps", "apps", n)
}

// purgeExpired drops the raw values past their retention, logging how many.
func (a *App) purgeExpired(ctx context.Context) {
	n, err := a.DLP.PurgeExpired(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("purge raw values past their retention", "err", err)
		}
		return
	}
	if n > 0 {
		a.Logger.Info("purged raw values past their retention", "findings", n)
	}
}

// purgeEvents deletes the audit events past their retention, logging how many.
func (a *App) purgeEvents(ctx context.Context) {
	n, err := a.Events.Purge(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("purge audit events past their retention", "err", err)
		}
		return
	}
	if n > 0 {
		a.Logger.Info("purged audit events past their retention", "events", n)
	}
}

// syslogListener builds the syslog listener of events.syslog_*, storing for
// events.syslog_org (id or code) or else the first top-level organisation. Every process
// listens on its own addresses: it is not a leased job.
func (a *App) syslogListener(ctx context.Context) (*syslogd.Listener, error) {
	c := a.Config.Events
	nodes, err := a.Orgs.List(ctx, actor.System())
	if err != nil {
		return nil, err
	}
	var orgID int64
	for _, n := range nodes {
		if c.SyslogOrg == "" && n.ParentID == 0 {
			orgID = n.ID
			break
		}
		if c.SyslogOrg != "" && (strconv.FormatInt(n.ID, 10) == c.SyslogOrg || (n.Code != "" && n.Code == c.SyslogOrg)) {
			orgID = n.ID
			break
		}
	}
	if orgID == 0 {
		if c.SyslogOrg == "" {
			return nil, errors.New("app: events.syslog_*: there is no organisation yet to store the events for")
		}
		return nil, errors.New("app: events.syslog_org: no organisation with that id or code")
	}
	return syslogd.New(a.Events, syslogd.Config{UDP: c.SyslogUDP, TCP: c.SyslogTCP, TLS: c.SyslogTLS,
		CertFile: c.SyslogTLSCert, KeyFile: c.SyslogTLSKey, ClientCAFile: c.SyslogTLSClientCA, OrgID: orgID, Logger: a.Logger})
}

// sweepIncidents warns of the reporting deadlines coming and escalates those passed.
func (a *App) sweepIncidents(ctx context.Context) {
	res, err := a.Incidents.Sweep(ctx, time.Now())
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("check the incidents' reporting clocks", "err", err)
		}
		return
	}
	if res.Warned+res.Escalated > 0 {
		a.Logger.Warn("incident reporting deadlines", "warned", res.Warned, "escalated", res.Escalated)
	}
}

// sweepRisks re-opens the risks whose acceptance expired, reminds of reviews and tasks
// coming due, and of plans' drills and improvement tasks overdue.
func (a *App) sweepRisks(ctx context.Context) {
	now := time.Now()
	if _, err := a.Risks.Sweep(ctx, now); err != nil && ctx.Err() == nil {
		a.Logger.Error("sweep the risk register", "err", err)
	}
	if _, err := a.Plans.Sweep(ctx, now); err != nil && ctx.Err() == nil {
		a.Logger.Error("sweep the emergency plans", "err", err)
	}
}

// sweepCompliance opens the policy reviews coming due, reminds of overdue training,
// re-judges the data flows (an agreement expired raises its risk), re-runs the
// assessments' automatic evidence checks (those older than a day), stores this week's security scores for the overview's trend and generates the
// scheduled reports of the period just ended. Each step runs even when another failed.
func (a *App) sweepCompliance(ctx context.Context) {
	now := time.Now()
	steps := []struct {
		what string
		run  func() error
	}{
		{"policy reviews", func() error { _, err := a.Policies.Sweep(ctx, now); return err }},
		{"training reminders", func() error { _, err := a.Training.Sweep(ctx, now); return err }},
		{"data flows", func() error { _, err := a.Dataflows.Sweep(ctx, now); return err }},
		{"automatic evidence", func() error { _, err := a.Assess.Sweep(ctx, now); return err }},
		{"overview scores", func() error { _, err := a.Overview.Sweep(ctx, now); return err }},
		{"scheduled reports", func() error { _, err := a.Reports.Sweep(ctx, now); return err }},
	}
	for _, st := range steps {
		if err := st.run(); err != nil && ctx.Err() == nil {
			a.Logger.Error("compliance sweep", "step", st.what, "err", err)
		}
	}
}
