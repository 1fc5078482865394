package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/idempotency"
)

const createNEW = `{"bond_id": "NEW", "host_account_id": "HNEW", "sub_account_id": "SNEW",
	"host_cost_center": "teal", "sub_cost_center": "yellow"}`

// keyedServer serves repo with the idempotency records of the bolt store
// under it.
func keyedServer(t *testing.T, repo bond.Repository, records *boltstore.Store, cfg httpapi.Config) *apitest.Client {
	t.Helper()
	cfg.Idempotency = records.Idempotency()
	return newClient(t, httpapi.NewServer(zerolog.Nop(), repo, cfg))
}

// TestIdempotency_InFlight: while the first request of a key executes, a
// second is 409 with Retry-After and executes nothing; once the first is
// done, the retry gets its answer.
func TestIdempotency_InFlight(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	entered, release := make(chan struct{}), make(chan struct{})
	var creates atomic.Int32
	repo := &bondfake.Repo{Repository: store, CreateFn: func(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
		creates.Add(1)
		close(entered)
		<-release
		return store.Create(ctx, b, prev, j)
	}}
	c := keyedServer(t, repo, store, httpapi.Config{RequestTimeout: 30 * time.Second})
	key := apitest.Header{httpapi.IdempotencyKeyHeader: `"k1"`}

	first := make(chan apitest.Response, 1)
	go func() {
		res, err := c.Send(t, http.MethodPost, "/bonds", createNEW, key)
		assert.NoError(t, err)
		first <- res
	}()
	<-entered
	res := c.Do(t, http.MethodPost, "/bonds", createNEW, key)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	wait, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", res.Header.Get("Retry-After"))
	assert.True(t, wait >= 1 && wait <= 30, "Retry-After %d: until the first request's deadline", wait)

	close(release)
	got := <-first
	require.Equal(t, http.StatusCreated, got.Status, "%s", got.Body)
	res = c.Do(t, http.MethodPost, "/bonds", createNEW, key)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.Equal(t, string(got.Body), string(res.Body))
	assert.Equal(t, int32(1), creates.Load(), "executed once")
}

// TestIdempotency_StoreDown: a 503 is not kept; the retry executes again.
func TestIdempotency_StoreDown(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	var down atomic.Bool
	down.Store(true)
	repo := &bondfake.Repo{Repository: store, CreateFn: func(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
		if down.Load() {
			return bond.Unavailable("create", context.DeadlineExceeded)
		}
		return store.Create(ctx, b, prev, j)
	}}
	c := keyedServer(t, repo, store, httpapi.Config{})
	key := apitest.Header{httpapi.IdempotencyKeyHeader: "k1"}
	res := c.Do(t, http.MethodPost, "/bonds", createNEW, key)
	require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
	down.Store(false)
	res = c.Do(t, http.MethodPost, "/bonds", createNEW, key)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.Empty(t, res.Header.Get(httpapi.ReplayedHeader))
}

// TestIdempotency_TwoLines: the header is one item, sent once.
func TestIdempotency_TwoLines(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	srv := httpapi.NewServer(zerolog.Nop(), store, httpapi.Config{Idempotency: store.Idempotency()})
	for _, values := range [][]string{{`"a"`, `"a"`}, {`"a"`, `"b"`}} {
		req, err := http.NewRequest(http.MethodPost, "/bonds", strings.NewReader(createNEW))
		require.NoError(t, err)
		req.Host = "localhost"
		req.Header.Set("Content-Type", "application/json")
		for _, v := range values {
			req.Header.Add(httpapi.IdempotencyKeyHeader, v)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusBadRequest, rec.Code, "%v: %s", values, rec.Body)
		assert.Contains(t, rec.Body.String(), `"detail"`)
	}
	_, found, err := store.Read(t.Context(), "NEW")
	require.NoError(t, err)
	assert.False(t, found, "nothing created")
}

