package difftest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// The revision history (README "Revision history"): every write that
// changes a bond appends one revision, numbered 1, 2, 3, ... per id across
// a delete and a re-create; a write that changes nothing appends none.

// The operations a revision records.
const (
	opCreate           = "create"
	opUpdate           = "update"
	opSubscriberPut    = "subscriber_put"
	opSubscriberRemove = "subscriber_remove"
	opDelete           = "delete"
	opRestore          = "restore"
)

// maxRevision is the largest revision number a path may hold (2^53, as a
// version).
const maxRevision = 1 << 53

// anonymous is the actor of a write to a service without API keys.
const anonymous = "anonymous"

// Rev is a revision as the API sends it. Time is the server's clock, which
// the model does not know: the harness checks its form.
type Rev struct {
	Revision  int64  `json:"revision"`
	BondID    string `json:"bond_id"`
	Operation string `json:"operation"`
	Version   int64  `json:"version"`
	Time      string `json:"time"`
	Actor     string `json:"actor"`
	RequestID string `json:"request_id"`
	Deleted   bool   `json:"deleted"`
	Bond      Bond   `json:"bond"`
}

// record appends the revision of a write op that left b (for a delete: that
// deleted b).
func (m *Model) record(op string, b Bond) {
	h := m.revs[b.BondID]
	m.revs[b.BondID] = append(h, Rev{Revision: int64(len(h)) + 1, BondID: b.BondID, Operation: op,
		Version: b.Version, Actor: anonymous, RequestID: m.rid, Deleted: op == opDelete, Bond: b.clone()})
}

// checkRevisionNumber: a whole number from 1 to 2^53, without sign or
// leading zeros.
func checkRevisionNumber(v string) (int64, []Problem) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > maxRevision || strconv.FormatInt(n, 10) != v {
		return 0, []Problem{{Loc: []string{"path", "revision"}, Type: "type_error.integer"}}
	}
	return n, nil
}

// revList answers GET /bonds/{id}/revisions: 422 for a bad path or query
// (limit as GET /bonds; any parameter but limit and next_token; the
// harness's bad next_token once the rest is good), 404 when the id has no
// revision, else every revision newest first, limit a page.
func (m *Model) revList(op Op) Expect {
	ps := checkBondID(op.BondID, "path", "bond_id")
	q, err := url.ParseQuery(op.Query)
	if err != nil {
		return invalid(append(ps, Problem{Loc: []string{"query"}}))
	}
	var qps []Problem
	for name := range q {
		if name != "limit" && name != "next_token" {
			qps = append(qps, Problem{Loc: []string{"query", name}, Type: "value_error.extra"})
		}
	}
	limit, lps := limitOf(q)
	qps = append(qps, lps...)
	if _, ok := q["next_token"]; ok && len(qps) == 0 {
		qps = append(qps, Problem{Loc: []string{"query", "next_token"}})
	}
	if ps = append(ps, qps...); len(ps) > 0 {
		return invalid(ps)
	}
	h := m.revs[op.BondID]
	if len(h) == 0 {
		return notFound(fmt.Sprintf("Bond %s has no revisions.", op.BondID))
	}
	revs := make([]Rev, 0, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		revs = append(revs, h[i])
	}
	return Expect{Status: http.StatusOK, Revs: revs, Limit: limit}
}

// revision returns the revision of op's path: the 422 of a bad path, the
// 404 of an absent revision.
func (m *Model) revision(op Op) (Rev, Expect, bool) {
	ps := checkBondID(op.BondID, "path", "bond_id")
	n, nps := checkRevisionNumber(op.Rev)
	if ps = append(ps, nps...); len(ps) > 0 {
		return Rev{}, invalid(ps), false
	}
	h := m.revs[op.BondID]
	if n > int64(len(h)) {
		return Rev{}, notFound(fmt.Sprintf("Revision %d of bond %s not found.", n, op.BondID)), false
	}
	return h[n-1], Expect{}, true
}

// revGet answers GET /bonds/{id}/revisions/{n}: 422 for a bad path, 404
// when absent, else the revision with the ETag of the version it recorded.
func (m *Model) revGet(op Op) Expect {
	r, e, ok := m.revision(op)
	if !ok {
		return e
	}
	b := r.Bond
	b.Version = r.Version
	return Expect{Status: http.StatusOK, ETag: b.etag(), Rev: &r}
}

// restore answers POST /bonds/{id}/revisions/{n}/restore: 422 for a bad
// path, 404 when the revision is absent (whatever the preconditions say),
// then the preconditions against the stored bond (none when deleted), then:
// the bond becomes the revision's bond, over the stored one or as a new
// life of the id, at the next version, appending a revision "restore"; 409
// when another bond holds its account pair; no change when it is already
// that (200, nothing appended).
func (m *Model) restore(op Op) Expect {
	r, e, ok := m.revision(op)
	if !ok {
		return e
	}
	cur, exists := m.bonds[op.BondID]
	etag := ""
	if exists {
		etag = cur.etag()
	}
	if st := preconditions(op, false, etag); st != 0 {
		return Expect{Status: st}
	}
	target := r.Bond.clone()
	if _, sure := sizeVerdict(target); !sure {
		return Expect{Ambiguous: "size near the 400 KB limit"}
	}
	if exists && sameData(cur, target) {
		c := cur.clone()
		return Expect{Status: http.StatusOK, ETag: cur.etag(), Bond: &c}
	}
	if owner, taken := m.pairOwner(target.HostAccountID, target.SubAccountID, op.BondID); taken {
		return Expect{Status: http.StatusConflict, Detail: pairTaken(target.HostAccountID, target.SubAccountID, owner)}
	}
	if exists {
		target.Version = cur.Version + 1
	} else {
		target.Version = m.gone[op.BondID] + 1
	}
	m.bonds[op.BondID] = target
	m.record(opRestore, target)
	c := target.clone()
	return Expect{Status: http.StatusOK, ETag: target.etag(), Bond: &c}
}
