package bond

import "context"

// The history operations: reading a bond's revisions and restoring one.

// RevisionPage is one page of a bond's revisions, newest first. Next is the
// revision to list below for the following page, 0 when no more remain.
type RevisionPage struct {
	Revisions []Revision
	Next      int64
}

// ListRevisions returns the page of bond id's revisions, newest first,
// below revision below (0: from the newest): at most limit, and fewer when
// their bonds reach MaxPageBytes by ItemSize (at least one when any is
// left). Next is set only when another revision exists. KindInvalid for a
// limit out of range, KindNotFound (ErrNoHistory) when the first page is
// empty: the id never had a revision, or all expired.
func ListRevisions(ctx context.Context, repo Repository, id string, limit int, below int64) (RevisionPage, error) {
	if limit < 1 || limit > MaxPageLimit {
		return RevisionPage{}, ErrLimitRange()
	}
	var page RevisionPage
	cut := newPageCut(limit, MaxPageBytes, func(r Revision) int { return ItemSize(r.Bond) })
	err := repo.ListRevisions(ctx, id, below, limit+1, func(r Revision) bool {
		if !cut.take(r) {
			page.Next = cut.items[len(cut.items)-1].Revision
			return false
		}
		return true
	})
	page.Revisions = cut.items
	switch {
	case err != nil:
		return RevisionPage{}, err
	case below == 0 && len(page.Revisions) == 0:
		return RevisionPage{}, ErrNoHistory(id)
	}
	return page, nil
}

// GetRevision returns revision n of bond id. KindNotFound
// (ErrRevisionNotFound), KindUnreadable.
func GetRevision(ctx context.Context, repo Repository, id string, n int64) (Revision, error) {
	r, found, err := repo.ReadRevision(ctx, id, n)
	switch {
	case err != nil:
		return Revision{}, err
	case !found:
		return Revision{}, ErrRevisionNotFound(id, n)
	}
	return r, nil
}

// Restore makes bond id's representation that of its revision n, under
// pre, as a new revision with operation restore: over the stored bond, or
// as a new life of the id when it is deleted. Restoring what is stored
// changes nothing and appends nothing. The revision's bond is held to
// today's rules (Validate). KindNotFound (ErrRevisionNotFound),
// KindVersionMismatch, KindNotModified, KindPairTaken, KindInvalid.
func Restore(ctx context.Context, repo Repository, id string, n int64, pre Precondition) (Bond, error) {
	r, err := GetRevision(ctx, repo, id, n)
	if err != nil {
		return Bond{}, err
	}
	target := r.Bond.Clone()
	if ps := target.Validate(); len(ps) > 0 {
		return Bond{}, Invalid(ps...)
	}
	for {
		b, err := modify(ctx, repo, id, pre, OpRestore, func(cur Bond) (Bond, bool, error) {
			return target, !target.SameContent(cur), nil
		})
		if KindOf(err) != KindNotFound {
			return b, err
		}
		// Deleted: a new life. Its Create fails with KindExists when the id
		// was re-created meanwhile; the restore then goes over that.
		b, err = create(ctx, repo, target, OpRestore, pre)
		if KindOf(err) != KindExists {
			return b, err
		}
		if err := ctx.Err(); err != nil {
			return Bond{}, Unavailable("restore bond "+id, err)
		}
	}
}
