package httpapi_test

import (
	"context"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
)

// failing returns a fake over inner whose every call returns err (or,
// when block is set, waits for the context to end and returns its error).
func failing(inner bond.Repository, err error, block bool) *bondfake.Repo {
	fail := func(ctx context.Context) error {
		if block {
			<-ctx.Done()
			return ctx.Err()
		}
		return err
	}
	return &bondfake.Repo{
		Repository: inner,
		ReadFn:     func(ctx context.Context, _ string) (bond.Bond, bool, error) { return bond.Bond{}, false, fail(ctx) },
		CreateFn:   func(ctx context.Context, _ bond.Bond, _ int64, _ bond.Journal) error { return fail(ctx) },
		ReplaceFn:  func(ctx context.Context, _, _ bond.Bond, _ bond.Journal) error { return fail(ctx) },
		RemoveFn:   func(ctx context.Context, _ bond.Bond, _ bond.Journal) error { return fail(ctx) },
		ListFn: func(ctx context.Context, _ bond.Filter, _ string, _ int, _ func(bond.Bond, func() string) bool) error {
			return fail(ctx)
		},
		ReadRevisionFn: func(ctx context.Context, _ string, _ int64) (bond.Revision, bool, error) {
			return bond.Revision{}, false, fail(ctx)
		},
		ListRevisionsFn: func(ctx context.Context, _ string, _ int64, _ int, _ func(bond.Revision) bool) error {
			return fail(ctx)
		},
		PingFn: fail,
	}
}