// TestIdempotency_ScopedByCaller: two API keys never share an
// Idempotency-Key: the second caller's request executes (and meets the
// first caller's bond).
func TestIdempotency_ScopedByCaller(t *testing.T) {
	set, _, write, admin := testKeys(t)
	store := newBoltRepo(t).(*boltstore.Store)
	c := keyedServer(t, store, store, httpapi.Config{APIKeys: set})
	h := func(key string) apitest.Header {
		return apitest.Header{"Authorization": "Bearer " + key, httpapi.IdempotencyKeyHeader: `"shared"`}
	}
	res := c.Do(t, http.MethodPost, "/bonds", createNEW, h(write))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = c.Do(t, http.MethodPost, "/bonds", createNEW, h(admin))
	require.Equal(t, http.StatusConflict, res.Status, "another caller's key is another key: %s", res.Body)
	res = c.Do(t, http.MethodPost, "/bonds", createNEW, h(write))
	require.Equal(t, http.StatusCreated, res.Status, "the first caller's retry is replayed: %s", res.Body)
	assert.Equal(t, "true", res.Header.Get(httpapi.ReplayedHeader))
}

// failingComplete is an idempotency.Store whose own Complete always fails,
// so that only a record written with the change completes.
type failingComplete struct{ idempotency.Store }

func (failingComplete) Complete(context.Context, idempotency.Record, time.Time) error {
	return errors.New("complete refused")
}

// TestIdempotency_CompletedWithTheWrite: the answer of a write that changed
// the bond is kept by the write itself (no separate Complete); the answer
// of a write that changed nothing needs the separate Complete.
func TestIdempotency_CompletedWithTheWrite(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), store,
		httpapi.Config{Idempotency: failingComplete{store.Idempotency()}}))
	bob := `{"sid": "bob", "name": "Bob Smith", "email": "bob@example.com"}`
	for _, step := range []struct{ method, path, body, key string }{
		{http.MethodPost, "/bonds", createNEW, "create"},
		{http.MethodPost, "/bonds/NEW/subscribers", bob, "add"},
		{http.MethodPut, "/bonds/NEW", `{"host_cost_center": "olive"}`, ""},
		{http.MethodPost, "/bonds/NEW/revisions/2/restore", "", "restore"},
	} {
		var h apitest.Header
		if step.key != "" {
			h = apitest.Header{httpapi.IdempotencyKeyHeader: step.key}
		}
		first := c.Do(t, step.method, step.path, step.body, h)
		require.Less(t, first.Status, 300, "%s %s: %s", step.method, step.path, first.Body)
		if step.key == "" {
			continue
		}
		again := c.Do(t, step.method, step.path, step.body, h)
		assert.Equal(t, first.Status, again.Status, "%s", step.path)
		assert.Equal(t, string(first.Body), string(again.Body), "%s", step.path)
		assert.Equal(t, first.Header.Get("ETag"), again.Header.Get("ETag"), "%s", step.path)
		assert.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"), "%s", step.path)
		assert.Equal(t, "true", again.Header.Get(httpapi.ReplayedHeader), "%s: kept by the write", step.path)
	}
	b, _, err := store.Read(t.Context(), "NEW")
	require.NoError(t, err)
	assert.Equal(t, int64(4), b.Version, "create, add, update, restore; no retry wrote")

	// A no-op (bob as stored) writes nothing: its answer is kept only by
	// Complete, which fails here. A 2xx is only sent kept, so the answer is
	// a 503 without the discarded 200's headers, and the retry executes
	// again (and changes nothing again).
	h := apitest.Header{httpapi.IdempotencyKeyHeader: "noop"}
	for range 2 {
		res := c.Do(t, http.MethodPost, "/bonds/NEW/subscribers", bob, h)
		assert.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
		assert.Empty(t, res.Header.Get("ETag"), "a header of the discarded answer")
		assert.Empty(t, res.Header.Get(httpapi.ReplayedHeader), "executed again")
	}
	b, _, err = store.Read(t.Context(), "NEW")
	require.NoError(t, err)
	assert.Equal(t, int64(4), b.Version, "the no-op wrote nothing")
}

