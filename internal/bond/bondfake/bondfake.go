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

	GetFn    func(ctx context.Context, id string) (bond.Bond, error)
	CreateFn func(ctx context.Context, b bond.Bond) error
	ModifyFn func(ctx context.Context, id string, pre bond.Precondition, change bond.Change) (bond.Bond, error)
	DeleteFn func(ctx context.Context, id string, pre bond.Precondition) error
	ListFn   func(ctx context.Context, f bond.Filter, cursor string, batch int, yield func(bond.Bond, func() string) bool) error
	PingFn   func(ctx context.Context) error
	CloseFn  func() error
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
func (f *Repo) Create(ctx context.Context, b bond.Bond) error {
	if f.CreateFn != nil {
		return f.CreateFn(ctx, b)
	}
	return f.Repository.Create(ctx, b)
}

// Modify calls ModifyFn, or the wrapped repository.
func (f *Repo) Modify(ctx context.Context, id string, pre bond.Precondition, change bond.Change) (bond.Bond, error) {
	if f.ModifyFn != nil {
		return f.ModifyFn(ctx, id, pre, change)
	}
	return f.Repository.Modify(ctx, id, pre, change)
}

// Delete calls DeleteFn, or the wrapped repository.
func (f *Repo) Delete(ctx context.Context, id string, pre bond.Precondition) error {
	if f.DeleteFn != nil {
		return f.DeleteFn(ctx, id, pre)
	}
	return f.Repository.Delete(ctx, id, pre)
}

// List calls ListFn, or the wrapped repository.
func (f *Repo) List(ctx context.Context, flt bond.Filter, cursor string, batch int, yield func(bond.Bond, func() string) bool) error {
	if f.ListFn != nil {
		return f.ListFn(ctx, flt, cursor, batch, yield)
	}
	return f.Repository.List(ctx, flt, cursor, batch, yield)
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
