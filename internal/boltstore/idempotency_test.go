package boltstore_test

import (
	"context"
	"testing"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/internal/idempotency/idemtest"
)

func TestIdempotencyStore(t *testing.T) {
	idemtest.RunStoreTests(t, func(t *testing.T) idemtest.Fixture { return idemFixture(mustOpen(t)) })
}

func TestIdempotencyJournal(t *testing.T) {
	idemtest.RunJournalTests(t, func(t *testing.T) (bond.Repository, idemtest.Fixture) {
		s := mustOpen(t)
		return s, idemFixture(s)
	})
}

// idemFixture is the idemtest fixture of s.
func idemFixture(s *boltstore.Store) idemtest.Fixture {
	return idemtest.Fixture{Store: s.Idempotency(), Put: func(rec idempotency.Record) error {
		return boltstore.PutIdemRecord(context.Background(), s, rec)
	}}
}
