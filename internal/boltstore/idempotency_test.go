package boltstore_test

import (
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/internal/idempotency/idemtest"
)

func TestIdempotencyStore(t *testing.T) {
	idemtest.RunStoreTests(t, func(t *testing.T) idempotency.Store { return mustOpen(t).Idempotency() })
}

func TestIdempotencyJournal(t *testing.T) {
	idemtest.RunJournalTests(t, func(t *testing.T) (bond.Repository, idempotency.Store) {
		s := mustOpen(t)
		return s, s.Idempotency()
	})
}
