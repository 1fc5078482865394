// Package bond is the domain of the Bond Registry: the Bond and Subscriber
// types, their validation rules, the typed errors every layer speaks, and the
// Repository contract that each store implements.
//
// The package has no dependencies beyond the standard library, so stores and
// the HTTP layer can depend on it without depending on each other.
package bond

import (
	"context"
	"strconv"
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

	// Version is incremented by every write. It is sent as the ETag, never in
	// the JSON body (the original service had no such field).
	Version int64 `json:"-"`
}

// ETag is the strong entity tag of the bond's current version.
func (b Bond) ETag() string { return `"` + strconv.FormatInt(b.Version, 10) + `"` }

// Update is a partial update (PUT /bonds/{id}): nil fields are kept, set fields
// replace the stored value. Subscribers, when set, replaces the whole map.
type Update struct {
	HostAccountID  *string
	SubAccountID   *string
	HostCostCenter *string
	SubCostCenter  *string
	Subscribers    *map[string]Subscriber
}

// Apply returns b with the update's fields applied. It does not touch Version:
// incrementing it is the store's job, inside its transaction.
func (u Update) Apply(b Bond) Bond {
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
		b.Subscribers = *u.Subscribers
	}
	if b.Subscribers == nil {
		b.Subscribers = map[string]Subscriber{}
	}
	return b
}

// Filter selects bonds in List. With ByHost the account and cost center are
// matched on the host side, else on the subscriber side. Empty fields match
// everything; an empty Filter lists all bonds.
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
// page, empty on the last one. It is raw store state: the HTTP layer signs it
// before a client sees it.
type Page struct {
	Bonds []Bond
	Next  string
}

// AnyVersion, passed as the expected version of a write, makes it
// unconditional (no If-Match).
const AnyVersion int64 = -1

// Repository is the store contract. Every implementation must pass the suite
// in package bondtest. Methods return *Error values whose Kind is listed in
// each comment; any other error is internal. Every write is atomic and bumps
// the version by one; ifVersion is AnyVersion or the version the caller
// expects the stored bond to have (ErrVersionMismatch otherwise).
type Repository interface {
	// Get returns the bond. KindNotFound.
	Get(ctx context.Context, id string) (Bond, error)

	// Create stores a new bond with version 1 and returns it. KindExists when
	// the id is taken, KindPairTaken when another bond has the same
	// (host account, subscriber account) pair.
	Create(ctx context.Context, b Bond) (Bond, error)

	// Update applies u to the stored bond and returns the result. KindNotFound,
	// KindPairTaken, KindVersionMismatch, KindInvalid (result too large).
	Update(ctx context.Context, id string, u Update, ifVersion int64) (Bond, error)

	// Delete removes the bond. Deleting a missing bond is not an error, unless
	// ifVersion is given: a missing bond has no version to match, so that is
	// KindVersionMismatch (RFC 9110 If-Match), as is a stale version.
	Delete(ctx context.Context, id string, ifVersion int64) error

	// PutSubscriber adds s, or replaces the subscriber with the same sid, in
	// one atomic step (no lost updates under concurrency). Putting a
	// subscriber exactly as it is stored changes nothing and keeps the
	// version, so a retried put is harmless. KindNotFound
	// (ErrSubscriberAddNotFound), KindVersionMismatch, KindInvalid (too many
	// subscribers, or the bond would grow too large).
	PutSubscriber(ctx context.Context, id string, s Subscriber, ifVersion int64) (Bond, error)

	// RemoveSubscriber removes the subscriber sid; a missing sid is a no-op
	// that still returns the bond (and does not bump the version). KindNotFound
	// (ErrSubscriberRemoveNotFound), KindVersionMismatch.
	RemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (Bond, error)

	// List returns up to limit bonds matching f, starting after cursor (empty
	// for the first page). Following Next until it is empty yields every
	// matching bond exactly once. KindInvalid for a cursor the store cannot
	// read.
	List(ctx context.Context, f Filter, limit int, cursor string) (Page, error)

	// Ping reports whether the store answers. KindUnavailable.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}
