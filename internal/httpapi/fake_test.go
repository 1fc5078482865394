package httpapi_test

import (
	"context"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// fakeRepo wraps a repository; a set XxxFn replaces the method, to inject
// failures. Unset methods go to the wrapped repository.
type fakeRepo struct {
	bond.Repository

	GetFn              func(ctx context.Context, id string) (bond.Bond, error)
	CreateFn           func(ctx context.Context, b bond.Bond) (bond.Bond, error)
	UpdateFn           func(ctx context.Context, id string, u bond.Update, ifVersion int64) (bond.Bond, error)
	DeleteFn           func(ctx context.Context, id string, ifVersion int64) error
	PutSubscriberFn    func(ctx context.Context, id string, s bond.Subscriber, ifVersion int64) (bond.Bond, error)
	RemoveSubscriberFn func(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error)
	ListFn             func(ctx context.Context, f bond.Filter, limit int, cursor string) (bond.Page, error)
	PingFn             func(ctx context.Context) error
}

var _ bond.Repository = (*fakeRepo)(nil)

func (f *fakeRepo) Get(ctx context.Context, id string) (bond.Bond, error) {
	if f.GetFn != nil {
		return f.GetFn(ctx, id)
	}
	return f.Repository.Get(ctx, id)
}

func (f *fakeRepo) Create(ctx context.Context, b bond.Bond) (bond.Bond, error) {
	if f.CreateFn != nil {
		return f.CreateFn(ctx, b)
	}
	return f.Repository.Create(ctx, b)
}

func (f *fakeRepo) Update(ctx context.Context, id string, u bond.Update, ifVersion int64) (bond.Bond, error) {
	if f.UpdateFn != nil {
		return f.UpdateFn(ctx, id, u, ifVersion)
	}
	return f.Repository.Update(ctx, id, u, ifVersion)
}

func (f *fakeRepo) Delete(ctx context.Context, id string, ifVersion int64) error {
	if f.DeleteFn != nil {
		return f.DeleteFn(ctx, id, ifVersion)
	}
	return f.Repository.Delete(ctx, id, ifVersion)
}

func (f *fakeRepo) PutSubscriber(ctx context.Context, id string, s bond.Subscriber, ifVersion int64) (bond.Bond, error) {
	if f.PutSubscriberFn != nil {
		return f.PutSubscriberFn(ctx, id, s, ifVersion)
	}
	return f.Repository.PutSubscriber(ctx, id, s, ifVersion)
}

func (f *fakeRepo) RemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error) {
	if f.RemoveSubscriberFn != nil {
		return f.RemoveSubscriberFn(ctx, id, sid, ifVersion)
	}
	return f.Repository.RemoveSubscriber(ctx, id, sid, ifVersion)
}

func (f *fakeRepo) List(ctx context.Context, flt bond.Filter, limit int, cursor string) (bond.Page, error) {
	if f.ListFn != nil {
		return f.ListFn(ctx, flt, limit, cursor)
	}
	return f.Repository.List(ctx, flt, limit, cursor)
}

func (f *fakeRepo) Ping(ctx context.Context) error {
	if f.PingFn != nil {
		return f.PingFn(ctx)
	}
	return f.Repository.Ping(ctx)
}

// failing returns a fakeRepo over inner whose every call returns err (or,
// when block is set, waits for the context to end and returns its error).
func failing(inner bond.Repository, err error, block bool) *fakeRepo {
	fail := func(ctx context.Context) error {
		if block {
			<-ctx.Done()
			return ctx.Err()
		}
		return err
	}
	return &fakeRepo{
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
