// Package bond is the domain of the Bond Registry: the Bond and Subscriber
// types, every rule about a bond (validation, limits, applying an update,
// adding and removing a subscriber and when that changes nothing, what a
// precondition means, how a listing page is cut), the typed errors every
// layer speaks, and the Repository contract that each store implements.
//
// Stores only store: they give the primitives of Repository (read, create,
// compare-and-swap under a precondition, delete, scan) and keep what is
// really per engine (uniqueness of the account pair, index planning, error
// translation). The operations in ops.go combine those primitives with the
// rules, so both stores answer alike by construction.
//
// The package has no dependencies beyond the standard library, so stores and
// the HTTP layer can depend on it without depending on each other.
package bond

import (
	"context"
	"maps"
)

// Subscriber is a person of the subscriber account allowed to use the host's
// services. Name and Email are personal data: they must never be logged.
type Subscriber struct {
	SID   string `json:"sid"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Bond is a charge-back relationship: the subscriber account pays the host
// account for services. (HostAccountID, SubAccountID) is unique across bonds.
type Bond struct {
	BondID         string                `json:"bond_id"`
	HostAccountID  string                `json:"host_account_id"`
	SubAccountID   string                `json:"sub_account_id"`
	HostCostCenter string                `json:"host_cost_center"`
	SubCostCenter  string                `json:"sub_cost_center"`
	Subscribers    map[string]Subscriber `json:"subscribers"`

	// Version is incremented by every write that changes the bond. The HTTP
	// layer sends it as the entity tag, never in the JSON body (the original
	// service had no such field).
	Version int64 `json:"-"`
}

// Clone returns b with its own copy of the subscribers map (never nil).
func (b Bond) Clone() Bond {
	b.Subscribers = maps.Clone(b.Subscribers)
	if b.Subscribers == nil {
		b.Subscribers = map[string]Subscriber{}
	}
	return b
}

// SameContent reports whether a and b hold the same data, whatever their
// versions (a nil and an empty subscribers map are the same).
func (b Bond) SameContent(o Bond) bool {
	return b.BondID == o.BondID &&
		b.HostAccountID == o.HostAccountID && b.SubAccountID == o.SubAccountID &&
		b.HostCostCenter == o.HostCostCenter && b.SubCostCenter == o.SubCostCenter &&
		maps.Equal(b.Subscribers, o.Subscribers)
}

// Update is a partial update (PUT /bonds/{id}): nil fields are kept, set fields
// replace the stored value. Subscribers, when set, replaces the whole map.
type Update struct {
	HostAccountID  *string
	SubAccountID   *string
	HostCostCenter *string
	SubCostCenter  *string
	Subscribers    *map[string]Subscriber
}

// Apply returns b with the update's fields applied. The result shares no map
// with b or with u. It does not touch Version.
func (u Update) Apply(b Bond) Bond {
	b = b.Clone()
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&b.HostAccountID, u.HostAccountID)
	set(&b.SubAccountID, u.SubAccountID)
	set(&b.HostCostCenter, u.HostCostCenter)
	set(&b.SubCostCenter, u.SubCostCenter)
	if u.Subscribers != nil {
		b.Subscribers = Bond{Subscribers: *u.Subscribers}.Clone().Subscribers
	}
	return b
}

// Filter selects bonds in a listing. With ByHost the account and cost center
// are matched on the host side, else on the subscriber side. Empty fields
// match everything; an empty Filter lists all bonds.
type Filter struct {
	CostCenter string
	Account    string
	ByHost     bool
}

// Match reports whether b is selected by f.
func (f Filter) Match(b Bond) bool {
	account, costCenter := b.SubAccountID, b.SubCostCenter
	if f.ByHost {
		account, costCenter = b.HostAccountID, b.HostCostCenter
	}
	return (f.Account == "" || f.Account == account) &&
		(f.CostCenter == "" || f.CostCenter == costCenter)
}

// Page is one page of a listing. Next is the store's cursor for the following
// page, empty when no more bonds match. It is raw store state: the HTTP layer
// signs it before a client sees it.
type Page struct {
	Bonds []Bond
	Next  string
}

// Change computes the next state of a stored bond (see Repository.Modify).
// It gets its own copy of the bond and may modify it. changed is false when
// the result would hold the same data: the store then writes nothing and the
// version stays. A non-nil error refuses the change and is returned as is.
type Change func(cur Bond) (next Bond, changed bool, err error)

// Repository is the store contract: storage primitives, with no bond rule of
// their own beyond what needs the engine (the account pair's uniqueness, the
// atomicity of a compare-and-swap). Every implementation must pass the suite
// in package bondtest. Methods return *Error values whose Kind is listed in
// each comment, or KindUnavailable when the store does not answer in time;
// any other error is internal. Callers use the operations of ops.go, which
// add the rules.
type Repository interface {
	// Get returns the bond. KindNotFound.
	Get(ctx context.Context, id string) (Bond, error)

	// Create stores b exactly as given (the caller has validated it and set
	// its version). KindExists when the id is taken, KindPairTaken when
	// another bond has the same (host account, subscriber account) pair,
	// KindInvalid when the engine refuses the item as too large.
	Create(ctx context.Context, b Bond) error

	// Modify is an atomic read-check-write of bond id (Kubernetes'
	// GuaranteedUpdate): it reads the bond, checks pre against it (pre.Check,
	// whose error it returns), returns ErrNotFound(id) when it does not
	// exist, and calls change on a copy. When change reports no change, the
	// stored bond is returned as it is. Otherwise the result is stored at the
	// next version, on the condition that the bond is still at the version
	// that was read; a lost race reads again and calls change again, so change
	// must be a pure function of its argument. KindPairTaken when the result
	// moves to a pair another bond holds, KindInvalid when the engine refuses
	// the item as too large, and change's own errors.
	Modify(ctx context.Context, id string, pre Precondition, change Change) (Bond, error)

	// Delete removes the bond, after checking pre against it (pre.Check,
	// whose error it returns). Deleting a bond that does not exist is not an
	// error when pre allows it.
	Delete(ctx context.Context, id string, pre Precondition) error

	// List calls yield with each bond matching f, in the store's order,
	// starting after the position cursor (empty for the first), until yield
	// returns false or no bond is left. resume returns the cursor of the
	// position just after that bond; it is only valid during the call.
	// batch hints how many bonds the caller expects to take, so that a store
	// that reads in pages reads no more than needed. Following the cursors
	// yields every matching bond exactly once. KindInvalid (ErrBadCursor) for
	// a cursor the store did not make for f.
	List(ctx context.Context, f Filter, cursor string, batch int, yield func(b Bond, resume func() string) bool) error

	// Ping reports whether the store answers. KindUnavailable.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// SubscriberPatcher is an optional upgrade of a Repository, as io.WriterTo
// is of io.Copy: a store that can put or remove one subscriber in a single
// atomic step, without reading the bond first, implements it, and the
// subscriber operations of ops.go try it before Modify.
//
// Each method applies its change only under the store's conditions: the bond
// exists and its subscribers are a map; ifVersion is AnyVersion or the
// bond's version; for a put, the bond has fewer than below subscribers (the
// caller computes below so that no bond under it can break a limit) and the
// stored subscriber differs from s; for a remove, the subscriber exists.
// done is false, with a nil error, when a condition failed: the caller then
// decides with the rules (Modify), which also covers every no-op. A write
// that happened bumps the version by one and returns the bond as stored.
type SubscriberPatcher interface {
	PatchPutSubscriber(ctx context.Context, id string, s Subscriber, ifVersion int64, below int) (b Bond, done bool, err error)
	PatchRemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (b Bond, done bool, err error)
}
