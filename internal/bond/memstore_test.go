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
	pairs map[[2]string]string // (host, sub) -> bond id
}

var _ bond.Repository = (*memRepo)(nil)

func newMemRepo(*testing.T) bond.Repository {
	return &memRepo{bonds: map[string]bond.Bond{}, pairs: map[[2]string]string{}}
}

func pairOf(b bond.Bond) [2]string { return [2]string{b.HostAccountID, b.SubAccountID} }

func (m *memRepo) Get(_ context.Context, id string) (bond.Bond, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bonds[id]
	if !ok {
		return bond.Bond{}, bond.ErrNotFound(id)
	}
	return b.Clone(), nil
}

func (m *memRepo) Create(_ context.Context, b bond.Bond) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.bonds[b.BondID]; ok {
		return bond.ErrExists(b.BondID)
	}
	if owner, ok := m.pairs[pairOf(b)]; ok {
		return bond.ErrPairTaken(b.HostAccountID, b.SubAccountID, owner)
	}
	m.bonds[b.BondID], m.pairs[pairOf(b)] = b.Clone(), b.BondID
	return nil
}

func (m *memRepo) Modify(_ context.Context, id string, pre bond.Precondition, change bond.Change) (bond.Bond, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.checked(id, pre)
	switch {
	case err != nil:
		return bond.Bond{}, err
	case cur == nil:
		return bond.Bond{}, bond.ErrNotFound(id)
	}
	next, changed, err := change(cur.Clone())
	if err != nil || !changed {
		return cur.Clone(), err
	}
	if owner, taken := m.pairs[pairOf(next)]; taken && owner != id {
		return bond.Bond{}, bond.ErrPairTaken(next.HostAccountID, next.SubAccountID, owner)
	}
	delete(m.pairs, pairOf(*cur))
	next.BondID, next.Version = id, cur.Version+1
	m.bonds[id], m.pairs[pairOf(next)] = next.Clone(), id
	return next, nil
}

func (m *memRepo) Delete(_ context.Context, id string, pre bond.Precondition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.checked(id, pre)
	if err != nil || cur == nil {
		return err
	}
	delete(m.bonds, id)
	delete(m.pairs, pairOf(*cur))
	return nil
}

// checked returns bond id (nil when absent) after checking pre against it;
// the caller holds m.mu.
func (m *memRepo) checked(id string, pre bond.Precondition) (*bond.Bond, error) {
	cur, ok := m.bonds[id]
	if !ok {
		return nil, pre.Check(id, nil)
	}
	return &cur, pre.Check(id, &cur)
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
