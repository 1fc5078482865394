package httpapi

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// closed reports whether ch is closed, waiting at most wait.
func closed(ch <-chan struct{}, wait time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(wait):
		return false
	}
}

// A lazy deadline behaves as context.WithDeadline: Err is nil while the
// deadline is ahead, DeadlineExceeded after it (with Done closed), whether
// or not Done was asked for first.
func TestLazyDeadline_ExpiresAsWithDeadline(t *testing.T) {
	for _, askDone := range []bool{false, true} {
		parent := context.WithValue(context.Background(), ctxKey{}, "v")
		c := &lazyDeadline{Context: parent, at: time.Now().Add(50 * time.Millisecond)}
		if askDone {
			assert.False(t, closed(c.Done(), 0), "Done is open before the deadline")
		}
		require.NoError(t, c.Err())
		assert.Equal(t, "v", c.Value(ctxKey{}), "values of the parent are seen")
		d, ok := c.Deadline()
		assert.True(t, ok)
		assert.Equal(t, c.at, d)
		time.Sleep(60 * time.Millisecond)
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded, "askDone=%v", askDone)
		assert.True(t, closed(c.Done(), time.Second), "Done is closed once Err says so")
		assert.ErrorIs(t, context.Cause(c), context.DeadlineExceeded)
		assert.Equal(t, "v", c.Value(ctxKey{}))
		c.stop()
		assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "stop after expiry keeps the error")
	}
}

// Done closes at the deadline by itself (the timer), and a child context
// made with WithCancel is cancelled with it.
func TestLazyDeadline_DoneClosesAtTheDeadline(t *testing.T) {
	c := &lazyDeadline{Context: context.Background(), at: time.Now().Add(30 * time.Millisecond)}
	defer c.stop()
	child, cancel := context.WithCancel(c)
	defer cancel()
	require.True(t, closed(child.Done(), 5*time.Second), "the child is cancelled at the deadline")
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	assert.ErrorIs(t, child.Err(), context.DeadlineExceeded)
}

// A cancelled parent cancels it, before and after Done was asked for; a
// sooner deadline of the parent is its deadline.
func TestLazyDeadline_FollowsItsParent(t *testing.T) {
	for _, askDone := range []bool{false, true} {
		parent, cancel := context.WithCancel(context.Background())
		c := &lazyDeadline{Context: parent, at: time.Now().Add(time.Hour)}
		if askDone {
			_ = c.Done()
		}
		cancel()
		assert.ErrorIs(t, c.Err(), context.Canceled, "askDone=%v", askDone)
		assert.True(t, closed(c.Done(), time.Second))
		c.stop()
	}
	soon := time.Now().Add(time.Minute)
	parent, cancel := context.WithDeadline(context.Background(), soon)
	defer cancel()
	d, _ := (&lazyDeadline{Context: parent, at: time.Now().Add(time.Hour)}).Deadline()
	assert.Equal(t, soon, d)
}

// stop cancels it: Err is Canceled and Done closed, whether the timer was
// made or not.
func TestLazyDeadline_StopCancels(t *testing.T) {
	for _, askDone := range []bool{false, true} {
		c := &lazyDeadline{Context: context.Background(), at: time.Now().Add(time.Hour)}
		if askDone {
			_ = c.Done()
		}
		c.stop()
		assert.ErrorIs(t, c.Err(), context.Canceled, "askDone=%v", askDone)
		assert.True(t, closed(c.Done(), time.Second), "askDone=%v", askDone)
	}
}

// Many goroutines may ask at once (run with -race): they all see one timer
// and one error.
func TestLazyDeadline_Concurrent(t *testing.T) {
	c := &lazyDeadline{Context: context.Background(), at: time.Now().Add(20 * time.Millisecond)}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				<-c.Done()
			} else {
				for c.Err() == nil {
					time.Sleep(time.Millisecond)
				}
			}
			errs[i] = c.Err()
		}()
	}
	wg.Wait()
	c.stop()
	for _, err := range errs {
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	}
}
