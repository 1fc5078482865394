package bond

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the caller. The HTTP layer maps each Kind to a
// status code in exactly one place (internal/httpapi/errors.go).
type Kind int

// The error kinds. KindInternal is the zero value: an error without a kind is
// internal, and its message is never shown to a client.
const (
	KindInternal        Kind = iota
	KindNotFound             // the bond (or subscriber) does not exist
	KindExists               // the bond_id is taken
	KindPairTaken            // the (host account, subscriber account) pair is taken
	KindVersionMismatch      // the bond is not at a version the precondition requires
	KindNotModified          // the bond is at a version the precondition excludes
	KindInvalid              // the input breaks a rule; Problems says which
	KindUnavailable          // the store did not answer in time, or throttled
	KindUnreadable           // the stored item is in a form the service cannot read
	KindKeyTaken             // another execution of the request's Idempotency-Key wrote first
)

func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not_found"
	case KindExists:
		return "exists"
	case KindPairTaken:
		return "pair_taken"
	case KindVersionMismatch:
		return "version_mismatch"
	case KindNotModified:
		return "not_modified"
	case KindUnreadable:
		return "unreadable"
	case KindInvalid:
		return "invalid"
	case KindUnavailable:
		return "unavailable"
	case KindKeyTaken:
		return "key_taken"
	}
	return "internal"
}

// Error is a domain error: a kind, a message safe to show a client, and for
// KindInvalid the list of problems. Err is the cause, for logs only.
type Error struct {
	Kind     Kind
	Message  string
	Problems []Problem
	// Omitted counts problems that were found but not listed in Problems:
	// a validator may stop recording after a bound, so that a hostile input
	// costs no more than that bound.
	Omitted int
	Err     error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && len(e.Problems) > 0 {
		msg = fmt.Sprintf("%d validation problems, first: %s", len(e.Problems), e.Problems[0])
	}
	if e.Err != nil {
		return e.Kind.String() + ": " + msg + ": " + e.Err.Error()
	}
	return e.Kind.String() + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// Problem is one validation failure: Loc is the path to the value within the
// bond, update or subscriber it concerns (["subscribers", "bob", "email"];
// empty for the whole value), Msg says what is wrong, Type names the rule in
// the pydantic style the original service used ("value_error.email"). The
// HTTP layer puts the request part in front ("body", "path", "query").
type Problem struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

func (p Problem) String() string { return fmt.Sprintf("%v: %s (%s)", p.Loc, p.Msg, p.Type) }

// KindOf returns the kind of err, KindInternal when it carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Errorf returns an *Error of the given kind with a formatted, client-safe
// message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a KindInvalid error listing every problem.
func Invalid(problems ...Problem) *Error {
	return &Error{Kind: KindInvalid, Problems: problems}
}

// Unavailable wraps a store failure that a retry may cure (timeout, throttling,
// connection refused). The cause stays out of the client's view.
func Unavailable(op string, cause error) *Error {
	return &Error{Kind: KindUnavailable, Message: "The bond store is unavailable. Retry later.", Err: fmt.Errorf("%s: %w", op, cause)}
}

// ErrStoreNotReady is returned by every call of a store that cannot be
// used as it is set up (a DynamoDB table whose layout breaks the table
// rules): reason is one line saying what differs, shown to the client,
// cause is kept for logs. A retry succeeds once an operator fixed it.
func ErrStoreNotReady(reason string, cause error) *Error {
	return &Error{Kind: KindUnavailable, Message: "The bond store cannot be used as it is set up: " + reason + ".", Err: cause}
}

// The messages of the contract (docs/api.md, "Errors"), one constructor each, so
// every store says the same thing.

// ErrNotFound is returned when bond id does not exist.
func ErrNotFound(id string) *Error { return Errorf(KindNotFound, "Bond %s not found.", id) }

// ErrSubscriberAddNotFound is ErrNotFound for POST /bonds/{id}/subscribers.
func ErrSubscriberAddNotFound(id, sid string) *Error {
	return Errorf(KindNotFound, "Bond %s not found. Cannot add subscriber %s.", id, sid)
}

// ErrSubscriberRemoveNotFound is ErrNotFound for DELETE /bonds/{id}/subscribers/{sid}.
func ErrSubscriberRemoveNotFound(id, sid string) *Error {
	return Errorf(KindNotFound, "Bond %s not found. Cannot remove subscriber %s.", id, sid)
}

// ErrSubscriberNotFound is returned when bond id exists but has no subscriber sid.
func ErrSubscriberNotFound(id, sid string) *Error {
	return Errorf(KindNotFound, "Subscriber %s not found in bond %s.", sid, id)
}

// ErrExists is returned when creating a bond whose id is taken.
func ErrExists(id string) *Error { return Errorf(KindExists, "Bond already exists: bond_id=%s", id) }

// ErrPairTaken is returned when another bond (otherID) already has the pair.
func ErrPairTaken(host, sub, otherID string) *Error {
	return Errorf(KindPairTaken,
		"A bond already exists for host account %s and subscriber account %s: bond_id=%s", host, sub, otherID)
}

// ErrVersionMismatch is returned when a precondition requires the bond at a
// version it does not have, or requires it to exist and it does not.
func ErrVersionMismatch(id string) *Error {
	return Errorf(KindVersionMismatch,
		"Bond %s is not at the version the request requires: it was changed or deleted. Fetch it again.", id)
}

// ErrNotModified is returned when a precondition excludes the bond's current
// version (or its existence).
func ErrNotModified(id string) *Error {
	return Errorf(KindNotModified, "Bond %s is at a version the request excludes.", id)
}

// ErrUnreadable is returned when the stored item of bond id is in a form the
// service cannot read (written by hand or by another program); what says
// which part. Nothing is written to such an item.
func ErrUnreadable(id, what string) *Error {
	return Errorf(KindUnreadable, "Bond %s is stored in a form this service cannot read (%s): fix the item in the store.", id, what)
}

// ErrBadCursor is returned by a listing whose cursor the store did not make
// for that filter.
func ErrBadCursor() *Error {
	return Invalid(Problem{Loc: []string{"cursor"}, Type: "value_error.cursor",
		Msg: "the cursor was not made by this store for this filter"})
}

// ErrTooLarge is returned when a write would make a bond larger than one
// DynamoDB item (MaxItemBytes, DynamoDB's 400 KB item limit).
func ErrTooLarge(loc ...string) *Error {
	return Invalid(Problem{Loc: loc, Type: "value_error.bond_too_large",
		Msg: fmt.Sprintf("the bond would be larger than %d bytes once stored", MaxItemBytes)})
}

// ErrTooManySubscribers is returned when an add would exceed MaxSubscribers.
func ErrTooManySubscribers(loc ...string) *Error {
	return Invalid(Problem{Loc: loc, Type: "value_error.subscribers.max_items",
		Msg: fmt.Sprintf("ensure this value has at most %d items", MaxSubscribers)})
}

// ErrRevisionKept is returned by a write whose next revision n of bond id
// is already kept: the bond's revision counter is behind its history (its
// item restored from a backup without its revisions, say). A revision is
// never replaced, so the bond is unreadable until fixed by hand.
func ErrRevisionKept(id string, n int64) *Error {
	return ErrUnreadable(id, fmt.Sprintf("revision: %d is already kept, but the bond's revision counter names it as its next", n))
}
