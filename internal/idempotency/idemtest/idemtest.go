// Package idemtest is the shared test suite of idempotency.Store: every
// store that keeps records must pass it.
package idemtest

import (
	"crypto/rand"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// RunStoreTests runs the suite. newStore returns an empty store for each
// subtest and cleans it up; it must be safe to call from parallel subtests.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) idempotency.Store) {
	t.Helper()
	// Times are whole seconds: a store may keep Expires in seconds (DynamoDB
	// TTL) and LeaseEnd in milliseconds.
	now := time.Unix(1_900_000_000, 0)
	inFlight := func(key string) idempotency.Record { return inFlightAt(now, key) }
	completed := func(rec idempotency.Record) idempotency.Record {
		body, ok := idempotency.PackBody([]byte(`{"bond_id":"FOO"}` + "\n"))
		require.True(t, ok)
		rec.Done = true
		rec.Answer = idempotency.Answer{Status: http.StatusCreated, Location: "/bonds/FOO", ETag: `"1"`,
			ContentType: "application/json", Body: body}
		return rec
	}
	begin := func(t *testing.T, s idempotency.Store, rec idempotency.Record, at time.Time) (idempotency.Record, bool) {
		t.Helper()
		cur, started, err := s.Begin(t.Context(), rec, at)
		require.NoError(t, err)
		return cur, started
	}

	t.Run("BeginThenInFlight", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec := inFlight("k1")
		_, started := begin(t, s, rec, now)
		require.True(t, started, "first Begin starts")
		cur, started := begin(t, s, inFlight("k1"), now.Add(time.Second))
		require.False(t, started, "a second Begin within the lease does not start")
		assert.Equal(t, rec, cur, "the in-flight record comes back")
	})
	t.Run("CompleteThenReplay", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec := inFlight("k1")
		begin(t, s, rec, now)
		done := completed(rec)
		require.NoError(t, s.Complete(t.Context(), done))
		cur, started := begin(t, s, inFlight("k1"), now.Add(time.Hour))
		require.False(t, started, "a completed record holds its key past the lease")
		assert.Equal(t, done, cur, "the completed record comes back, answer and all")
		body, err := idempotency.UnpackBody(cur.Answer.Body)
		require.NoError(t, err)
		assert.Equal(t, `{"bond_id":"FOO"}`+"\n", string(body))
	})
	t.Run("ScopesAreApart", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		begin(t, s, inFlight("k1"), now)
		other := inFlight("k1")
		other.Key.Scope = "bob"
		_, started := begin(t, s, other, now)
		assert.True(t, started, "another caller's key of the same value is another key")
	})
	t.Run("TakeoverAfterLeaseFencesTheStaleExecutor", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		stale := inFlight("k1")
		begin(t, s, stale, now)
		fresh := inFlight("k1")
		fresh.LeaseEnd = stale.LeaseEnd.Add(5 * time.Second)
		_, started := begin(t, s, fresh, stale.LeaseEnd)
		require.True(t, started, "the lease ended: a retry takes the key over")
		require.ErrorIs(t, s.Complete(t.Context(), completed(stale)), idempotency.ErrLeaseLost, "the stale executor cannot complete")
		require.NoError(t, s.Release(t.Context(), stale.Key, stale.Token), "a stale release does nothing")
		cur, started := begin(t, s, inFlight("k1"), stale.LeaseEnd.Add(time.Second))
		require.False(t, started)
		assert.Equal(t, fresh, cur, "the new executor still holds the key")
		require.NoError(t, s.Complete(t.Context(), completed(fresh)))
	})
	t.Run("CompleteOnlyOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec := inFlight("k1")
		begin(t, s, rec, now)
		require.NoError(t, s.Complete(t.Context(), completed(rec)))
		require.ErrorIs(t, s.Complete(t.Context(), completed(rec)), idempotency.ErrLeaseLost, "a completed record is not in flight")
		require.NoError(t, s.Release(t.Context(), rec.Key, rec.Token))
		_, started := begin(t, s, inFlight("k1"), now.Add(time.Minute))
		assert.False(t, started, "Release does not delete a completed record")
	})
	t.Run("CompleteWithoutBegin", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.ErrorIs(t, s.Complete(t.Context(), completed(inFlight("k1"))), idempotency.ErrLeaseLost)
	})
	t.Run("ReleaseFreesTheKey", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec := inFlight("k1")
		begin(t, s, rec, now)
		require.NoError(t, s.Release(t.Context(), rec.Key, rec.Token))
		_, started := begin(t, s, inFlight("k1"), now)
		assert.True(t, started, "a released key is free at once")
	})
	t.Run("ExpiredIsNew", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec := inFlight("k1")
		begin(t, s, rec, now)
		require.NoError(t, s.Complete(t.Context(), completed(rec)))
		next := inFlight("k1")
		next.Fingerprint = idempotency.FingerprintOf(http.MethodPost, "/bonds", []byte("another body"))
		_, started := begin(t, s, next, rec.Expires)
		assert.True(t, started, "an expired key is a new key")
	})
	t.Run("ManyKeysSweep", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Records that expire, then new keys long after: every Begin
		// starts, and each old key is new again.
		for i := range 20 {
			rec := inFlight(string(rune('a' + i)))
			begin(t, s, rec, now)
			require.NoError(t, s.Complete(t.Context(), completed(rec)))
		}
		later := now.Add(48 * time.Hour)
		for i := range 20 {
			rec := inFlight(string(rune('a' + i)))
			rec.LeaseEnd, rec.Expires = later.Add(5*time.Second), later.Add(24*time.Hour)
			_, started := begin(t, s, rec, later)
			assert.True(t, started, "key %d", i)
		}
	})
	t.Run("ConcurrentBeginsOneStarts", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const n = 8
		var wg sync.WaitGroup
		results := make(chan bool, n)
		for range n {
			wg.Go(func() {
				_, started, err := s.Begin(t.Context(), inFlight("k1"), now)
				assert.NoError(t, err)
				results <- started
			})
		}
		wg.Wait()
		close(results)
		starts := 0
		for started := range results {
			if started {
				starts++
			}
		}
		assert.Equal(t, 1, starts, "exactly one of concurrent Begins starts")
	})
}

// inFlightAt is a fresh in-flight record of key for caller alice, begun at
// now: a lease of 5 s, an expiry of a day.
func inFlightAt(now time.Time, key string) idempotency.Record {
	return idempotency.Record{
		Key:         idempotency.Key{Scope: "alice", Value: key},
		Fingerprint: idempotency.FingerprintOf(http.MethodPost, "/bonds", []byte(key)),
		Token:       rand.Text(),
		LeaseEnd:    now.Add(5 * time.Second),
		Expires:     now.Add(24 * time.Hour),
	}
}