// TestIdempotency_RestoreInFlight: while a keyed restore executes, a
// second with the key is 409 with Retry-After; after, it is replayed.
func TestIdempotency_RestoreInFlight(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	_, err := bond.Create(t.Context(), store, bond.Bond{BondID: "B1", HostAccountID: "H1", SubAccountID: "S1",
		HostCostCenter: "teal", SubCostCenter: "yellow"})
	require.NoError(t, err)
	host := "olive"
	_, err = bond.UpdateBond(t.Context(), store, "B1", bond.Update{HostCostCenter: &host}, bond.Precondition{})
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	var replaces atomic.Int32
	repo := &bondfake.Repo{Repository: store, ReplaceFn: func(ctx context.Context, old, next bond.Bond, j bond.Journal) error {
		if replaces.Add(1) == 1 {
			close(entered)
			<-release
		}
		return store.Replace(ctx, old, next, j)
	}}
	c := keyedServer(t, repo, store, httpapi.Config{RequestTimeout: 30 * time.Second})
	key := apitest.Header{httpapi.IdempotencyKeyHeader: `"r1"`}
	first := make(chan apitest.Response, 1)
	go func() {
		res, err := c.Send(t, http.MethodPost, "/bonds/B1/revisions/1/restore", "", key)
		assert.NoError(t, err)
		first <- res
	}()
	<-entered
	res := c.Do(t, http.MethodPost, "/bonds/B1/revisions/1/restore", "", key)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	close(release)
	got := <-first
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	res = c.Do(t, http.MethodPost, "/bonds/B1/revisions/1/restore", "", key)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, string(got.Body), string(res.Body))
	assert.Equal(t, int32(1), replaces.Load(), "restored once")
}

// slowLookup is an idempotency.Store whose Lookup waits for release on its
// first call, and counts its calls.
type slowLookup struct {
	idempotency.Store
	calls            atomic.Int32
	entered, release chan struct{}
}

func (s *slowLookup) Lookup(ctx context.Context, k idempotency.Key, now time.Time) (idempotency.Record, bool, error) {
	if s.calls.Add(1) == 1 {
		close(s.entered)
		<-s.release
	}
	return s.Store.Lookup(ctx, k, now)
}

// TestIdempotency_InFlightInThisProcess: a request whose key a request of
// this process holds is 409 with Retry-After (until that request's
// deadline), before any store call.
func TestIdempotency_InFlightInThisProcess(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	slow := &slowLookup{Store: store.Idempotency(), entered: make(chan struct{}), release: make(chan struct{})}
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), store, httpapi.Config{RequestTimeout: 20 * time.Second, Idempotency: slow}))
	key := apitest.Header{httpapi.IdempotencyKeyHeader: "k1"}
	first := make(chan apitest.Response, 1)
	go func() {
		res, err := c.Send(t, http.MethodPost, "/bonds", createNEW, key)
		assert.NoError(t, err)
		first <- res
	}()
	<-slow.entered
	res := c.Do(t, http.MethodPost, "/bonds", createNEW, key)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	wait, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", res.Header.Get("Retry-After"))
	assert.True(t, wait >= 1 && wait <= 20, "Retry-After %d: until the first request's deadline", wait)
	assert.Equal(t, int32(1), slow.calls.Load(), "the 409 asked the store nothing")
	close(slow.release)
	require.Equal(t, http.StatusCreated, (<-first).Status)
}

// meetingLookup is an idempotency.Store whose first two Lookups wait for
// each other: two instances that both find the key free.
type meetingLookup struct {
	idempotency.Store
	calls atomic.Int32
	both  chan struct{}
}

