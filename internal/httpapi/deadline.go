package httpapi

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// deadline bounds each request's context by d. Stores honour the context, so
// a slow store call ends with context.DeadlineExceeded, which the error writer
// turns into a 503 with Retry-After instead of a hang.
//
// The context is a lazyDeadline: most requests (a GET on the embedded store)
// only ever ask it for Err, and a timer per request (context.WithTimeout) was
// a tenth of the cost of the middleware chain.
func deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := &lazyDeadline{Context: r.Context(), at: time.Now().Add(d)}
			defer ctx.stop()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// lazyDeadline is context.WithDeadline(parent, at) whose timer is made only
// when the context is asked for Done (a store call that waits on the
// network, a wait for the page budget), or for Err once at has passed.
// Before that, Err answers from the parent and the clock: nil while at is
// ahead and the parent is live, so that Done, when made, is not yet closed
// (the context contract). stop is the CancelFunc: after it, Err is
// context.Canceled and Done is closed. Value reaches the timer's context
// once it is made (so context.Cause and context.WithCancel find it), the
// parent's before.
type lazyDeadline struct {
	context.Context           // the parent
	at              time.Time // the deadline

	// timed is the timer's context once made; it and stopped are read
	// without the lock (every Value lookup of the request passes here),
	// and set under it.
	timed   atomic.Pointer[timedContext]
	stopped atomic.Bool
	mu      sync.Mutex // held while the timer is made and by stop
}

// timedContext is the context.WithDeadline a lazyDeadline makes.
type timedContext struct {
	context.Context
	cancel context.CancelFunc
}

// timer returns the context that carries the deadline, made on first use.
func (c *lazyDeadline) timer() context.Context {
	if t := c.timed.Load(); t != nil {
		return t
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		return t
	}
	ctx, cancel := context.WithDeadline(c.Context, c.at)
	if c.stopped.Load() {
		cancel()
	}
	t := &timedContext{Context: ctx, cancel: cancel}
	c.timed.Store(t)
	return t
}

// Deadline is at, or the parent's when it is sooner.
func (c *lazyDeadline) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.at) {
		return d, true
	}
	return c.at, true
}

// Done makes the timer and returns its channel.
func (c *lazyDeadline) Done() <-chan struct{} { return c.timer().Done() }

// Err is the timer's error once it is made; before, the parent's error,
// context.Canceled after stop, or, once at has passed, the error of the
// timer made then (context.DeadlineExceeded); otherwise nil.
func (c *lazyDeadline) Err() error {
	switch t := c.timed.Load(); {
	case t != nil:
		return t.Err()
	case c.stopped.Load():
		return context.Canceled
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.at) {
		return c.timer().Err()
	}
	return nil
}

// Value is the timer's context's value once it is made, else the parent's.
func (c *lazyDeadline) Value(key any) any {
	if t := c.timed.Load(); t != nil {
		return t.Value(key)
	}
	return c.Context.Value(key)
}

// stop releases the timer, if one was made, and cancels the context.
func (c *lazyDeadline) stop() {
	c.mu.Lock()
	c.stopped.Store(true)
	t := c.timed.Load()
	c.mu.Unlock()
	if t != nil {
		t.cancel()
	}
}
