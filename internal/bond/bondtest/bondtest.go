// Package bondtest is the store conformance suite: one set of tests, written
// once against bond.Repository, that every store must pass. A store's own test
// calls RunRepositoryTests with a constructor of fresh, empty repositories.
package bondtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// RunRepositoryTests runs the conformance suite against the repositories made
// by newRepo. Each subtest calls newRepo once and expects an empty repository;
// newRepo is responsible for cleaning it up (t.Cleanup). Subtests run in
// parallel, so newRepo must be safe to call concurrently.
//
// Sizes are chosen for a remote store too (DynamoDB): about 60 bonds and a few
// hundred calls for the listing test, 100 goroutines for the concurrency test.
func RunRepositoryTests(t *testing.T, newRepo func(t *testing.T) bond.Repository) {
	t.Helper()
	t.Run("Get", func(t *testing.T) { testGet(t, newRepo) })
	t.Run("Create", func(t *testing.T) { testCreate(t, newRepo) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, newRepo) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newRepo) })
	t.Run("PutSubscriber", func(t *testing.T) { testPutSubscriber(t, newRepo) })
	t.Run("RemoveSubscriber", func(t *testing.T) { testRemoveSubscriber(t, newRepo) })
	t.Run("List", func(t *testing.T) { testList(t, newRepo) })
	t.Run("Regressions", func(t *testing.T) { testRegressions(t, newRepo) })
	t.Run("Contention", func(t *testing.T) { testContention(t, newRepo) })
	t.Run("Lives", func(t *testing.T) { testLives(t, newRepo) })
	t.Run("History", func(t *testing.T) { testHistory(t, newRepo) })
	testRoundTrip(t, newRepo)
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		repo := newRepo(t)
		require.NoError(t, repo.Ping(t.Context()))
	})
}

// RunConcurrencyTests runs the parts of the suite about concurrent writers
// (Contention, Lives), for a repository that is more than one instance of a
// store on shared storage: two servers on one DynamoDB table, say.
func RunConcurrencyTests(t *testing.T, newRepo func(t *testing.T) bond.Repository) {
	t.Helper()
	t.Run("Contention", func(t *testing.T) { testContention(t, newRepo) })
	t.Run("Lives", func(t *testing.T) { testLives(t, newRepo) })
}

// run starts a parallel subtest with a fresh repository.
func run(t *testing.T, name string, newRepo func(t *testing.T) bond.Repository, f func(t *testing.T, ctx context.Context, repo bond.Repository)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		f(t, t.Context(), newRepo(t))
	})
}

// newBond returns a valid bond with one subscriber.
func newBond(id, host, sub string) bond.Bond {
	return bond.Bond{
		BondID:         id,
		HostAccountID:  host,
		SubAccountID:   sub,
		HostCostCenter: "teal",
		SubCostCenter:  "yellow",
		Subscribers: map[string]bond.Subscriber{
			"rharper": {SID: "rharper", Name: "Richard Harper", Email: "richharper@example.com"},
		},
	}
}

func newSubscriber(sid string) bond.Subscriber {
	return bond.Subscriber{SID: sid, Name: "Name of " + sid, Email: sid + "@example.com"}
}

func ptr[T any](v T) *T { return &v }

// mustCreate creates b and checks the result is b at version 1, revision 1.
func mustCreate(t *testing.T, repo bond.Repository, b bond.Bond) bond.Bond {
	t.Helper()
	got, err := bond.Create(t.Context(), repo, b)
	require.NoError(t, err, "create %s", b.BondID)
	want := b
	want.Version, want.Revision = 1, 1
	if want.Subscribers == nil {
		want.Subscribers = map[string]bond.Subscriber{}
	}
	require.Equal(t, want, got, "create %s: returned bond", b.BondID)
	return got
}

func mustGet(t *testing.T, repo bond.Repository, id string) bond.Bond {
	t.Helper()
	got, err := bond.Get(t.Context(), repo, id)
	require.NoError(t, err, "get %s", id)
	return got
}

// requireGone checks that bond id does not exist.
func requireGone(t *testing.T, repo bond.Repository, id string) {
	t.Helper()
	_, err := bond.Get(t.Context(), repo, id)
	requireErr(t, err, bond.ErrNotFound(id))
}

// requireUnchanged checks that the stored bond is still want.
func requireUnchanged(t *testing.T, repo bond.Repository, want bond.Bond) {
	t.Helper()
	require.Equal(t, want, mustGet(t, repo, want.BondID), "the failed write must change nothing")
}

// requireErr checks that err is a *bond.Error of want's kind and message.
func requireErr(t *testing.T, err error, want *bond.Error) {
	t.Helper()
	require.Error(t, err)
	got := bond.KindOf(err)
	require.Equal(t, want.Kind, got, "kind of %v", err)
	var e *bond.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, want.Message, e.Message, "message")
}

// requireProblem checks that err is KindInvalid with exactly one problem,
// of type typ at loc (relative to the value the operation took).
func requireProblem(t *testing.T, err error, typ string, loc ...string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, bond.KindInvalid, bond.KindOf(err), "kind of %v", err)
	var e *bond.Error
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Problems, 1, "problems of %v", err)
	assert.Equal(t, typ, e.Problems[0].Type, "problem type")
	assert.Equal(t, loc, e.Problems[0].Loc, "problem loc")
	assert.NotEmpty(t, e.Problems[0].Msg, "problem message")
}

// bigSubscriber returns a valid subscriber of about 780 bytes by ItemSize.
func bigSubscriber(i int) bond.Subscriber {
	sid := fmt.Sprintf("%0128d", i)
	name := fmt.Sprintf("%0256d", i)
	label := fmt.Sprintf("%063d", 0)
	email := fmt.Sprintf("%064d@%s.%s.example.com", i, label, label)
	return bond.Subscriber{SID: sid, Name: name, Email: email}
}
