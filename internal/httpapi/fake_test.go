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
		GetFn:      func(ctx context.Context, _ string) (bond.Bond, error) { return bond.Bond{}, fail(ctx) },
		CreateFn:   func(ctx context.Context, _ bond.Bond) error { return fail(ctx) },
		ModifyFn: func(ctx context.Context, _ string, _ bond.Precondition, _ bond.Change) (bond.Bond, error) {
			return bond.Bond{}, fail(ctx)
		},
		DeleteFn: func(ctx context.Context, _ string, _ bond.Precondition) error { return fail(ctx) },
		ListFn: func(ctx context.Context, _ bond.Filter, _ string, _ int, _ func(bond.Bond, func() string) bool) error {
			return fail(ctx)
		},
		PingFn: fail,
	}
}
