package trail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/medguard/medguard/internal/store"
)

// Publisher signs checkpoints of the chain's head and writes them out of the database:
// appended to a file always, and sent to a syslog server and a webhook when configured.
type Publisher struct {
	Log    *Log
	DB     store.Querier
	Signer *Signer
	File   string // checkpoint file, one JSON document a line
	// Syslog is the address of a syslog server, udp://host:port or tcp://host:port;
	// empty sends nothing.
	Syslog string
	// Webhook is an http(s) URL each checkpoint is POSTed to as JSON; empty sends nothing.
	Webhook string
	Client  *http.Client // for the webhook; nil = a client with a 10 s timeout
	Logger  *slog.Logger
}

// Publish signs a checkpoint of the current head and writes it out. The chain must
// verify and extend the newest checkpoint already in the file. The file is written
// first; a failure to send to syslog or the webhook is returned after it, with the
// checkpoint.
func (p *Publisher) Publish(ctx context.Context) (Checkpoint, error) {
	var earlier []Checkpoint
	last, ok, err := LastCheckpoint(p.File)
	if err != nil {
		return Checkpoint{}, err
	}
	if ok {
		if !bytes.Equal(mustB64(last.PublicKey), p.Signer.PublicKey()) {
			return Checkpoint{}, fmt.Errorf("trail: the checkpoint file %s was signed with another key than this installation's", p.File)
		}
		earlier = append(earlier, last)
	}
	cp, err := p.Log.Checkpoint(ctx, p.DB, p.Signer, earlier...)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := AppendCheckpoint(p.File, cp); err != nil {
		return Checkpoint{}, err
	}
	var errs []error
	if p.Syslog != "" {
		if err := sendSyslog(p.Syslog, cp.MarshalLine()); err != nil {
			errs = append(errs, err)
		}
	}
	if p.Webhook != "" {
		if err := p.post(ctx, cp); err != nil {
			errs = append(errs, err)
		}
	}
	return cp, errors.Join(errs...)
}

func (p *Publisher) post(ctx context.Context, cp Checkpoint) error {
	c := p.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Webhook, bytes.NewReader(cp.MarshalLine()))
	if err != nil {
		return fmt.Errorf("trail: checkpoint webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("trail: checkpoint webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("trail: checkpoint webhook answered %s", resp.Status)
	}
	return nil
}

// Run publishes a checkpoint every interval until ctx ends, logging what it signed and
// any failure.
func (p *Publisher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.PublishLogged(ctx)
		}
	}
}

// PublishLogged publishes a checkpoint and logs what it signed, or why it failed.
func (p *Publisher) PublishLogged(ctx context.Context) {
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	cp, err := p.Publish(ctx)
	if cp.Format != "" {
		log.Info("signed a trail checkpoint", "seq", cp.Seq, "hash", cp.Hash, "file", p.File)
	}
	if err != nil && ctx.Err() == nil {
		log.Error("trail checkpoint", "err", err)
	}
}

// ValidateSyslogAddr checks a syslog address: udp://host:port or tcp://host:port.
func ValidateSyslogAddr(s string) error {
	_, _, err := splitSyslogAddr(s)
	return err
}

func splitSyslogAddr(s string) (network, addr string, err error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "udp" && u.Scheme != "tcp") || u.Host == "" || u.Port() == "" || u.Path != "" {
		return "", "", errors.New("trail: the checkpoint syslog address must be udp://host:port or tcp://host:port")
	}
	return u.Scheme, u.Host, nil
}
