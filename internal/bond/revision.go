package bond

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// Revision history. Every write that changes a bond appends one revision,
// in the same atomic write as the change (the store writes the Journal it is
// given with the change, or neither): no acknowledged change lacks its
// revision and no revision lacks its change. Revisions are numbered 1, 2,
// 3, ... per bond id and never reused: the number of the id's last revision
// is kept with the bond (Bond.Revision) and with the end of its previous
// life, so the next one is last+1 under the same condition that protects the
// version. A write that changes nothing appends nothing. (Google AIP-162,
// resource revisions.)

// The operations a revision records.
const (
	OpCreate           = "create"
	OpUpdate           = "update"
	OpSubscriberPut    = "subscriber_put"
	OpSubscriberRemove = "subscriber_remove"
	OpDelete           = "delete"
	OpRestore          = "restore"
)

// MaxRevision is the largest revision number a store reads (as MaxVersion).
const MaxRevision = MaxVersion

// Revision is one entry of a bond's history: its JSON is the representation
// of GET /bonds/{bond_id}/revisions/{revision}.
type Revision struct {
	// Revision is the entry's number: 1, 2, 3, ... per bond id.
	Revision int64  `json:"revision"`
	BondID   string `json:"bond_id"`
	// Operation is one of the Op constants.
	Operation string `json:"operation"`
	// Version is the bond's version after the write (its entity tag); for a
	// delete, the version that was deleted.
	Version int64 `json:"version"`
	// Time is the server's clock at the write.
	Time Timestamp `json:"time"`
	// Actor is who wrote: the API key's name, AnonymousActor without keys,
	// or a command's name (see WithAudit).
	Actor string `json:"actor"`
	// RequestID is the X-Request-ID of the request that wrote, empty for a
	// command.
	RequestID string `json:"request_id"`
	// Deleted is true only for a delete.
	Deleted bool `json:"deleted"`
	// Bond is the representation after the write; for a delete, the one
	// that was deleted. Its Version and Revision are not part of the JSON.
	Bond Bond `json:"bond"`
}

// Journal is what a store writes together with a change, in the same
// atomic write (one bbolt transaction, one DynamoDB TransactWriteItems): all
// of it or none of it, with the change. A nil field writes nothing.
type Journal struct {
	// Revision is the revision the change appends.
	Revision *Revision

	// Idempotency is the completed record of the keyed request that makes
	// the change (see Completion): stored on the condition that no record
	// is Live at IdempotencyAt, else the whole write fails with ErrKeyTaken
	// and nothing of it is made.
	Idempotency   *idempotency.Record
	IdempotencyAt time.Time
}

// LastRevision returns the number of the id's last revision once the write
// carrying j is done: j's revision, or last (the bond's) when j appends
// none. A Remove keeps it with the end of the bond's life.
func (j Journal) LastRevision(last int64) int64 {
	if j.Revision != nil {
		return j.Revision.Revision
	}
	return last
}

// TimeLayout is the form of a revision's time: RFC 3339, UTC, exactly three
// fraction digits.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Timestamp is a time shown as TimeLayout, to the millisecond.
type Timestamp struct{ time.Time }

// NewTimestamp returns t in UTC, truncated to the millisecond.
func NewTimestamp(t time.Time) Timestamp { return Timestamp{t.UTC().Truncate(time.Millisecond)} }

// MarshalJSON writes the time as TimeLayout.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(TimeLayout) + `"`), nil
}

// UnmarshalJSON reads a time in exactly TimeLayout.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	v, err := time.Parse(TimeLayout, s)
	if err != nil || v.Format(TimeLayout) != s {
		return fmt.Errorf("time %q is not of the form %s", s, TimeLayout)
	}
	*t = Timestamp{v}
	return nil
}

// now is the clock of revisions.
var now = time.Now

// CheckRevision holds a revision read back from a store to the rules: the
// number and version in range, a known operation, deleted only for a
// delete, the bond (its id that of the revision) by CheckStored. It returns
// ErrUnreadable naming the bond, or nil.
func CheckRevision(r Revision) error {
	bad := func(what string) error {
		return ErrUnreadable(r.BondID, fmt.Sprintf("revision %d: %s", r.Revision, what))
	}
	switch {
	case r.Revision < 1 || r.Revision > MaxRevision:
		return bad("revision: out of range")
	case r.Version < 0 || r.Version > MaxVersion:
		return bad("version: out of range")
	case r.Operation != OpCreate && r.Operation != OpUpdate && r.Operation != OpSubscriberPut &&
		r.Operation != OpSubscriberRemove && r.Operation != OpDelete && r.Operation != OpRestore:
		return bad("operation: unknown")
	case r.Deleted != (r.Operation == OpDelete):
		return bad("deleted: does not match the operation")
	case r.Bond.BondID != r.BondID:
		return bad("bond.bond_id: not the revision's bond_id")
	case r.Time.IsZero():
		return bad("time: missing")
	case len(r.Actor) > maxAuditLen || strings.ContainsFunc(r.Actor, unicode.IsControl) || !utf8.ValidString(r.Actor):
		return bad("actor: not a name")
	case len(r.RequestID) > maxAuditLen || strings.ContainsFunc(r.RequestID, unicode.IsControl) || !utf8.ValidString(r.RequestID):
		return bad("request_id: not a request id")
	}
	b := r.Bond
	b.Version = r.Version
	if what := storedProblem(b); what != "" {
		return bad("bond." + what)
	}
	return nil
}

