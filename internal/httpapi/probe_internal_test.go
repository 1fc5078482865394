package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
)

// countingRepo is a store whose Ping counts its calls and returns *result.
func countingRepo(calls *atomic.Int64, result *error) *bondfake.Repo {
	return &bondfake.Repo{PingFn: func(context.Context) error {
		calls.Add(1)
		return *result
	}}
}

// The probes' store check is made at most once per interval, by the
// injected clock, whatever the number of probes; a failure is kept as long
// as a success.
func TestStoreCheck_AtMostOncePerInterval(t *testing.T) {
	var calls atomic.Int64
	var result error
	check := newStoreCheck(countingRepo(&calls, &result))
	now := time.Unix(1_800_000_000, 0)
	check.now = func() time.Time { return now }
	ctx := context.Background()

	for range 100 {
		require.NoError(t, check.Check(ctx))
	}
	assert.Equal(t, int64(1), calls.Load(), "100 probes at one instant: one store call")

	now = now.Add(probeInterval - time.Millisecond)
	require.NoError(t, check.Check(ctx))
	assert.Equal(t, int64(1), calls.Load(), "still within the interval")

	now = now.Add(time.Millisecond)
	result = bond.Unavailable("ping", errors.New("connection refused"))
	for range 100 {
		assert.Equal(t, result, check.Check(ctx))
	}
	assert.Equal(t, int64(2), calls.Load(), "one more call once the interval has passed")

	now = now.Add(probeInterval / 2)
	result = nil
	assert.Error(t, check.Check(ctx), "a failure is kept for the interval too")
	assert.Equal(t, int64(2), calls.Load())

	now = now.Add(probeInterval)
	assert.NoError(t, check.Check(ctx))
	assert.Equal(t, int64(3), calls.Load())
}

// Probes that arrive while a check is in flight wait for it instead of
// starting their own; one whose request ends first gets its own context's
// error, and the check still answers the others. A panicking store is a
// failed check, not a crashed process.
func TestStoreCheck_ConcurrentProbesShareOneCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		release := make(chan struct{})
		check := newStoreCheck(&bondfake.Repo{PingFn: func(context.Context) error {
			calls.Add(1)
			<-release
			return nil
		}})

		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() { errs[i] = check.Check(context.Background()) })
			synctest.Wait() // every probe so far is blocked: in the store, or waiting for it
		}
		impatient, cancel := context.WithCancel(context.Background())
		var impatientErr error
		wg.Go(func() { impatientErr = check.Check(impatient) })
		synctest.Wait()
		assert.Equal(t, int64(1), calls.Load(), "11 probes during one check: one store call")

		cancel()
		synctest.Wait()
		assert.ErrorIs(t, impatientErr, context.Canceled)
		close(release)
		wg.Wait()
		for _, err := range errs {
			assert.NoError(t, err)
		}
		assert.Equal(t, int64(1), calls.Load())

		time.Sleep(probeInterval) // the bubble's clock
		check.ping = func(context.Context) error { panic("page fault") }
		assert.ErrorContains(t, check.Check(context.Background()), "ping panicked")
	})
}

// Through the whole server: /readyz and /health_check share one check, so
// a burst of anonymous probes is one store call a second.
func TestServer_ProbesDoNotDriveTheStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		var result error
		srv := NewServer(zerolog.Nop(), countingRepo(&calls, &result), Config{})
		probe := func(path string) int {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Host = "127.0.0.1:8080"
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			return rec.Code
		}
		for i := range 200 {
			path := "/readyz"
			if i%2 == 1 {
				path = "/health_check"
			}
			require.Equal(t, http.StatusOK, probe(path))
		}
		assert.Equal(t, int64(1), calls.Load(), "200 probes within a second: one store call")

		time.Sleep(probeInterval) // the bubble's clock
		result = bond.Unavailable("ping", errors.New("throttled"))
		for range 50 {
			require.Equal(t, http.StatusServiceUnavailable, probe("/readyz"))
		}
		assert.Equal(t, int64(2), calls.Load())
	})
}
