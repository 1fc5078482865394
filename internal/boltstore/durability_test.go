package boltstore_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
)

// envDurabilityChild, when set to a file path, makes TestDurability_SIGKILL
// the child: it writes creates to that store until it is killed.
const envDurabilityChild = "BOLTSTORE_DURABILITY_CHILD"

// TestDurability_SIGKILL re-runs the test binary as a child that creates bonds
// from 8 goroutines and prints "ack <id>" after each Create returns. The
// parent SIGKILLs it mid-stream, reopens the file and checks that every
// acknowledged create is there. (SIGKILL loses the process, not the page
// cache: this proves no acknowledged write is left in memory; a power cut
// relies on the fsync that bbolt does on every commit.)
func TestDurability_SIGKILL(t *testing.T) {
	if path := os.Getenv(envDurabilityChild); path != "" {
		durabilityChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "bonds.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurability_SIGKILL$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDurabilityChild+"="+path)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())

	acked := map[string]bool{}
	lines := bufio.NewScanner(stdout)
	killAt := time.Now().Add(3 * time.Second)
	for lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "ack "); ok {
			acked[id] = true
		}
		if len(acked) >= 500 || time.Now().After(killAt) {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	for lines.Scan() { // acks written before the kill are still in the pipe
		if id, ok := strings.CutPrefix(lines.Text(), "ack "); ok {
			acked[id] = true
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must die by the kill, not exit on its own")
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())
	require.NotEmpty(t, acked, "the child acknowledged no create before the kill")

	s, err := boltstore.Open(path)
	require.NoError(t, err, "reopen after SIGKILL")
	t.Cleanup(func() { _ = s.Close() })
	var lost []string
	for id := range acked {
		if _, err := bond.Get(t.Context(), s, id); err != nil {
			lost = append(lost, fmt.Sprintf("%s (%v)", id, err))
		}
	}
	assert.Empty(t, lost, "acknowledged creates lost after SIGKILL")
	stored := 0
	for cursor := ""; ; {
		page, err := bond.ListPage(t.Context(), s, bond.Filter{}, 1000, cursor)
		require.NoError(t, err)
		stored += len(page.Bonds)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	assert.GreaterOrEqual(t, stored, len(acked))
	t.Logf("child acknowledged %d creates before SIGKILL; %d bonds stored after reopen", len(acked), stored)
}

// durabilityChild creates bonds until it is killed, printing an ack line for
// each create that returned without error.
func durabilityChild(t *testing.T, path string) {
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("W%d-%d", w, i)
				_, err := bond.Create(t.Context(), s, bond.Bond{BondID: id, HostAccountID: "H" + id, SubAccountID: "S",
					HostCostCenter: "teal", SubCostCenter: "blue"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				_, _ = fmt.Fprintf(os.Stdout, "ack %s\n", id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
