// Package bond is the domain of the Bond Registry: the Bond and Subscriber
// types, every rule about a bond (validation, limits, applying an update,
// adding and removing a subscriber and when that changes nothing, what a
// precondition means, how a listing page is cut), the typed errors every
// layer speaks, and the Repository contract that each store implements.
//
// Stores only store: they give the primitives of Repository (read, and
// writes conditioned on what was read: create, replace, remove, each with
// its journal of revision and idempotency record; scan) and keep what is
// really per engine (uniqueness of the account pair, index planning, error
// translation). The operations (ops.go, history.go, and the read-check-write
// step of modify.go) combine those primitives with the rules, so both stores
// answer alike by construction.
//
// Beyond the standard library the package depends only on
// internal/idempotency (the record a keyed write carries), which depends on
// nothing of this module, so stores and the HTTP layer can depend on bond
// without depending on each other.
package bond

import (
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

	// Revision is the number of the last revision of the bond's id (see
	// Revision): the write that made this state appended it, or 0 for a
	// bond written before history was kept and not written since. Like
	// Version it is not in the JSON body.
	Revision int64 `json:"-"`
}

// Clone returns b with its own copy of the subscribers map (never nil).
func (b Bond) Clone() Bond {
	b.Subscribers = maps.Clone(b.Subscribers)
	if b.Subscribers == nil {
		b.Subscribers = map[string]Subscriber{}
	}
	return b
}

// SameContent reports whether b and o hold the same data, whatever their
// versions (a nil and an empty subscribers map are the same).
func (b Bond) SameContent(o Bond) bool {
	if b.BondID != o.BondID || !maps.Equal(b.Subscribers, o.Subscribers) {
		return false
	}
	for _, f := range BondFields {
		if f.Get(b) != f.Get(o) {
			return false
		}
	}
	return true
}

// Update is a partial update (PUT /bonds/{id}): nil fields are kept, set fields
// replace the stored value. Subscribers, when set, replaces the whole map.
// Every string field is declared in BondFields.
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
	for _, f := range BondFields {
		if v := *f.InUpdate(&u); v != nil {
			*f.Of(&b) = *v
		}
	}
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
