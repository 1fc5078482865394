package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

// TestHistoryCrash runs the real binary on each store under concurrent
// writers of every kind (create, update, subscriber add and remove, delete)
// on a few shared bond ids, SIGKILLs it twice and restarts it, and then
// holds the revisions of every bond to the answers the writers got: every
// acknowledged write has exactly one revision, carrying its request id,
// operation, version and representation; no revision lacks its write (each
// belongs to an acknowledged write or to one whose answer the kill cut
// off); the numbers run 1..n without a gap; the newest revision is what GET
// answers now. Each round writes for a fixed time, so the test is bounded.
func TestHistoryCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary; skipped with -short")
	}
	bin := buildBinary(t)

	t.Run("bolt", func(t *testing.T) {
		historyCrash(t, bin, []string{"BOLT_PATH=" + filepath.Join(t.TempDir(), "bonds.db")})
	})
	t.Run("dynamodb", func(t *testing.T) {
		endpoint := aws.ToString(dynamotest.Endpoint(t).Options().BaseEndpoint)
		env := []string{"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + endpoint,
			"DYNAMODB_TABLE=" + fmt.Sprintf("crash-%d", time.Now().UnixNano()),
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1"}
		migrateWith(t, bin, env)
		historyCrash(t, bin, env)
	})
}

// sentWrite is one write a crash writer sent: its request id, bond, the
// operation it asks for, and, when answered, the status and body.
type sentWrite struct {
	rid, id, op string
	answered    bool
	status      int
	etag        string
	body        []byte
}

// crashRevision is the part of a revision the crash test compares.
type crashRevision struct {
	Revision  int64           `json:"revision"`
	BondID    string          `json:"bond_id"`
	Operation string          `json:"operation"`
	Version   int64           `json:"version"`
	Time      string          `json:"time"`
	Actor     string          `json:"actor"`
	RequestID string          `json:"request_id"`
	Deleted   bool            `json:"deleted"`
	Bond      json.RawMessage `json:"bond"`
}

const (
	crashBonds   = 5                      // bond ids the writers share
	crashWriters = 8                      // concurrent writers
	crashRounds  = 2                      // SIGKILLs
	crashWrite   = 700 * time.Millisecond // writing time per round
)

func historyCrash(t *testing.T, bin string, env []string) {
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(append(os.Environ(), env...), "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn", "REQUEST_TIMEOUT=5s")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		waitForReady(t, base+"/readyz")
		return cmd
	}
	var (
		mu    sync.Mutex
		sent  []*sentWrite
		seq   atomic.Int64
		fresh atomic.Int64 // makes every update and subscriber put change something
	)
	for round := range crashRounds {
		server := start()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range crashWriters {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					sw := &sentWrite{rid: fmt.Sprintf("crash-%d", seq.Add(1)), id: fmt.Sprintf("C%d", rng.IntN(crashBonds))}
					req := crashRequest(base, sw, rng.IntN(5), rng.IntN(3), fresh.Add(1))
					mu.Lock()
					sent = append(sent, sw)
					mu.Unlock()
					res, err := client.Do(req)
					if err != nil { // the kill cut the answer off: the write may or may not be done
						return
					}
					body, err := io.ReadAll(res.Body)
					res.Body.Close()
					if err != nil {
						return
					}
					mu.Lock()
					sw.answered, sw.status, sw.etag, sw.body = true, res.StatusCode, res.Header.Get("ETag"), body
					mu.Unlock()
				}
			})
		}
		time.Sleep(crashWrite)
		require.NoError(t, server.Process.Signal(os.Kill))
		_, _ = server.Process.Wait()
		close(stop)
		wg.Wait()
	}
	start()

	mu.Lock()
	defer mu.Unlock()
	byRID := map[string]*sentWrite{}
	acked, cut := 0, 0
	for _, sw := range sent {
		byRID[sw.rid] = sw
		switch {
		case !sw.answered:
			cut++
		case sw.status < 300:
			acked++
		default:
			assert.Contains(t, []int{http.StatusNotFound, http.StatusConflict}, sw.status, "%s %s %s: %s", sw.op, sw.id, sw.rid, sw.body)
		}
	}
	require.Positive(t, acked, "writes were acknowledged")

	revisions := 0
	for i := range crashBonds {
		id := fmt.Sprintf("C%d", i)
		revs := crashRevisions(t, base, id)
		revisions += len(revs)
		checkCrashHistory(t, base, id, revs, byRID)
	}
	// Every acknowledged change of some bond has its revision (checked per
	// revision above, here per write): only a remove of an absent
	// subscriber and a delete of an absent bond change nothing.
	has := map[string]bool{}
	for i := range crashBonds {
		for _, r := range crashRevisions(t, base, fmt.Sprintf("C%d", i)) {
			has[r.RequestID] = true
		}
	}
	cutDone := 0
	for _, sw := range sent {
		if !sw.answered && has[sw.rid] {
			cutDone++
		}
		if sw.answered && sw.status < 300 && !has[sw.rid] {
			assert.Contains(t, []string{"subscriber_remove", "delete"}, sw.op, "acknowledged %s %s (%s) has no revision", sw.op, sw.id, sw.rid)
		}
	}
	t.Logf("crash: %d writes sent over %d SIGKILLs, %d acknowledged, %d cut off by the kill (%d of them written); %d revisions",
		len(sent), crashRounds, acked, cut, cutDone, revisions)
}

