package bond

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// The read-check-write step of every write, once for every store: read the
// stored state, check the precondition, compute the change, skip a no-op,
// set the version, and write on the condition that the stored state is
// still what was read. A write that loses that race reads again (Kubernetes'
// GuaranteedUpdate does the same over etcd).

// ErrRace is returned by a store's conditional write (Create, Replace,
// Remove) when the stored state is no longer what the caller read: another
// writer came first. The operations read again; a client sees it only as
// the 503 of a write that kept losing (KindUnavailable).
var ErrRace = &Error{Kind: KindUnavailable, Message: "The bond changed concurrently. Retry later."}

// maxRaces bounds the rounds of one write: each round loses only to a write
// that just succeeded, so a writer among n concurrent ones on one bond needs
// at most n rounds; the request's deadline bounds them too.
const maxRaces = 256

// retry runs attempt, the read-check-write of bond id, until it does not
// return ErrRace, with a jittered backoff between rounds so that writers
// that collided spread out. Writers of one bond in this process take turns
// first (turns), so that they do not race each other at all; only writers
// in other processes (another instance on the same table) can make a round
// lose. It returns KindUnavailable when the context ends, while waiting for
// the turn or between rounds, or when the rounds run out.
func retry(ctx context.Context, op, id string, attempt func() error) error {
	turn := turns.of(id)
	select {
	case turn <- struct{}{}:
		defer func() { <-turn }()
	case <-ctx.Done():
		return Unavailable(op, ctx.Err())
	}
	for round := range maxRaces {
		if round > 0 {
			if err := backoff(ctx, round); err != nil {
				return Unavailable(op, err)
			}
		}
		if err := attempt(); !errors.Is(err, ErrRace) {
			return err
		}
	}
	return Unavailable(op, ErrRace)
}

// turns is a fixed set of turn tokens (a one-slot channel each) that the
// writers of a bond take by a hash of its id: a hundred concurrent adds of
// subscribers to one bond then write one after the other, each reading the
// last one's result, instead of losing races to each other until their
// deadline (each round of a race is a store round trip that only one of
// them wins). Two bonds may share a token; their writers then take turns
// too, which costs only waiting. The set is the process's, whatever the
// store: it holds no state of a bond.
var turns = newTurnSet(1024)

type turnSet []chan struct{}

func newTurnSet(n int) turnSet {
	ts := make(turnSet, n)
	for i := range ts {
		ts[i] = make(chan struct{}, 1)
	}
	return ts
}

// of returns the turn token of bond id (FNV-1a of the id).
func (ts turnSet) of(id string) chan struct{} {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return ts[h%uint32(len(ts))]
}

// backoff waits before round n+1: a random time of up to 2^n ms, at most
// 16 ms. It returns the context's error when that comes first.
func backoff(ctx context.Context, n int) error {
	d := time.Duration(rand.Int64N(int64(time.Millisecond)<<min(n, 4)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// read returns the stored bond id (nil when there is none, with last's
// Version and Revision those of its previous life) after checking pre
// against it.
func read(ctx context.Context, repo Repository, id string, pre Precondition) (cur *Bond, last Bond, err error) {
	b, found, err := repo.Read(ctx, id)
	if err != nil {
		return nil, Bond{}, err
	}
	if !found {
		return nil, b, pre.Check(id, nil)
	}
	return &b, b, pre.Check(id, &b)
}

// modify is the read-check-write of an existing bond id under pre: change
// gets a copy of the stored bond; its result is stored at the next version,
// with the next revision (operation op), unless it reports no change, in
// which case the stored bond is returned as it is and nothing is appended.
// KindNotFound, the precondition's kinds, change's own errors, and the
// store's (KindPairTaken, KindInvalid).
func modify(ctx context.Context, repo Repository, id string, pre Precondition, op string, change Change) (Bond, error) {
	var result Bond
	err := retry(ctx, "modify bond "+id, id, func() error {
		cur, _, err := read(ctx, repo, id, pre)
		switch {
		case err != nil:
			return err
		case cur == nil:
			return ErrNotFound(id)
		}
		next, changed, err := change(cur.Clone())
		if err != nil {
			return err
		}
		if !changed {
			result = *cur
			return nil
		}
		next.BondID, next.Version, next.Revision = cur.BondID, cur.Version+1, cur.Revision+1
		j := journalLeaving(ctx, newRevision(ctx, op, next), next)
		if err := repo.Replace(ctx, *cur, next, j); err != nil {
			return err
		}
		completed(ctx, j)
		result = next
		return nil
	})
	if err != nil {
		return Bond{}, err
	}
	return result, nil
}

// create stores b as a new life of its id, at the version and revision
// after the id's last ones, appending a revision with operation op. A new
// id has no previous life: the first round tries that without a read; a
// lost round reads the id's last version and revision. KindExists,
// KindPairTaken, KindInvalid (too large).
func create(ctx context.Context, repo Repository, b Bond, op string, pre Precondition) (Bond, error) {
	var last Bond
	first := true
	err := retry(ctx, "create bond "+b.BondID, b.BondID, func() error {
		if !first || pre.IfMatch != nil || pre.IfNoneMatch != nil {
			cur, l, err := read(ctx, repo, b.BondID, pre)
			switch {
			case err != nil:
				return err
			case cur != nil:
				return ErrExists(b.BondID)
			}
			last = l
		}
		first = false
		b.Version, b.Revision = last.Version+1, last.Revision+1
		j := journalLeaving(ctx, newRevision(ctx, op, b), b)
		if err := repo.Create(ctx, b, last.Version, j); err != nil {
			return err
		}
		completed(ctx, j)
		return nil
	})
	if err != nil {
		return Bond{}, err
	}
	return b, nil
}
