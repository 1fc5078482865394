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
	gone  map[string]bond.Bond // last version and revision of a deleted bond
	pairs map[[2]string]string // (host, sub) -> bond id
	revs  map[string]map[int64]bond.Revision
}

var _ bond.Repository = (*memRepo)(nil)

func newMemRepo(*testing.T) bond.Repository {
	return &memRepo{bonds: map[string]bond.Bond{}, gone: map[string]bond.Bond{}, pairs: map[[2]string]string{},
		revs: map[string]map[int64]bond.Revision{}}
}

func pairOf(b bond.Bond) [2]string { return [2]string{b.HostAccountID, b.SubAccountID} }

func (m *memRepo) Read(_ context.Context, id string) (bond.Bond, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bonds[id]
	if !ok {
		g := m.gone[id]
		return bond.Bond{Version: g.Version, Revision: g.Revision}, false, nil
	}
	return b.Clone(), true, nil
}

// journal keeps j; the caller holds the lock.
func (m *memRepo) journal(j bond.Journal) {
	if r := j.Revision; r != nil {
		if m.revs[r.BondID] == nil {
			m.revs[r.BondID] = map[int64]bond.Revision{}
		}
		c := *r
		c.Bond = r.Bond.Clone()
		m.revs[r.BondID][r.Revision] = c
	}
}

func (m *memRepo) Create(_ context.Context, b bond.Bond, prev int64, j bond.Journal) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.bonds[b.BondID]; ok {
		return bond.ErrExists(b.BondID)
	}
	if g := m.gone[b.BondID]; g.Version != prev || (j.Revision != nil && g.Revision != b.Revision-1) {
		return bond.ErrRace
	}
	if owner, ok := m.pairs[pairOf(b)]; ok {
		return bond.ErrPairTaken(b.HostAccountID, b.SubAccountID, owner)
	}
	delete(m.gone, b.BondID)
	m.bonds[b.BondID], m.pairs[pairOf(b)] = b.Clone(), b.BondID
	m.journal(j)
	return nil
}

func (m *memRepo) Replace(_ context.Context, old, next bond.Bond, j bond.Journal) error {
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
	m.journal(j)
	return nil
}

func (m *memRepo) Remove(_ context.Context, old bond.Bond, j bond.Journal) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.bonds[old.BondID]; !ok || cur.Version != old.Version {
		return bond.ErrRace
	}
	delete(m.bonds, old.BondID)
	delete(m.pairs, pairOf(old))
	m.gone[old.BondID] = bond.Bond{Version: old.Version, Revision: j.LastRevision(old.Revision)}
	m.journal(j)
	return nil
}

func (m *memRepo) ReadRevision(_ context.Context, id string, n int64) (bond.Revision, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.revs[id][n]
	r.Bond = r.Bond.Clone()
	return r, ok, nil
}

func (m *memRepo) ListRevisions(_ context.Context, id string, below int64, _ int, yield func(bond.Revision) bool) error {
	m.mu.Lock()
	var list []bond.Revision
	for n, r := range m.revs[id] {
		if below == 0 || n < below {
			r.Bond = r.Bond.Clone()
			list = append(list, r)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(list, func(a, b bond.Revision) int { return int(b.Revision - a.Revision) })
	for _, r := range list {
		if !yield(r) {
			return nil
		}
	}
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
