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

func (s *instrumented) Get(ctx context.Context, id string) (bond.Bond, error) {
	start := time.Now()
	b, err := s.repo.Get(ctx, id)
	s.observe("get", start, err)
	return b, err
}

func (s *instrumented) Create(ctx context.Context, b bond.Bond) (bond.Bond, error) {
	start := time.Now()
	got, err := s.repo.Create(ctx, b)
	s.observe("create", start, err)
	return got, err
}

func (s *instrumented) Update(ctx context.Context, id string, u bond.Update, ifVersion int64) (bond.Bond, error) {
	start := time.Now()
	b, err := s.repo.Update(ctx, id, u, ifVersion)
	s.observe("update", start, err)
	return b, err
}

func (s *instrumented) Delete(ctx context.Context, id string, ifVersion int64) error {
	start := time.Now()
	err := s.repo.Delete(ctx, id, ifVersion)
	s.observe("delete", start, err)
	return err
}

func (s *instrumented) PutSubscriber(ctx context.Context, id string, sub bond.Subscriber, ifVersion int64) (bond.Bond, error) {
	start := time.Now()
	b, err := s.repo.PutSubscriber(ctx, id, sub, ifVersion)
	s.observe("put_subscriber", start, err)
	return b, err
}

func (s *instrumented) RemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error) {
	start := time.Now()
	b, err := s.repo.RemoveSubscriber(ctx, id, sid, ifVersion)
	s.observe("remove_subscriber", start, err)
	return b, err
}

func (s *instrumented) List(ctx context.Context, f bond.Filter, limit int, cursor string) (bond.Page, error) {
	start := time.Now()
	p, err := s.repo.List(ctx, f, limit, cursor)
	s.observe("list", start, err)
	return p, err
}

func (s *instrumented) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.repo.Ping(ctx)
	s.observe("ping", start, err)
	return err
}

// Close is passed through untimed: it is not a request-path operation.
func (s *instrumented) Close() error { return s.repo.Close() }
