package metrics

import (
	"context"
	"time"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Instrument wraps repo so that every call is timed in
// store_operation_duration_seconds{operation} and every error is counted in
// store_operation_errors_total{operation,kind}, kind being bond.KindOf(err)
// ("not_found", "version_mismatch", ..., "internal"). Expected outcomes such
// as not_found are counted too: the kind label tells them from failures.
func (m *Metrics) Instrument(repo bond.Repository) bond.Repository {
	return &instrumented{repo: repo, m: m}
}

type instrumented struct {
	repo bond.Repository
	m    *Metrics
}

var _ bond.Repository = (*instrumented)(nil)

// observe records one operation that started at start and returned err.
func (s *instrumented) observe(op string, start time.Time, err error) {
	s.m.storeDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		s.m.storeErrors.WithLabelValues(op, bond.KindOf(err).String()).Inc()
	}
}

func (s *instrumented) Read(ctx context.Context, id string) (bond.Bond, bool, error) {
	start := time.Now()
	b, found, err := s.repo.Read(ctx, id)
	s.observe("read", start, err)
	return b, found, err
}

func (s *instrumented) Create(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
	start := time.Now()
	err := s.repo.Create(ctx, b, prev, j)
	s.observe("create", start, err)
	return err
}

func (s *instrumented) Replace(ctx context.Context, old, next bond.Bond, j bond.Journal) error {
	start := time.Now()
	err := s.repo.Replace(ctx, old, next, j)
	s.observe("replace", start, err)
	return err
}

func (s *instrumented) Remove(ctx context.Context, old bond.Bond, j bond.Journal) error {
	start := time.Now()
	err := s.repo.Remove(ctx, old, j)
	s.observe("remove", start, err)
	return err
}

func (s *instrumented) List(ctx context.Context, f bond.Filter, cursor string, batch int, yield func(bond.Bond, func() string) bool) error {
	start := time.Now()
	err := s.repo.List(ctx, f, cursor, batch, yield)
	s.observe("list", start, err)
	return err
}

func (s *instrumented) ReadRevision(ctx context.Context, id string, n int64) (bond.Revision, bool, error) {
	start := time.Now()
	r, found, err := s.repo.ReadRevision(ctx, id, n)
	s.observe("read_revision", start, err)
	return r, found, err
}

func (s *instrumented) ListRevisions(ctx context.Context, id string, below int64, batch int, yield func(bond.Revision) bool) error {
	start := time.Now()
	err := s.repo.ListRevisions(ctx, id, below, batch, yield)
	s.observe("list_revisions", start, err)
	return err
}

func (s *instrumented) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.repo.Ping(ctx)
	s.observe("ping", start, err)
	return err
}

// Close is passed through untimed: it is not a request-path operation.
func (s *instrumented) Close() error { return s.repo.Close() }