// maxAuditLen bounds a revision's actor and request id (an API key name, a
// command's name, an X-Request-ID of at most 128 bytes).
const maxAuditLen = 256

// MaxRevisionBytes bounds the JSON of one revision as a store reads it back:
// a bond of MaxItemBytes takes at most twice that in JSON (a '"' or '\' is
// escaped in two bytes; control characters are refused), plus the
// revision's own members. A stored revision that decodes to more is
// unreadable, so that a compressed one cannot expand without bound.
const MaxRevisionBytes = 2*MaxItemBytes + 64<<10

// MarshalRevision returns the JSON of r, the form both stores keep (and GET
// answers).
func MarshalRevision(r Revision) ([]byte, error) {
	r.Bond = r.Bond.Clone() // subscribers {} rather than null
	return json.Marshal(r)
}

// UnmarshalRevision reads the JSON of a revision that a store kept for id,
// held to CheckRevision; ErrUnreadable when it does not read.
func UnmarshalRevision(id string, data []byte) (Revision, error) {
	if len(data) > MaxRevisionBytes {
		return Revision{}, ErrUnreadable(id, "revision: larger than any revision can be")
	}
	var r Revision
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a member the service does not know would be lost
	if err := dec.Decode(&r); err != nil {
		return Revision{}, ErrUnreadable(id, "revision: "+err.Error())
	}
	if r.BondID != id {
		return Revision{}, ErrUnreadable(id, "revision: bond_id is not the key's")
	}
	r.Bond = r.Bond.Clone()
	r.Bond.Version = r.Version
	return r, CheckRevision(r)
}

// The audit context: who makes the writes of a request. The HTTP layer sets
// it from the API key and X-Request-ID; commands set their own actor.

// Actors that are not API keys.
const (
	AnonymousActor = "anonymous" // a request to a service without API keys
	SystemActor    = "system"    // a write without WithAudit
	ImportActor    = "import"    // bond-registry import
	SeedActor      = "seed"      // bond-registry seed
)

type auditKey struct{}

type audit struct {
	actor, requestID string
	written          atomic.Int64 // the last revision a write under it appended
}

// WithAudit returns ctx whose writes are recorded as actor's, in the
// request requestID (empty for none).
func WithAudit(ctx context.Context, actor, requestID string) context.Context {
	return context.WithValue(ctx, auditKey{}, &audit{actor: actor, requestID: requestID})
}

// AuditFrom returns the actor and request id of ctx: SystemActor and ""
// when WithAudit did not set them.
func AuditFrom(ctx context.Context) (actor, requestID string) {
	if a, ok := ctx.Value(auditKey{}).(*audit); ok {
		return a.actor, a.requestID
	}
	return SystemActor, ""
}

// WrittenRevision returns the number of the last revision a write under
// ctx (since WithAudit) appended, 0 when none did: what the access line
// shows.
func WrittenRevision(ctx context.Context) int64 {
	if a, ok := ctx.Value(auditKey{}).(*audit); ok {
		return a.written.Load()
	}
	return 0
}

// newRevision builds the revision that a write of b (its version and
// revision number already set) under ctx appends.
func newRevision(ctx context.Context, op string, b Bond) *Revision {
	actor, rid := AuditFrom(ctx)
	return &Revision{Revision: b.Revision, BondID: b.BondID, Operation: op, Version: b.Version,
		Time: NewTimestamp(now()), Actor: actor, RequestID: rid, Deleted: op == OpDelete, Bond: b.Clone()}
}

// journalOf is the journal of a write appending r.
func journalOf(r *Revision) Journal { return Journal{Revision: r} }

// written notes in ctx that the write appending r succeeded.
func written(ctx context.Context, r *Revision) {
	if a, ok := ctx.Value(auditKey{}).(*audit); ok && r != nil {
		a.written.Store(r.Revision)
	}
}

// ErrRevisionNotFound is returned when bond id has no revision n (never had,
// or it expired).
func ErrRevisionNotFound(id string, n int64) *Error {
	return Errorf(KindNotFound, "Revision %d of bond %s not found.", n, id)
}

// ErrNoHistory is returned when bond id never had a revision (or all
// expired).
func ErrNoHistory(id string) *Error {
	return Errorf(KindNotFound, "Bond %s has no revisions.", id)
}
