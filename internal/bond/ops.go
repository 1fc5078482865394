package bond

import (
	"context"
	"fmt"
)

// The operations: each combines the Repository primitives with the rules of
// this package (the read-check-write step is modify.go's). The HTTP layer
// and the commands that write bonds (seed, import) call these, so every
// store answers alike.

// Listing limits: a page holds at most limit bonds (1 to MaxPageLimit,
// DefaultPageLimit when not given) and stops early once it holds
// MaxPageBytes of bonds, measured in the form that is sent (ListPageMeasured;
// ListPage measures by ItemSize, as DynamoDB cuts a Query or Scan at 1 MB),
// so that no request builds an unbounded response.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
	MaxPageBytes     = 1 << 20
)

// Get returns bond id. KindNotFound, KindUnreadable.
func Get(ctx context.Context, repo Repository, id string) (Bond, error) {
	b, found, err := repo.Read(ctx, id)
	switch {
	case err != nil:
		return Bond{}, err
	case !found:
		return Bond{}, ErrNotFound(id)
	}
	return b, nil
}

// Create validates b, normalises it (no subscribers is an empty map) and
// stores it as a new life of its id, at the version after the id's last one
// (1 for a new id), which it returns. KindInvalid, KindExists,
// KindPairTaken.
func Create(ctx context.Context, repo Repository, b Bond) (Bond, error) {
	b = b.Clone()
	if ps := b.Validate(); len(ps) > 0 {
		return Bond{}, Invalid(ps...)
	}
	return create(ctx, repo, b, OpCreate, Precondition{})
}

// UpdateBond applies u to bond id under pre. An update that changes nothing
// keeps the version. KindInvalid (u's values; the result breaks a limit),
// KindNotFound, KindVersionMismatch, KindNotModified, KindPairTaken.
func UpdateBond(ctx context.Context, repo Repository, id string, u Update, pre Precondition) (Bond, error) {
	if ps := u.Validate(); len(ps) > 0 {
		return Bond{}, Invalid(ps...)
	}
	return modify(ctx, repo, id, pre, OpUpdate, func(cur Bond) (Bond, bool, error) {
		next := u.Apply(cur)
		if next.SameContent(cur) {
			return cur, false, nil
		}
		if len(next.Subscribers) > MaxSubscribers {
			return cur, false, ErrTooManySubscribers("subscribers")
		}
		if ItemSize(next) > MaxItemBytes {
			return cur, false, ErrTooLarge()
		}
		return next, true, nil
	})
}

// Delete removes bond id under pre; a bond that does not exist is no error
// unless pre requires it. KindVersionMismatch, KindNotModified.
func Delete(ctx context.Context, repo Repository, id string, pre Precondition) error {
	return retry(ctx, "delete bond "+id, id, func() error {
		cur, _, err := read(ctx, repo, id, pre)
		if err != nil || cur == nil {
			return err
		}
		gone := *cur
		gone.Revision++
		rev := newRevision(ctx, OpDelete, gone)
		if err := repo.Remove(ctx, *cur, journalOf(rev)); err != nil {
			return err
		}
		written(ctx, rev)
		return nil
	})
}

// PutSubscriber adds s to bond id, or replaces the subscriber with its sid,
// atomically, under pre. Putting a subscriber exactly as stored changes
// nothing and keeps the version, so a retried put is harmless.
// KindInvalid (s's values; too many subscribers; the bond would be too
// large, locs relative to s), KindNotFound (ErrSubscriberAddNotFound),
// KindVersionMismatch, KindNotModified.
func PutSubscriber(ctx context.Context, repo Repository, id string, s Subscriber, pre Precondition) (Bond, error) {
	if ps := s.Validate(); len(ps) > 0 {
		return Bond{}, Invalid(ps...)
	}
	b, err := modify(ctx, repo, id, pre, OpSubscriberPut, func(cur Bond) (Bond, bool, error) {
		old, replace := cur.Subscribers[s.SID]
		switch {
		case replace && old == s:
			return cur, false, nil
		case !replace && len(cur.Subscribers) >= MaxSubscribers:
			return cur, false, ErrTooManySubscribers()
		}
		cur.Subscribers[s.SID] = s
		if ItemSize(cur) > MaxItemBytes {
			return cur, false, ErrTooLarge()
		}
		return cur, true, nil
	})
	return b, notFoundAs(err, ErrSubscriberAddNotFound(id, s.SID))
}

