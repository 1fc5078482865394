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

// Fixture is a store under test.
type Fixture struct {
	Store idempotency.Store
	// Put writes rec as it is, without a condition, as an earlier release
	// wrote its in-flight records (and as a damaged writer might).
	Put func(rec idempotency.Record) error
}

// RunStoreTests runs the suite. newStore returns an empty store for each
// subtest and cleans it up; it must be safe to call from parallel subtests.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) Fixture) {
	t.Helper()
	// Times are whole seconds: a store may keep Expires in seconds (DynamoDB
	// TTL) and LeaseEnd in milliseconds.
	now := time.Unix(1_900_000_000, 0)
	completed := func(key string) idempotency.Record { return completedAt(t, now, key) }
	lookup := func(t *testing.T, s idempotency.Store, k idempotency.Key, at time.Time) (idempotency.Record, bool) {
		t.Helper()
		cur, found, err := s.Lookup(t.Context(), k, at)
		require.NoError(t, err)
		return cur, found
	}

	t.Run("Absent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		_, found := lookup(t, s, completed("k1").Key, now)
		assert.False(t, found)
	})
	t.Run("CompleteThenReplay", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		done := completed("k1")
		require.NoError(t, s.Complete(t.Context(), done, now))
		cur, found := lookup(t, s, done.Key, now.Add(time.Hour))
		require.True(t, found, "a completed record holds its key until it expires")
		assert.Equal(t, done, cur, "the completed record comes back, answer and all")
		body, err := idempotency.UnpackBody(cur.Answer.Body)
		require.NoError(t, err)
		assert.Equal(t, `{"bond_id":"FOO"}`+"\n", string(body))
	})
	t.Run("CompleteAgainIsKeyTaken", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		first := completed("k1")
		require.NoError(t, s.Complete(t.Context(), first, now))
		second := completed("k1")
		second.Fingerprint = idempotency.FingerprintOf(http.MethodPost, "/bonds", []byte("another body"))
		require.ErrorIs(t, s.Complete(t.Context(), second, now.Add(time.Minute)), idempotency.ErrKeyTaken)
		cur, found := lookup(t, s, first.Key, now.Add(time.Minute))
		require.True(t, found)
		assert.Equal(t, first, cur, "the first record, untouched")
	})
	t.Run("ScopesAreApart", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		require.NoError(t, s.Complete(t.Context(), completed("k1"), now))
		other := completed("k1")
		other.Key.Scope = "bob"
		_, found := lookup(t, s, other.Key, now)
		assert.False(t, found, "another caller's key of the same value is another key")
		require.NoError(t, s.Complete(t.Context(), other, now))
	})
	t.Run("ExpiredIsAbsentAndCompletable", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		old := completed("k1")
		require.NoError(t, s.Complete(t.Context(), old, now))
		_, found := lookup(t, s, old.Key, old.Expires)
		require.False(t, found, "an expired key is a new key")
		next := completedAt(t, old.Expires, "k1")
		next.Fingerprint = idempotency.FingerprintOf(http.MethodPost, "/bonds", []byte("another body"))
		require.NoError(t, s.Complete(t.Context(), next, old.Expires))
		cur, found := lookup(t, s, old.Key, old.Expires)
		require.True(t, found)
		assert.Equal(t, next, cur)
	})
	t.Run("InFlightWithItsLeaseAheadHoldsTheKey", func(t *testing.T) {
		t.Parallel()
		f := newStore(t)
		legacy := inFlightAt(now, "k1")
		require.NoError(t, f.Put(legacy))
		cur, found := lookup(t, f.Store, legacy.Key, now.Add(time.Second))
		require.True(t, found, "an earlier release's in-flight record holds the key during its lease")
		assert.Equal(t, legacy, cur)
		require.ErrorIs(t, f.Store.Complete(t.Context(), completed("k1"), now.Add(time.Second)), idempotency.ErrKeyTaken)
	})
	t.Run("InFlightWhoseLeaseEndedIsFree", func(t *testing.T) {
		t.Parallel()
		f := newStore(t)
		legacy := inFlightAt(now, "k1")
		require.NoError(t, f.Put(legacy))
		_, found := lookup(t, f.Store, legacy.Key, legacy.LeaseEnd)
		require.False(t, found, "its executor is gone: the key is free")
		done := completedAt(t, legacy.LeaseEnd, "k1")
		require.NoError(t, f.Store.Complete(t.Context(), done, legacy.LeaseEnd))
		cur, found := lookup(t, f.Store, legacy.Key, legacy.LeaseEnd)
		require.True(t, found)
		assert.Equal(t, done, cur)
	})
	t.Run("Unreadable", func(t *testing.T) {
		t.Parallel()
		f := newStore(t)
		bad := inFlightAt(now, "k1")
		bad.Token = "" // breaks Check
		require.NoError(t, f.Put(bad))
		_, _, err := f.Store.Lookup(t.Context(), bad.Key, now)
		require.ErrorIs(t, err, idempotency.ErrUnreadable)
		require.ErrorIs(t, f.Store.Complete(t.Context(), completed("k1"), now), idempotency.ErrKeyTaken,
			"a record that may be live is never overwritten")
	})
	t.Run("ManyKeysSweep", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		// Records that expire, then the same keys long after: each is new
		// again, and completes.
		for i := range 20 {
			require.NoError(t, s.Complete(t.Context(), completed(string(rune('a'+i))), now))
		}
		later := now.Add(48 * time.Hour)
		for i := range 20 {
			rec := completedAt(t, later, string(rune('a'+i)))
			_, found := lookup(t, s, rec.Key, later)
			assert.False(t, found, "key %d", i)
			require.NoError(t, s.Complete(t.Context(), rec, later), "key %d", i)
			cur, found := lookup(t, s, rec.Key, later)
			require.True(t, found, "key %d", i)
			assert.Equal(t, rec, cur, "key %d", i)
		}
	})
	t.Run("ConcurrentCompletesOneLands", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		const n = 8
		var wg sync.WaitGroup
		landed := make(chan idempotency.Record, n)
		for range n {
			wg.Go(func() {
				rec := completed("k1")
				err := s.Complete(t.Context(), rec, now)
				if err == nil {
					landed <- rec
					return
				}
				assert.ErrorIs(t, err, idempotency.ErrKeyTaken)
			})
		}
		wg.Wait()
		close(landed)
		require.Len(t, landed, 1, "exactly one of concurrent Completes lands")
		cur, found := lookup(t, s, completed("k1").Key, now)
		require.True(t, found)
		assert.Equal(t, (<-landed).Token, cur.Token, "the record is the one that landed")
	})
}

// completedAt is a completed record of key for caller alice, written at
// now, with a fresh token: a 201 answer, an expiry of a day.
func completedAt(t *testing.T, now time.Time, key string) idempotency.Record {
	body, ok := idempotency.PackBody([]byte(`{"bond_id":"FOO"}` + "\n"))
	require.True(t, ok)
	rec := inFlightAt(now, key)
	rec.Done, rec.LeaseEnd = true, time.Time{}
	rec.Answer = idempotency.Answer{Status: http.StatusCreated, Location: "/bonds/FOO", ETag: `"1"`,
		ContentType: "application/json", Body: body}
	return rec
}

// inFlightAt is an in-flight record of key for caller alice, as an earlier
// release began it at now: a lease of 5 s, an expiry of a day.
func inFlightAt(now time.Time, key string) idempotency.Record {
	return idempotency.Record{
		Key:         idempotency.Key{Scope: "alice", Value: key},
		Fingerprint: idempotency.FingerprintOf(http.MethodPost, "/bonds", []byte(key)),
		Token:       rand.Text(),
		LeaseEnd:    now.Add(5 * time.Second),
		Expires:     now.Add(24 * time.Hour),
	}
}
