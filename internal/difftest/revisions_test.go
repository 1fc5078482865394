package difftest

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"time"
)

// revisionTime is the form of a revision's time: RFC 3339, UTC, exactly
// three fraction digits.
const revisionTime = "2006-01-02T15:04:05.000Z"

// diffRev compares a revision with the model's: every field, the time by
// its form (the model does not know the server's clock).
func diffRev(got, want Rev) string {
	if t, err := time.Parse(revisionTime, got.Time); err != nil || t.Format(revisionTime) != got.Time {
		return fmt.Sprintf("revision %d: time %q is not of the form %s", got.Revision, got.Time, revisionTime)
	}
	if msg := diffBond(got.Bond, want.Bond); msg != "" {
		return fmt.Sprintf("revision %d: bond: %s", got.Revision, msg)
	}
	got.Time, want.Time, got.Bond, want.Bond = "", "", Bond{}, Bond{}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("got %+v, want %+v (bonds aside)", got, want)
	}
	return ""
}

// checkRevisionWalk checks the walk of a bond's revisions: every page a 200
// JSON array of at most limit revisions, none empty; Link after a page
// exactly when revisions remain; together, the model's revisions in order.
func checkRevisionWalk(exp Expect, obs observed) []string {
	if ps, done := checkWalkStart(exp, obs); done {
		return ps
	}
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	seen := 0
	for i, p := range obs.Pages {
		if p.Status != http.StatusOK {
			bad("page %d: status %d: %s", i+1, p.Status, p.Body)
			return ps
		}
		var page []Rev
		if err := strictDecode(p.Body, &page); err != nil || len(page) == 0 {
			bad("page %d is not a non-empty JSON array of revisions: %v", i+1, err)
			return ps
		}
		if len(page) > exp.Limit {
			bad("page %d has %d revisions, limit %d", i+1, len(page), exp.Limit)
		}
		for _, r := range page {
			if seen >= len(exp.Revs) {
				bad("page %d: revision %d is one too many", i+1, r.Revision)
				return ps
			}
			if msg := diffRev(r, exp.Revs[seen]); msg != "" {
				bad("page %d: %s", i+1, msg)
			}
			seen++
		}
		_, link := nextLink(p.Header)
		if more := seen < len(exp.Revs); link != more {
			bad("page %d (limit %d, %d of %d revisions seen): Link present %v, want %v", i+1, exp.Limit,
				seen, len(exp.Revs), link, more)
		}
	}
	if seen < len(exp.Revs) {
		bad("%d of %d revisions listed", seen, len(exp.Revs))
	}
	return ps
}

// timeField is a revision's time member in a body.
var timeField = regexp.MustCompile(`"time":"[^"]*"`)

// checkSameRevisions compares two stores' answers to a revisions read
// byte for byte, page by page, but for the time of each revision (each
// store's clock).
func checkSameRevisions(a, b observed) []string {
	var ps []string
	pa, pb := a.Pages, b.Pages
	if len(pa) == 0 {
		pa, pb = []response{a.response}, []response{b.response}
	}
	if len(pa) != len(pb) {
		return []string{fmt.Sprintf("%d pages vs %d", len(pa), len(pb))}
	}
	for i := range pa {
		x, y := pa[i], pb[i]
		if x.Status != y.Status {
			ps = append(ps, fmt.Sprintf("page %d: status %d vs %d", i+1, x.Status, y.Status))
		}
		for _, h := range []string{"ETag", "Content-Type"} {
			if x.Header.Get(h) != y.Header.Get(h) {
				ps = append(ps, fmt.Sprintf("page %d: %s %q vs %q", i+1, h, x.Header.Get(h), y.Header.Get(h)))
			}
		}
		_, la := nextLink(x.Header)
		_, lb := nextLink(y.Header)
		if la != lb {
			ps = append(ps, fmt.Sprintf("page %d: Link present %v vs %v", i+1, la, lb))
		}
		if !bytes.Equal(timeField.ReplaceAll(x.Body, []byte(`"time":""`)), timeField.ReplaceAll(y.Body, []byte(`"time":""`))) {
			ps = append(ps, fmt.Sprintf("page %d: bodies differ (times aside)", i+1))
		}
	}
	return ps
}