func (s *meetingLookup) Lookup(ctx context.Context, k idempotency.Key, now time.Time) (idempotency.Record, bool, error) {
	switch s.calls.Add(1) {
	case 1:
		select {
		case <-s.both:
		case <-ctx.Done():
			return idempotency.Record{}, false, ctx.Err()
		}
	case 2:
		close(s.both)
	}
	return s.Store.Lookup(ctx, k, now)
}

// TestIdempotency_TwoInstancesRace: two instances on one store (one bolt
// file, two servers) get the same key at once; both find it free and
// execute, exactly one write lands, and both answer with its answer, the
// loser as a replay.
func TestIdempotency_TwoInstancesRace(t *testing.T) {
	bob := `{"sid": "bob", "name": "Bob Smith", "email": "bob@example.com"}`
	for _, tc := range []struct{ name, path, body string }{
		{"Create", "/bonds", createNEW},
		{"SubscriberAdd", "/bonds/NEW/subscribers", bob},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newBoltRepo(t).(*boltstore.Store)
			if tc.name != "Create" {
				_, err := bond.Create(t.Context(), store, bond.Bond{BondID: "NEW", HostAccountID: "HNEW", SubAccountID: "SNEW",
					HostCostCenter: "teal", SubCostCenter: "yellow"})
				require.NoError(t, err)
			}
			records := &meetingLookup{Store: store.Idempotency(), both: make(chan struct{})}
			var writes atomic.Int32
			repo := &bondfake.Repo{Repository: store,
				CreateFn: func(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
					err := store.Create(ctx, b, prev, j)
					if err == nil {
						writes.Add(1)
					}
					return err
				},
				ReplaceFn: func(ctx context.Context, old, next bond.Bond, j bond.Journal) error {
					err := store.Replace(ctx, old, next, j)
					if err == nil {
						writes.Add(1)
					}
					return err
				}}
			var instances [2]*apitest.Client
			for i := range instances {
				instances[i] = newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{Idempotency: records}))
			}
			key := apitest.Header{httpapi.IdempotencyKeyHeader: "k1"}
			answers := make(chan apitest.Response, 2)
			for _, c := range instances {
				go func() {
					res, err := c.Send(t, http.MethodPost, tc.path, tc.body, key)
					assert.NoError(t, err)
					answers <- res
				}()
			}
			a, b := <-answers, <-answers
			require.Less(t, a.Status, 300, "%s", a.Body)
			assert.Equal(t, int32(1), writes.Load(), "exactly one write landed")
			for _, h := range []string{"Location", "ETag", "Content-Type"} {
				assert.Equal(t, a.Header.Get(h), b.Header.Get(h), h)
			}
			assert.Equal(t, a.Status, b.Status)
			assert.Equal(t, string(a.Body), string(b.Body))
			replays := 0
			for _, res := range []apitest.Response{a, b} {
				if res.Header.Get(httpapi.ReplayedHeader) == "true" {
					replays++
				}
			}
			assert.Equal(t, 1, replays, "the loser replays the winner's answer")
			got, _, err := store.Read(t.Context(), "NEW")
			require.NoError(t, err)
			assert.Equal(t, int64(map[bool]int{true: 1, false: 2}[tc.name == "Create"]), got.Version)
		})
	}
}

