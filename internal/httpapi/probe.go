package httpapi

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// probeInterval is the least time between two store checks of the probes
// (/readyz, /health_check) of one instance.
const probeInterval = time.Second

// storeCheck answers the readiness probes from a store check made at most
// once per interval: the probes are open to anyone, and each check is a
// store call (a GetItem on DynamoDB), so without it anonymous callers could
// turn probes into table load or throttling. A check that fails is kept as
// long as one that succeeds, so that a store in trouble is not asked more
// often either. Concurrent probes share the check in flight. Safe for
// concurrent use.
type storeCheck struct {
	ping     func(context.Context) error
	now      func() time.Time // the clock; tests set their own
	interval time.Duration

	mu      sync.Mutex
	checked time.Time // when the last check ended; zero: none yet
	err     error     // its result
	running chan struct{}
}

// newStoreCheck returns the probes' check of repo: at most one Ping per
// probeInterval.
func newStoreCheck(repo bond.Repository) *storeCheck {
	return &storeCheck{ping: repo.Ping, now: time.Now, interval: probeInterval}
}

// Check returns the result of the last store check when it ended less than
// the interval ago, else waits for a new one (started by this call, or by a
// concurrent one). A new check runs under the deadline of the ctx that
// starts it, not its cancellation: a caller whose ctx ends first gets ctx's
// error, and the check goes on for the others.
func (c *storeCheck) Check(ctx context.Context) error {
	c.mu.Lock()
	if !c.checked.IsZero() && c.now().Sub(c.checked) < c.interval {
		err := c.err
		c.mu.Unlock()
		return err
	}
	running := c.running
	if running == nil {
		running = make(chan struct{})
		c.running = running
		checkCtx, cancel := context.WithoutCancel(ctx), context.CancelFunc(func() {})
		if d, ok := ctx.Deadline(); ok {
			checkCtx, cancel = context.WithDeadline(checkCtx, d)
		}
		go c.run(checkCtx, cancel, running)
	}
	c.mu.Unlock()

	select {
	case <-running:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run makes one store check and keeps its result. It runs on its own
// goroutine, outside the recoverer: a panic of the store is its result.
func (c *storeCheck) run(ctx context.Context, cancel context.CancelFunc, done chan struct{}) {
	defer cancel()
	err := func() (err error) {
		defer func() {
			if rec := recover(); rec != nil {
				err = fmt.Errorf("ping panicked: %v", rec)
			}
		}()
		return c.ping(ctx)
	}()
	c.mu.Lock()
	c.checked, c.err, c.running = c.now(), err, nil
	c.mu.Unlock()
	close(done)
}
