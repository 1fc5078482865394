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

	ReadFn    func(ctx context.Context, id string) (bond.Bond, bool, error)
	CreateFn  func(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error
	ReplaceFn func(ctx context.Context, old, next bond.Bond, j bond.Journal) error
	RemoveFn  func(ctx context.Context, old bond.Bond, j bond.Journal) error

	ReadRevisionFn  func(ctx context.Context, id string, n int64) (bond.Revision, bool, error)
	ListRevisionsFn func(ctx context.Context, id string, below int64, batch int, yield func(bond.Revision) bool) error
	ListFn          func(ctx context.Context, f bond.Filter, cursor string, batch int, yield func(bond.Bond, func() string) bool) error
	PingFn          func(ctx context.Context) error
	CloseFn         func() error
}

var _ bond.Repository = (*Repo)(nil)

// Read calls ReadFn, or the wrapped repository.
func (f *Repo) Read(ctx context.Context, id string) (bond.Bond, bool, error) {
	if f.ReadFn != nil {
		return f.ReadFn(ctx, id)
	}
	return f.Repository.Read(ctx, id)
}

// Create calls CreateFn, or the wrapped repository.
func (f *Repo) Create(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
	if f.CreateFn != nil {
		return f.CreateFn(ctx, b, prev, j)
	}
	return f.Repository.Create(ctx, b, prev, j)
}

// Replace calls ReplaceFn, or the wrapped repository.
func (f *Repo) Replace(ctx context.Context, old, next bond.Bond, j bond.Journal) error {
	if f.ReplaceFn != nil {
		return f.ReplaceFn(ctx, old, next, j)
	}
	return f.Repository.Replace(ctx, old, next, j)
}

// Remove calls RemoveFn, or the wrapped repository.
func (f *Repo) Remove(ctx context.Context, old bond.Bond, j bond.Journal) error {
	if f.RemoveFn != nil {
		return f.RemoveFn(ctx, old, j)
	}
	return f.Repository.Remove(ctx, old, j)
}

// ReadRevision calls ReadRevisionFn, or the wrapped repository.
func (f *Repo) ReadRevision(ctx context.Context, id string, n int64) (bond.Revision, bool, error) {
	if f.ReadRevisionFn != nil {
		return f.ReadRevisionFn(ctx, id, n)
	}
	return f.Repository.ReadRevision(ctx, id, n)
}

// ListRevisions calls ListRevisionsFn, or the wrapped repository.
func (f *Repo) ListRevisions(ctx context.Context, id string, below int64, batch int, yield func(bond.Revision) bool) error {
	if f.ListRevisionsFn != nil {
		return f.ListRevisionsFn(ctx, id, below, batch, yield)
	}
	return f.Repository.ListRevisions(ctx, id, below, batch, yield)
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