// TestIdempotency_RetryAfterAnotherChange: a retried subscriber add, whose
// first answer was lost, after another client changed that subscriber,
// gets the first answer and leaves the other client's change in place.
func TestIdempotency_RetryAfterAnotherChange(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	c := keyedServer(t, store, store, httpapi.Config{})
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", createNEW, nil).Status)
	key := apitest.Header{httpapi.IdempotencyKeyHeader: "add-bob"}
	first := c.Do(t, http.MethodPost, "/bonds/NEW/subscribers", `{"sid": "bob", "name": "Bob Smith", "email": "bob@example.com"}`, key)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	other := c.Do(t, http.MethodPost, "/bonds/NEW/subscribers", `{"sid": "bob", "name": "Robert Smith", "email": "robert@example.com"}`, nil)
	require.Equal(t, http.StatusOK, other.Status, "%s", other.Body)

	retry := c.Do(t, http.MethodPost, "/bonds/NEW/subscribers", `{"sid": "bob", "name": "Bob Smith", "email": "bob@example.com"}`, key)
	require.Equal(t, http.StatusOK, retry.Status, "%s", retry.Body)
	assert.Equal(t, string(first.Body), string(retry.Body), "the first answer")
	assert.Equal(t, first.Header.Get("ETag"), retry.Header.Get("ETag"))
	assert.Equal(t, "true", retry.Header.Get(httpapi.ReplayedHeader))
	b, _, err := store.Read(t.Context(), "NEW")
	require.NoError(t, err)
	assert.Equal(t, "Robert Smith", b.Subscribers["bob"].Name, "the other client's change stays")
	assert.Equal(t, int64(3), b.Version, "the retry wrote nothing")
}

// TestIdempotency_DiscardedAnswerLeaksNoHeader: a write whose change
// landed but whose call failed (a timeout after the commit) answers 503
// with Retry-After; its record holds the key, so the record's answer goes
// out instead, with none of the discarded answer's headers.
func TestIdempotency_DiscardedAnswerLeaksNoHeader(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	repo := &bondfake.Repo{Repository: store, CreateFn: func(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
		if err := store.Create(ctx, b, prev, j); err != nil {
			return err
		}
		return bond.Unavailable("create", context.DeadlineExceeded)
	}}
	c := keyedServer(t, repo, store, httpapi.Config{})
	key := apitest.Header{httpapi.IdempotencyKeyHeader: "k1"}
	res := c.Do(t, http.MethodPost, "/bonds", createNEW, key)
	require.Equal(t, http.StatusCreated, res.Status, "the record's answer: %s", res.Body)
	assert.Empty(t, res.Header.Get("Retry-After"), "the 503's header did not leak")
	assert.Equal(t, "/bonds/NEW", res.Header.Get("Location"))
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	again := c.Do(t, http.MethodPost, "/bonds", createNEW, key)
	assert.Equal(t, string(res.Body), string(again.Body))
}

// A retry that spells the same path another way (a percent-encoded
// unreserved character, a trailing slash) is the same request: it replays,
// where the raw path made it a 422.
func TestIdempotency_PathSpellings(t *testing.T) {
	store := newBoltRepo(t).(*boltstore.Store)
	c := keyedServer(t, store, store, httpapi.Config{})
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", strings.ReplaceAll(createNEW, `"NEW"`, `"W1"`), nil).Status)
	key := apitest.Header{httpapi.IdempotencyKeyHeader: `"add-1"`}
	add := `{"sid": "s1", "name": "Ann", "email": "ann@example.com"}`
	first := c.Do(t, http.MethodPost, "/bonds/W1/subscribers", add, key)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	replays := func(path string) {
		res := c.Do(t, http.MethodPost, path, add, key)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
		require.Equal(t, "true", res.Header.Get(httpapi.ReplayedHeader), path)
		require.Equal(t, string(first.Body), string(res.Body), path)
	}
	for _, path := range []string{"/bonds/W%31/subscribers", "/bonds/W1/subscribers/", "/bonds/%57%31/subscribers"} {
		replays(path)
	}
	// Any spelling: each character of the path percent-encoded or not.
	rapid.Check(t, func(rt *rapid.T) {
		var path strings.Builder
		for _, ch := range []byte("/bonds/W1/subscribers") {
			if ch != '/' && rapid.Bool().Draw(rt, "encode") {
				fmt.Fprintf(&path, "%%%02X", ch)
			} else {
				path.WriteByte(ch)
			}
		}
		replays(path.String())
	})
}
