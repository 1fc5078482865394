package logbatch_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/logbatch"
)

// recorder is an output that keeps every write.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{} // when set, each write waits for a receive
	err    error
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.writes++
	return r.buf.Write(p)
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// Lines written by several goroutines all come out whole, each goroutine's
// in its order, whatever their levels.
func TestWriter_KeepsEveryLineInOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		out := &recorder{}
		w := logbatch.New(out)
		writers := rapid.IntRange(1, 6).Draw(t, "writers")
		lines := rapid.IntRange(0, 200).Draw(t, "lines")
		levels := rapid.SliceOfN(rapid.SampledFrom([]zerolog.Level{zerolog.InfoLevel, zerolog.WarnLevel, zerolog.ErrorLevel, zerolog.NoLevel}), lines, lines).Draw(t, "levels")
		var wg sync.WaitGroup
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, l := range levels {
					if _, err := w.WriteLevel(l, fmt.Appendf(nil, "g%d line %d\n", g, i)); err != nil {
						panic(err)
					}
				}
			}()
		}
		wg.Wait()
		require.NoError(t, w.Close())
		next := make([]int, writers)
		got := strings.Split(strings.TrimSuffix(out.text(), "\n"), "\n")
		if lines == 0 {
			got = nil
		}
		require.Len(t, got, writers*lines)
		for _, line := range got {
			var g, i int
			_, err := fmt.Sscanf(line, "g%d line %d", &g, &i)
			require.NoError(t, err, "line %q", line)
			require.Equal(t, next[g], i, "writer %d's lines out of order", g)
			next[g]++
		}
	})
}

// A line of error level is out before WriteLevel returns, after the lines
// that waited.
func TestWriter_ErrorLinesAreWrittenAtOnce(t *testing.T) {
	out := &recorder{}
	w := logbatch.New(out)
	defer w.Close()
	for i := range 100 {
		_, err := w.WriteLevel(zerolog.InfoLevel, fmt.Appendf(nil, "info %d\n", i))
		require.NoError(t, err)
	}
	_, err := w.WriteLevel(zerolog.ErrorLevel, []byte("error\n"))
	require.NoError(t, err)
	text := out.text()
	assert.True(t, strings.HasSuffix(text, "info 99\nerror\n"), "the error line is out, after the info lines: %q", text[max(0, len(text)-40):])
}

// Lines written while the output is busy go out together, in fewer writes
// than lines.
func TestWriter_Batches(t *testing.T) {
	out := &recorder{gate: make(chan struct{})}
	w := logbatch.New(out)
	_, err := w.Write([]byte("first\n"))
	require.NoError(t, err)
	for i := range 50 {
		_, err := w.Write(fmt.Appendf(nil, "line %d\n", i))
		require.NoError(t, err)
	}
	close(out.gate) // let every write through
	require.NoError(t, w.Close())
	assert.Equal(t, 51, strings.Count(out.text(), "\n"))
	assert.LessOrEqual(t, out.writes, 3, "50 lines written while the first was held go out in a batch or two")
}

// Write waits while MaxBuffered bytes wait, and nothing is lost.
func TestWriter_WaitsWhenFull(t *testing.T) {
	out := &recorder{gate: make(chan struct{})}
	w := logbatch.New(out)
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	_, err := w.Write(line) // taken by the goroutine, which waits at the gate
	require.NoError(t, err)
	written := make(chan int)
	go func() {
		n := 0
		for range 2*logbatch.MaxBuffered/len(line) + 2 {
			if _, err := w.Write(line); err != nil {
				panic(err)
			}
			n++
		}
		written <- n
	}()
	select {
	case n := <-written:
		t.Fatalf("%d lines (2 MiB) were taken while the output wrote nothing", n)
	case <-time.After(200 * time.Millisecond): // blocked, as it should be
	}
	close(out.gate)
	n := <-written
	require.NoError(t, w.Close())
	assert.Equal(t, n+1, strings.Count(out.text(), "\n"))
}

// The output's first error is returned by the calls after it, and Close.
func TestWriter_OutputError(t *testing.T) {
	broken := errors.New("disk full")
	out := &recorder{err: broken}
	w := logbatch.New(out)
	_, err := w.WriteLevel(zerolog.ErrorLevel, []byte("error\n"))
	require.ErrorIs(t, err, broken)
	_, err = w.Write([]byte("later\n"))
	require.ErrorIs(t, err, broken)
	require.ErrorIs(t, w.Close(), broken)
}

// After Close, lines go straight to the output.
func TestWriter_AfterClose(t *testing.T) {
	out := &recorder{}
	w := logbatch.New(out)
	_, err := w.Write([]byte("before\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "a second Close is harmless")
	_, err = w.Write([]byte("after\n"))
	require.NoError(t, err)
	assert.Equal(t, "before\nafter\n", out.text())
}

// Lines written while Close runs (a handler still logging when serve
// returns) are all written, and none makes the Writer panic: a Write that
// had taken its line before Close must not signal a goroutine that Close
// has ended.
func TestWriter_WritesDuringClose(t *testing.T) {
	for round := 0; round < 2000; round++ {
		out := &recorder{}
		w := logbatch.New(out)
		const writers, lines = 8, 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := 0; g < writers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; i < lines; i++ {
					_, err := w.Write([]byte(fmt.Sprintf("g%d l%d\n", g, i)))
					assert.NoError(t, err)
				}
			}()
		}
		close(start)
		require.NoError(t, w.Close())
		wg.Wait()
		assert.Equal(t, writers*lines, strings.Count(out.text(), "\n"), "round %d", round)
	}
}
