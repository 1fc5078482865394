package dynamostore_test

import (
	"context"
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
	idemtest.RunStoreTests(t, func(t *testing.T) idemtest.Fixture {
		return idemFixture(dynamostore.New(client, dynamotest.NewTable(t, client)))
	})
}

func TestIdempotencyJournal(t *testing.T) {
	t.Parallel()
	client := serviceClient(t)
	idemtest.RunJournalTests(t, func(t *testing.T) (bond.Repository, idemtest.Fixture) {
		s := dynamostore.New(client, dynamotest.NewTable(t, client))
		return s, idemFixture(s)
	})
}

// idemFixture is the idemtest fixture of s.
func idemFixture(s *dynamostore.Store) idemtest.Fixture {
	return idemtest.Fixture{Store: s.Idempotency(), Put: func(rec idempotency.Record) error {
		return dynamostore.PutIdemRecord(context.Background(), s, rec)
	}}
}
