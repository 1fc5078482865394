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
	KindVersionMismatch      // If-Match does not match the stored version
	KindInvalid              // the input breaks a rule; Problems says which
	KindUnavailable          // the store did not answer in time, or throttled
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
	case KindInvalid:
		return "invalid"
	case KindUnavailable:
		return "unavailable"
	}
	return "internal"
}

// Error is a domain error: a kind, a message safe to show a client, and for
// KindInvalid the list of problems. Err is the cause, for logs only.
type Error struct {
	Kind     Kind
	Message  string
	Problems []Problem
	Err      error
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

// Problem is one validation failure, in the FastAPI/pydantic style:
// Loc is the path to the value (["body", "subscribers", "bob", "email"]).
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

// The messages of the contract (api-contract.md, "Errors"), one constructor
// each, so every store says the same thing.

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

// ErrVersionMismatch is returned when If-Match names a version the bond does
// not have (or the bond does not exist).
func ErrVersionMismatch(id string, want int64) *Error {
	return Errorf(KindVersionMismatch,
		`Bond %s does not have version "%d" (If-Match): it was changed or deleted. Fetch it again.`, id, want)
}

// ErrTooLarge is returned when a write would make a bond larger than one
// DynamoDB item.
func ErrTooLarge(loc ...string) *Error {
	return Invalid(Problem{Loc: loc, Type: "value_error.bond_too_large",
		Msg: fmt.Sprintf("the bond would be larger than %d bytes once stored", MaxItemBytes)})
}

// ErrTooManySubscribers is returned when an add would exceed MaxSubscribers.
func ErrTooManySubscribers(loc ...string) *Error {
	return Invalid(Problem{Loc: loc, Type: "value_error.subscribers.max_items",
		Msg: fmt.Sprintf("ensure this value has at most %d items", MaxSubscribers)})
}