// crashRequest builds the write sw asks for: kind 0 create, 1 update,
// 2 subscriber add, 3 subscriber remove, 4 delete; sid picks the
// subscriber, n makes the content new.
func crashRequest(base string, sw *sentWrite, kind, sid int, n int64) *http.Request {
	var method, path, body string
	switch kind {
	case 0:
		sw.op, method, path = "create", http.MethodPost, "/bonds"
		body = fmt.Sprintf(`{"bond_id":%q,"host_account_id":"H%s","sub_account_id":"S","host_cost_center":"c%d","sub_cost_center":"d"}`, sw.id, sw.id, n)
	case 1:
		sw.op, method, path = "update", http.MethodPut, "/bonds/"+sw.id
		body = fmt.Sprintf(`{"sub_cost_center":"d%d"}`, n)
	case 2:
		sw.op, method, path = "subscriber_put", http.MethodPost, "/bonds/"+sw.id+"/subscribers"
		body = fmt.Sprintf(`{"sid":"s%d","name":"n%d","email":"s%d@example.com"}`, sid, n, sid)
	case 3:
		sw.op, method, path = "subscriber_remove", http.MethodDelete, fmt.Sprintf("/bonds/%s/subscribers/s%d", sw.id, sid)
	default:
		sw.op, method, path = "delete", http.MethodDelete, "/bonds/"+sw.id
	}
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Request-ID", sw.rid)
	return req
}

// crashRevisions reads every revision of id, newest first, following the
// Link header; none when the id has no history.
func crashRevisions(t *testing.T, base, id string) []crashRevision {
	t.Helper()
	var all []crashRevision
	next := base + "/bonds/" + id + "/revisions?limit=50"
	for next != "" {
		res, err := http.Get(next)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		if res.StatusCode == http.StatusNotFound && len(all) == 0 {
			return nil
		}
		require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", next, body)
		var page []crashRevision
		require.NoError(t, json.Unmarshal(body, &page))
		all = append(all, page...)
		next = ""
		if link := res.Header.Get("Link"); link != "" {
			u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`))
			require.NoError(t, err, link)
			next = base + u.String()
		}
	}
	return all
}

// checkCrashHistory holds the revisions of id (newest first) to the writes
// sent, by request id.
func checkCrashHistory(t *testing.T, base, id string, revs []crashRevision, byRID map[string]*sentWrite) {
	t.Helper()
	seen := map[string]bool{}
	var prev *crashRevision // the revision before, in time
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		where := fmt.Sprintf("bond %s revision %d (%s, %s)", id, r.Revision, r.Operation, r.RequestID)
		assert.Equal(t, int64(len(revs)-i), r.Revision, "%s: numbered 1..n without a gap", where)
		assert.Equal(t, id, r.BondID, where)
		assert.Equal(t, "anonymous", r.Actor, where)
		_, err := time.Parse("2006-01-02T15:04:05.000Z", r.Time)
		assert.NoError(t, err, where)
		sw := byRID[r.RequestID]
		if !assert.NotNil(t, sw, "%s: no write was sent with its request id", where) {
			prev = &revs[i]
			continue
		}
		assert.False(t, seen[r.RequestID], "%s: a second revision of one write", where)
		seen[r.RequestID] = true
		assert.Equal(t, sw.id, r.BondID, where)
		assert.Equal(t, sw.op, r.Operation, where)
		assert.Equal(t, r.Operation == "delete", r.Deleted, where)
		if sw.answered {
			assert.Less(t, sw.status, 300, "%s: the write was answered %d: %s", where, sw.status, sw.body)
		}
		switch {
		case r.Operation == "delete":
			// The representation and version that were deleted: those of
			// the revision before.
			if assert.NotNil(t, prev, "%s: a delete first", where) {
				assert.Equal(t, prev.Version, r.Version, where)
				assert.JSONEq(t, string(prev.Bond), string(r.Bond), where)
			}
		case sw.answered:
			assert.JSONEq(t, string(sw.body), string(r.Bond), "%s: the representation answered", where)
			assert.Equal(t, sw.etag, etagOf(r.Version), "%s: the version answered", where)
			if prev != nil {
				assert.Greater(t, r.Version, prev.Version, "%s: versions grow", where)
			}
		}
		prev = &revs[i]
	}

	// The newest revision is what the store holds now.
	res, err := http.Get(base + "/bonds/" + id)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	if len(revs) == 0 || revs[0].Deleted {
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "bond %s: its history ends in a delete or is empty: %s", id, body)
		return
	}
	require.Equal(t, http.StatusOK, res.StatusCode, "bond %s: %s", id, body)
	assert.JSONEq(t, string(revs[0].Bond), string(body), "bond %s: the newest revision is the bond", id)
	assert.Equal(t, etagOf(revs[0].Version), res.Header.Get("ETag"), "bond %s", id)
}

func etagOf(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// TestRun_ImportSeedActor: the revisions that import and seed write name
// the command as their actor, with no request id.
func TestRun_ImportSeedActor(t *testing.T) {
	for _, command := range []string{"import", "seed"} {
		t.Run(command, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bonds.db")
			_, err := runEnv(t, map[string]string{"BOLT_PATH": path}, command, "../../localdb/02-load-data.json")
			require.NoError(t, err)
			s, err := boltstore.Open(path)
			require.NoError(t, err)
			defer s.Close()
			r, err := bond.GetRevision(context.Background(), s, "FOO", 1)
			require.NoError(t, err)
			assert.Equal(t, command, r.Actor)
			assert.Equal(t, bond.OpCreate, r.Operation)
			assert.Empty(t, r.RequestID)
		})
	}
}
