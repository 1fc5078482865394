package bond

import "context"

// Change computes the next state of a stored bond (see modify). It gets its
// own copy of the bond and may modify it. changed is false when the result
// would hold the same data: nothing is written and the version stays. A
// non-nil error refuses the change and is returned as is.
type Change func(cur Bond) (next Bond, changed bool, err error)

// Repository is the store contract: storage primitives, with no bond rule of
// their own beyond what needs the engine (the account pair's uniqueness, the
// atomicity of a conditional write). The read-check-write step of every
// write, its retries and the versions are the operations' (ops.go, modify.go),
// once for every store. Every implementation must pass the suite in package
// bondtest. Methods return *Error values whose Kind is listed in each
// comment, or KindUnavailable when the store does not answer in time; any
// other error is internal. Callers use the operations, which add the rules.
//
// Versions. A bond's version is its entity tag (RFC 9110 §8.8.3: a strong
// validator must be unique across all representations of a resource over
// time), so versions never repeat for an id, also across a delete and a
// re-create: a store remembers the last version of a deleted bond (Read
// returns it) and the next life of the id starts after it. A conditional
// write that names a version therefore names one life of the bond too.
type Repository interface {
	// Read returns the stored bond id with found true. When there is none,
	// found is false and only the returned bond's Version is set: the last
	// version of the id's previous life, 0 when it never had one. That
	// version is the condition token of a Create. KindUnreadable when the
	// stored item breaks the rules of this package.
	Read(ctx context.Context, id string) (b Bond, found bool, err error)

	// Create stores b (validated, its version set after prev) on the
	// condition that no bond has its id and that the id's previous life
	// still ended at version prev. KindExists when a bond has the id,
	// ErrRace when the previous life is no longer prev, KindPairTaken when
	// another bond has the same (host account, subscriber account) pair,
	// KindInvalid when the engine refuses the item as too large.
	Create(ctx context.Context, b Bond, prev int64) error

	// Replace stores next (same id, a later version) over old on the
	// condition that the stored bond is still at old's version. Attributes
	// that the store keeps besides the bond's fields are left as they are.
	// ErrRace when the condition fails (the bond changed or was deleted),
	// KindPairTaken when next moves to a pair another bond holds, KindInvalid
	// when the engine refuses the item as too large.
	Replace(ctx context.Context, old, next Bond) error

	// Remove deletes old on the condition that the stored bond is still at
	// old's version, and remembers that version as the last of its life.
	// ErrRace when the condition fails.
	Remove(ctx context.Context, old Bond) error

	// List calls yield with each bond matching f, in the store's order,
	// starting after the position cursor (empty for the first), until yield
	// returns false or no bond is left. resume returns the cursor of the
	// position just after that bond; it is only valid during the call.
	// batch hints how many bonds the caller expects to take, so that a store
	// that reads in pages reads no more than needed. Following the cursors
	// yields every matching bond exactly once. KindInvalid (ErrBadCursor) for
	// a cursor the store did not make for f, KindUnreadable for a stored
	// item that breaks the rules.
	List(ctx context.Context, f Filter, cursor string, batch int, yield func(b Bond, resume func() string) bool) error

	// Ping reports whether the store answers. KindUnavailable.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// SubscriberPatcher is an optional upgrade of a Repository, as io.WriterTo
// is of io.Copy: a store that can put or remove one subscriber in a single
// atomic step, without reading the bond first, implements it, and the
// subscriber operations of ops.go try it before the read-check-write step.
//
// Each method applies its change only under the store's conditions: the bond
// exists and its subscribers are a map; ifVersion is AnyVersion or the
// bond's version; for a put, the bond has fewer than below subscribers (the
// caller computes below so that no bond under it can break a limit) and the
// stored subscriber differs from s; for a remove, the subscriber exists.
// done is false, with a nil error, when a condition failed: the caller then
// decides with the rules, which also covers every no-op. A write that
// happened bumps the version by one and returns the bond as stored.
type SubscriberPatcher interface {
	PatchPutSubscriber(ctx context.Context, id string, s Subscriber, ifVersion int64, below int) (b Bond, done bool, err error)
	PatchRemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (b Bond, done bool, err error)
}
