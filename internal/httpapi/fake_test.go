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
		CreateFn:   func(ctx context.Context, _ bond.Bond) (bond.Bond, error) { return bond.Bond{}, fail(ctx) },
		UpdateFn: func(ctx context.Context, _ string, _ bond.Update, _ int64) (bond.Bond, error) {
			return bond.Bond{}, fail(ctx)
		},
		DeleteFn: func(ctx context.Context, _ string, _ int64) error { return fail(ctx) },
		PutSubscriberFn: func(ctx context.Context, _ string, _ bond.Subscriber, _ int64) (bond.Bond, error) {
			return bond.Bond{}, fail(ctx)
		},
		RemoveSubscriberFn: func(ctx context.Context, _, _ string, _ int64) (bond.Bond, error) {
			return bond.Bond{}, fail(ctx)
		},
		ListFn: func(ctx context.Context, _ bond.Filter, _ int, _ string) (bond.Page, error) {
			return bond.Page{}, fail(ctx)
		},
		PingFn: fail,
	}
}
