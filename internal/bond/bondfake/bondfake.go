// Package bondfake is a bond.Repository for tests that must inject failures
// a real store cannot produce on demand (a store that is down, slow, or
// panics). Each method is an Fn field; an unset one goes to the wrapped
// Repository, and panics when there is none, so a test sets only what it
// calls.
package bondfake

import (
	"context"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Repo is the fake. Wrap a real store in Repository to change only some
// methods.
type Repo struct {
	bond.Repository

	GetFn              func(ctx context.Context, id string) (bond.Bond, error)
	CreateFn           func(ctx context.Context, b bond.Bond) (bond.Bond, error)
	UpdateFn           func(ctx context.Context, id string, u bond.Update, ifVersion int64) (bond.Bond, error)
	DeleteFn           func(ctx context.Context, id string, ifVersion int64) error
	PutSubscriberFn    func(ctx context.Context, id string, s bond.Subscriber, ifVersion int64) (bond.Bond, error)
	RemoveSubscriberFn func(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error)
	ListFn             func(ctx context.Context, f bond.Filter, limit int, cursor string) (bond.Page, error)
	PingFn             func(ctx context.Context) error
	CloseFn            func() error
}

var _ bond.Repository = (*Repo)(nil)

// Get calls GetFn, or the wrapped repository.
func (f *Repo) Get(ctx context.Context, id string) (bond.Bond, error) {
	if f.GetFn != nil {
		return f.GetFn(ctx, id)
	}
	return f.Repository.Get(ctx, id)
}

// Create calls CreateFn, or the wrapped repository.
func (f *Repo) Create(ctx context.Context, b bond.Bond) (bond.Bond, error) {
	if f.CreateFn != nil {
		return f.CreateFn(ctx, b)
	}
	return f.Repository.Create(ctx, b)
}

// Update calls UpdateFn, or the wrapped repository.
func (f *Repo) Update(ctx context.Context, id string, u bond.Update, ifVersion int64) (bond.Bond, error) {
	if f.UpdateFn != nil {
		return f.UpdateFn(ctx, id, u, ifVersion)
	}
	return f.Repository.Update(ctx, id, u, ifVersion)
}

// Delete calls DeleteFn, or the wrapped repository.
func (f *Repo) Delete(ctx context.Context, id string, ifVersion int64) error {
	if f.DeleteFn != nil {
		return f.DeleteFn(ctx, id, ifVersion)
	}
	return f.Repository.Delete(ctx, id, ifVersion)
}

// PutSubscriber calls PutSubscriberFn, or the wrapped repository.
func (f *Repo) PutSubscriber(ctx context.Context, id string, s bond.Subscriber, ifVersion int64) (bond.Bond, error) {
	if f.PutSubscriberFn != nil {
		return f.PutSubscriberFn(ctx, id, s, ifVersion)
	}
	return f.Repository.PutSubscriber(ctx, id, s, ifVersion)
}

// RemoveSubscriber calls RemoveSubscriberFn, or the wrapped repository.
func (f *Repo) RemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error) {
	if f.RemoveSubscriberFn != nil {
		return f.RemoveSubscriberFn(ctx, id, sid, ifVersion)
	}
	return f.Repository.RemoveSubscriber(ctx, id, sid, ifVersion)
}

// List calls ListFn, or the wrapped repository.
func (f *Repo) List(ctx context.Context, flt bond.Filter, limit int, cursor string) (bond.Page, error) {
	if f.ListFn != nil {
		return f.ListFn(ctx, flt, limit, cursor)
	}
	return f.Repository.List(ctx, flt, limit, cursor)
}

// Ping calls PingFn, or the wrapped repository.
func (f *Repo) Ping(ctx context.Context) error {
	if f.PingFn != nil {
		return f.PingFn(ctx)
	}
	return f.Repository.Ping(ctx)
}

// Close calls CloseFn, or the wrapped repository.
func (f *Repo) Close() error {
	if f.CloseFn != nil {
		return f.CloseFn()
	}
	return f.Repository.Close()
}
