package bond_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondtest"
)

// memRepo is the smallest store the Repository contract allows: a map under
// a mutex. It runs the conformance suite here, so that the rules of this
// package are tested in it, apart from any engine.
type memRepo struct {
	mu    sync.Mutex
	bonds map[string]bond.Bond
	gone  map[string]int64     // last version of a deleted bond
	pairs map[[2]string]string // (host, sub) -> bond id
}

var _ bond.Repository = (*memRepo)(nil)

func newMemRepo(*testing.T) bond.Repository {
	return &memRepo{bonds: map[string]bond.Bond{}, gone: map[string]int64{}, pairs: map[[2]string]string{}}
}

func pairOf(b bond.Bond) [2]string { return [2]string{b.HostAccountID, b.SubAccountID} }

func (m *memRepo) Read(_ context.Context, id string) (bond.Bond, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bonds[id]
	if !ok {
		return bond.Bond{Version: m.gone[id]}, false, nil
	}
	return b.Clone(), true, nil
}

func (m *memRepo) Create(_ context.Context, b bond.Bond, prev int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.bonds[b.BondID]; ok {
		return bond.ErrExists(b.BondID)
	}
	if m.gone[b.BondID] != prev {
		return bond.ErrRace
	}
	if owner, ok := m.pairs[pairOf(b)]; ok {
		return bond.ErrPairTaken(b.HostAccountID, b.SubAccountID, owner)
	}
	delete(m.gone, b.BondID)
	m.bonds[b.BondID], m.pairs[pairOf(b)] = b.Clone(), b.BondID
	return nil
}

func (m *memRepo) Replace(_ context.Context, old, next bond.Bond) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.bonds[old.BondID]; !ok || cur.Version != old.Version {
		return bond.ErrRace
	}
	if owner, taken := m.pairs[pairOf(next)]; taken && owner != next.BondID {
		return bond.ErrPairTaken(next.HostAccountID, next.SubAccountID, owner)
	}
	delete(m.pairs, pairOf(old))
	m.bonds[next.BondID], m.pairs[pairOf(next)] = next.Clone(), next.BondID
	return nil
}

func (m *memRepo) Remove(_ context.Context, old bond.Bond) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.bonds[old.BondID]; !ok || cur.Version != old.Version {
		return bond.ErrRace
	}
	delete(m.bonds, old.BondID)
	delete(m.pairs, pairOf(old))
	m.gone[old.BondID] = old.Version
	return nil
}

// List yields in id order; a cursor is "m:" and the last id.
func (m *memRepo) List(_ context.Context, f bond.Filter, cursor string, _ int, yield func(bond.Bond, func() string) bool) error {
	after, ok := strings.CutPrefix(cursor, "m:")
	if cursor != "" && (!ok || after == "") {
		return bond.ErrBadCursor()
	}
	m.mu.Lock()
	ids := slices.Sorted(func(y func(string) bool) {
		for id := range m.bonds {
			if !y(id) {
				return
			}
		}
	})
	m.mu.Unlock()
	for _, id := range ids {
		if id <= after {
			continue
		}
		m.mu.Lock()
		b, ok := m.bonds[id]
		m.mu.Unlock()
		if !ok || !f.Match(b) {
			continue
		}
		if !yield(b.Clone(), func() string { return "m:" + id }) {
			return nil
		}
	}
	return nil
}

func (m *memRepo) Ping(context.Context) error { return nil }
func (m *memRepo) Close() error               { return nil }

// TestRules runs the conformance suite on memRepo: every rule of the
// package, through the operations, on the plainest storage.
func TestRules(t *testing.T) {
	bondtest.RunRepositoryTests(t, newMemRepo)
}

// memPatcher is memRepo with the subscriber fast path, under the conditions
// bond.SubscriberPatcher states, so that the operations' use of it runs the
// conformance suite too.
type memPatcher struct{ *memRepo }

func (m memPatcher) PatchPutSubscriber(_ context.Context, id string, s bond.Subscriber, ifVersion int64, below int) (bond.Bond, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bonds[id]
	if !ok || (ifVersion != bond.AnyVersion && b.Version != ifVersion) || len(b.Subscribers) >= below || b.Subscribers[s.SID] == s {
		return bond.Bond{}, false, nil
	}
	b = b.Clone()
	b.Subscribers[s.SID] = s
	b.Version++
	m.bonds[id] = b
	return b.Clone(), true, nil
}

func (m memPatcher) PatchRemoveSubscriber(_ context.Context, id, sid string, ifVersion int64) (bond.Bond, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bonds[id]
	if _, has := b.Subscribers[sid]; !ok || !has || (ifVersion != bond.AnyVersion && b.Version != ifVersion) {
		return bond.Bond{}, false, nil
	}
	b = b.Clone()
	delete(b.Subscribers, sid)
	b.Version++
	m.bonds[id] = b
	return b.Clone(), true, nil
}

// TestRules_FastPath runs the suite again through the fast path.
func TestRules_FastPath(t *testing.T) {
	bondtest.RunRepositoryTests(t, func(t *testing.T) bond.Repository {
		return memPatcher{newMemRepo(t).(*memRepo)}
	})
}
