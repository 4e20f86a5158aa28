package supply

import (
	"context"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/vuln"
)

// AdvisoryImport is what importing the advisories of one path did.
type AdvisoryImport struct {
	Path    string
	Result  vuln.ImportResult
	Elapsed time.Duration
}

// ImportAdvisories imports the OSV records under each path into the vulnerability
// database, then re-matches the stored SBOMs against every advisory the imports
// changed. The web upload and `medguard vulndb import` both go through it. When an
// import fails, the imports done before it are returned with the error and nothing is
// re-matched (what was imported stays, and the next import re-matches it only if it
// changes again: run Rematch with those ids to catch up).
func (s *Service) ImportAdvisories(ctx context.Context, a actor.Actor, paths ...string) ([]AdvisoryImport, RematchReport, error) {
	return s.importAdvisories(ctx, a, paths, "")
}

// ImportUploadedAdvisories is ImportAdvisories of one uploaded file stored at path,
// recorded in the list of imports under the uploaded file's name instead of path (a
// server's temporary directory).
func (s *Service) ImportUploadedAdvisories(ctx context.Context, a actor.Actor, path, name string) (AdvisoryImport, RematchReport, error) {
	imps, rep, err := s.importAdvisories(ctx, a, []string{path}, name)
	if err != nil {
		return AdvisoryImport{}, rep, err
	}
	return imps[0], rep, nil
}

// importAdvisories imports paths, each named source in the list of imports when source
// is not empty, then re-matches.
func (s *Service) importAdvisories(ctx context.Context, a actor.Actor, paths []string, source string) ([]AdvisoryImport, RematchReport, error) {
	var (
		done    []AdvisoryImport
		changed []string
	)
	for _, p := range paths {
		start := time.Now()
		res, err := s.vulns.Import(ctx, p, vuln.ImportOptions{Source: source})
		if err != nil {
			return done, RematchReport{}, err
		}
		done = append(done, AdvisoryImport{Path: p, Result: res, Elapsed: time.Since(start)})
		changed = append(changed, res.Changed...)
	}
	rep, err := s.Rematch(ctx, a, changed)
	return done, rep, err
}
