package bond

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// Completion of an idempotency record in the write it records. The answer
// of a request with an Idempotency-Key is kept in a record (package
// idempotency). So that a crash can leave neither a change without its
// record nor a record without its change, the completed record travels in
// the Journal of the change: the store writes it in the same atomic write,
// on the condition that no record is Live at the time of the write (At), so
// that of two executions of one key exactly one change is made. The answer
// is rendered from the bond the write leaves, which only the operation
// knows (its version and revision are set in the write loop): the caller
// hands the operation a Completion through the context, as it hands it the
// audit (WithAudit), and the operation signatures stay as they are.

// Completion renders the completed idempotency record of a keyed request
// for the bond its write leaves. Only the writes that leave a bond (Create,
// UpdateBond, PutSubscriber, RemoveSubscriber, Restore) carry it; a write
// that changes nothing carries nothing (the caller then completes the
// record itself: no change needs to travel with it).
type Completion struct {
	// Record returns the completed record to store with the write of b:
	// Done set and the answer rendered from b; nil when the answer is not
	// kept.
	Record func(b Bond) *idempotency.Record

	// At is the time the record's condition is evaluated at (the store
	// writes it only where no record is Live at At).
	At time.Time

	done atomic.Bool
}

// Done reports whether a write under c stored its record.
func (c *Completion) Done() bool { return c.done.Load() }

type completionKey struct{}

// WithCompletion returns ctx whose writes complete c's record with the
// change.
func WithCompletion(ctx context.Context, c *Completion) context.Context {
	return context.WithValue(ctx, completionKey{}, c)
}

// ErrKeyTaken is returned by a store's write whose Journal carries a record
// whose key a record Live at the time of the write already holds: another
// execution of the key wrote first. The change is not made; the key's
// record holds the answer. Stores check it before the other conditions of
// the write, and the write loop never retries it.
var ErrKeyTaken = &Error{Kind: KindKeyTaken, Err: idempotency.ErrKeyTaken,
	Message: "Another request with this Idempotency-Key was executed first; this request changed nothing. Retry to get its answer."}

// journalLeaving is the journal of a write appending r that leaves bond b:
// with the idempotency record of ctx's Completion, rendered from b.
func journalLeaving(ctx context.Context, r *Revision, b Bond) Journal {
	j := journalOf(r)
	if c, ok := ctx.Value(completionKey{}).(*Completion); ok && c.Record != nil {
		j.Idempotency, j.IdempotencyAt = c.Record(b), c.At
	}
	return j
}

// completed notes in ctx that the write carrying j succeeded: its revision
// (WrittenRevision) and, when it carried one, its idempotency record.
func completed(ctx context.Context, j Journal) {
	written(ctx, j.Revision)
	if c, ok := ctx.Value(completionKey{}).(*Completion); ok && j.Idempotency != nil {
		c.done.Store(true)
	}
}