// RemoveSubscriber removes subscriber sid from bond id under pre. Removing a
// sid the bond does not have changes nothing (and keeps the version).
// KindNotFound (ErrSubscriberRemoveNotFound), KindVersionMismatch,
// KindNotModified.
func RemoveSubscriber(ctx context.Context, repo Repository, id, sid string, pre Precondition) (Bond, error) {
	b, err := modify(ctx, repo, id, pre, OpSubscriberRemove, func(cur Bond) (Bond, bool, error) {
		if _, ok := cur.Subscribers[sid]; !ok {
			return cur, false, nil
		}
		delete(cur.Subscribers, sid)
		return cur, true, nil
	})
	return b, notFoundAs(err, ErrSubscriberRemoveNotFound(id, sid))
}

// notFoundAs replaces the generic not-found of modify with the operation's
// own message.
func notFoundAs(err error, notFound *Error) error {
	if KindOf(err) == KindNotFound {
		return notFound
	}
	return err
}

// ListPage returns the page of bonds matching f that starts after cursor
// (empty for the first): at most limit bonds, and fewer when they reach
// MaxPageBytes by ItemSize (a page always holds at least one bond when any
// is left). Next is set only when another matching bond exists, so a client
// that follows it never gets an empty page. KindInvalid for a limit out of
// range (loc ["limit"]) or a cursor the store did not make (ErrBadCursor).
func ListPage(ctx context.Context, repo Repository, f Filter, limit int, cursor string) (Page, error) {
	return ListPageMeasured(ctx, repo, f, limit, cursor, ItemSize, MaxPageBytes)
}

// ListPageMeasured is ListPage with the page's bytes counted by size, which
// returns the bytes bond b adds to the page in the form that is sent, and
// bounded by maxBytes: the caller that sends the page (the HTTP layer, in
// JSON) measures it in the unit it produces. size is called once per bond,
// in order, for every bond the page takes and at most one more (the first
// bond left out).
func ListPageMeasured(ctx context.Context, repo Repository, f Filter, limit int, cursor string, size func(Bond) int, maxBytes int) (Page, error) {
	if limit < 1 || limit > MaxPageLimit {
		return Page{}, ErrLimitRange()
	}
	var page Page
	cut := newPageCut(limit, maxBytes, size)
	var last func() string
	err := repo.List(ctx, f, cursor, limit+1, func(b Bond, resume func() string) bool {
		if !cut.take(b) {
			page.Next = last() // b is left for the next page
			return false
		}
		last = resume
		return true
	})
	if err != nil {
		return Page{}, err
	}
	page.Bonds = cut.items
	return page, nil
}

// pageCut fills one page of a listing: at most limit items, and no more
// once their sizes reach maxBytes (but always the first). The one rule of
// a page's end, for bonds and revisions alike.
type pageCut[T any] struct {
	limit, maxBytes, total int
	size                   func(T) int
	items                  []T
}

func newPageCut[T any](limit, maxBytes int, size func(T) int) *pageCut[T] {
	return &pageCut[T]{limit: limit, maxBytes: maxBytes, size: size, items: make([]T, 0, min(limit, 128))}
}

// take adds x to the page and reports true, or reports false when the page
// is full (x is left for the next one). It calls size once per item it
// takes and at most once more.
func (p *pageCut[T]) take(x T) bool {
	if len(p.items) == p.limit {
		return false
	}
	n := p.size(x)
	if len(p.items) > 0 && p.total+n > p.maxBytes {
		return false
	}
	p.items = append(p.items, x)
	p.total += n
	return true
}

// ErrLimitRange is the problem of a page limit outside 1..MaxPageLimit.
func ErrLimitRange() *Error {
	return Invalid(Problem{Loc: []string{"limit"}, Type: "value_error.number.range",
		Msg: fmt.Sprintf("ensure this value is between 1 and %d", MaxPageLimit)})
}
