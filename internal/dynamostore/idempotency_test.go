package dynamostore_test

import (
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/internal/idempotency/idemtest"
)

func TestIdempotencyStore(t *testing.T) {
	t.Parallel()
	client := serviceClient(t)
	idemtest.RunStoreTests(t, func(t *testing.T) idempotency.Store {
		return dynamostore.New(client, dynamotest.NewTable(t, client)).Idempotency()
	})
}

func TestIdempotencyJournal(t *testing.T) {
	t.Parallel()
	client := serviceClient(t)
	idemtest.RunJournalTests(t, func(t *testing.T) (bond.Repository, idempotency.Store) {
		s := dynamostore.New(client, dynamotest.NewTable(t, client))
		return s, s.Idempotency()
	})
}
