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
	// found is false and only the returned bond's Version and Revision are
	// set: the last version and the last revision number of the id's
	// previous life, 0 when it never had one. They are the condition token
	// of a Create. KindUnreadable when the stored item breaks the rules of
	// this package.
	Read(ctx context.Context, id string) (b Bond, found bool, err error)

	// Create stores b (validated, its version set after prev, its Revision
	// the number of j's revision) and j, on the condition that no bond has
	// its id and that the id's previous life still ended at version prev
	// and at revision b.Revision-1 (when j appends one). KindExists when a
	// bond has the id, ErrRace when the previous life is no longer that,
	// KindPairTaken when another bond has the same (host account,
	// subscriber account) pair, KindInvalid when the engine refuses the
	// item as too large.
	Create(ctx context.Context, b Bond, prev int64, j Journal) error

	// Replace stores next (same id, a later version, its Revision that of
	// j's revision) over old, and j, on the condition that the stored bond
	// is still at old's version. Attributes that the store keeps besides
	// the bond's fields are left as they are. ErrRace when the condition
	// fails (the bond changed or was deleted), KindPairTaken when next moves
	// to a pair another bond holds, KindInvalid when the engine refuses the
	// item as too large.
	Replace(ctx context.Context, old, next Bond, j Journal) error

	// Remove deletes old and stores j, on the condition that the stored
	// bond is still at old's version, and remembers that version and
	// j.LastRevision(old.Revision) as the last of its life. ErrRace when
	// the condition fails.
	Remove(ctx context.Context, old Bond, j Journal) error

	// ReadRevision returns revision n of bond id, found false when it has
	// none (never had, or it expired). KindUnreadable when the stored
	// revision breaks CheckRevision.
	ReadRevision(ctx context.Context, id string, n int64) (r Revision, found bool, err error)

	// ListRevisions calls yield with the revisions of bond id, newest
	// first, starting below revision below (0: from the newest), until
	// yield returns false or none is left; batch hints how many the caller
	// expects to take. Revisions of every life of the id are listed, also
	// after a delete. KindUnreadable as ReadRevision.
	ListRevisions(ctx context.Context, id string, below int64, batch int, yield func(r Revision) bool) error

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
