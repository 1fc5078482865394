// Package logbatch writes log lines in batches: a Writer takes each line
// into a buffer, and one goroutine writes what has gathered in one write
// call, at most one batch per Linger: a line that arrives after a quiet
// Linger goes out at once; one that arrives sooner waits for the rest of
// the Linger, with every line that joins it. Under load the service makes a
// write system call per batch instead of one per request, and a line is
// out at most about Linger after it was logged.
//
// Nothing is dropped: when MaxBuffered bytes wait, Write blocks until the
// goroutine has written them (the output is slower than the lines), as a
// direct write would. Lines of zerolog's error level and above are written
// before WriteLevel returns, so that the line of a failure that ends the
// process is out before it ends. Close writes what is left.
package logbatch

import (
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// MaxBuffered is the most bytes a Writer holds before Write waits for the
// output.
const MaxBuffered = 1 << 20

// Linger is the least time between two batches.
const Linger = time.Millisecond

// Writer batches the lines written to it (see the package doc). It is safe
// for concurrent use. Its zero value is not usable: use New.
type Writer struct {
	out io.Writer

	mu      sync.Mutex
	drained *sync.Cond // signalled when a batch has been written
	buf     []byte     // lines waiting
	closed  bool
	err     error // the first error of out, returned by every later call

	outMu sync.Mutex    // held while writing to out, so batches keep their order
	wake  chan struct{} // one pending signal: lines are waiting
	done  chan struct{} // closed when the goroutine has ended
}

var _ zerolog.LevelWriter = (*Writer)(nil)

// New returns a Writer that writes to out, and starts its goroutine; Close
// ends it.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.drained = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Write takes p (one or more whole lines) for the next batch and returns
// len(p), or the error of an earlier write to the output. It blocks while
// MaxBuffered bytes wait. After Close it writes p directly.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.buf) > 0 && len(w.buf)+len(p) > MaxBuffered && !w.closed && w.err == nil {
		w.drained.Wait()
	}
	if w.err != nil || w.closed {
		err, closed := w.err, w.closed
		w.mu.Unlock()
		if closed && err == nil {
			return w.direct(p)
		}
		return 0, err
	}
	w.buf = append(w.buf, p...)
	select { // under mu, so that Close cannot have closed wake
	case w.wake <- struct{}{}:
	default: // a signal is already pending
	}
	w.mu.Unlock()
	return len(p), nil
}

// WriteLevel writes lines of zerolog.ErrorLevel and above before it returns,
// after the lines that wait; other lines go in the next batch (Write).
func (w *Writer) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	if l < zerolog.ErrorLevel || l == zerolog.NoLevel {
		return w.Write(p)
	}
	w.outMu.Lock()
	defer w.outMu.Unlock()
	if err := w.flushLocked(); err != nil {
		return 0, err
	}
	return w.writeOut(p)
}

// Close writes the lines that wait and ends the goroutine. Later writes go
// to the output directly. It returns the first error of the output.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return w.firstErr()
	}
	w.closed = true
	w.drained.Broadcast()
	close(w.wake) // under mu: a Write that took its line has signalled already
	w.mu.Unlock()
	<-w.done
	return w.firstErr()
}

// run writes a batch each time lines are waiting, until Close.
func (w *Writer) run() {
	defer close(w.done)
	var last time.Time // the end of the last batch
	for range w.wake {
		if wait := Linger - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		w.outMu.Lock()
		_ = w.flushLocked() // the error is kept in w.err
		w.outMu.Unlock()
		last = time.Now()
	}
	w.outMu.Lock()
	_ = w.flushLocked()
	w.outMu.Unlock()
}

// flushLocked writes the lines that wait; outMu is held.
func (w *Writer) flushLocked() error {
	w.mu.Lock()
	batch := w.buf
	w.buf = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return w.firstErr()
	}
	_, err := w.writeOut(batch)
	w.mu.Lock()
	if w.buf == nil && cap(batch) <= MaxBuffered {
		w.buf = batch[:0] // reuse the batch's memory for the next one
	}
	w.drained.Broadcast()
	w.mu.Unlock()
	return err
}

// writeOut writes p to the output, keeping its first error; outMu is held.
func (w *Writer) writeOut(p []byte) (int, error) {
	if err := w.firstErr(); err != nil {
		return 0, err
	}
	n, err := w.out.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.drained.Broadcast()
		w.mu.Unlock()
	}
	return n, err
}

// direct writes p to the output at once (after Close).
func (w *Writer) direct(p []byte) (int, error) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	return w.writeOut(p)
}

// firstErr is the first error of the output, or nil.
func (w *Writer) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
