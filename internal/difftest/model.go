package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the contract (docs/api.md, "The data model" and "The API").
const (
	maxIDChars     = 128
	maxNameChars   = 256
	maxEmailChars  = 254
	maxSubscribers = 1000
	// maxObjectMembers: an object of a body with more members is refused
	// whole (docs/api.md, "Limits").
	maxObjectMembers = 64
	maxBodyBytes     = 1 << 20
	maxLimit         = 1000
	defaultLimit     = 100

	// A bond must fit in one DynamoDB item, "400 KB". The service may count
	// 400,000 bytes or 400 KiB, and its size estimate may differ from
	// AWS's count by a few bytes per attribute: between these two sizes the
	// model does not know the answer.
	sizeSurelyFits   = 390_000
	sizeSurelyTooBig = 410_000
)

// Sub is a subscriber as the API sends it.
type Sub struct {
	SID   string `json:"sid"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Bond is a bond as the API sends it, and its version (the ETag).
type Bond struct {
	BondID         string         `json:"bond_id"`
	HostAccountID  string         `json:"host_account_id"`
	SubAccountID   string         `json:"sub_account_id"`
	HostCostCenter string         `json:"host_cost_center"`
	SubCostCenter  string         `json:"sub_cost_center"`
	Subscribers    map[string]Sub `json:"subscribers"`
	Version        int64          `json:"-"`
}

func (b Bond) etag() string { return `"` + strconv.FormatInt(b.Version, 10) + `"` }

func (b Bond) clone() Bond {
	b.Subscribers = maps.Clone(b.Subscribers)
	if b.Subscribers == nil {
		b.Subscribers = map[string]Sub{}
	}
	return b
}

// sameData reports whether a and b hold the same data (versions aside).
func sameData(a, b Bond) bool {
	return a.BondID == b.BondID && a.HostAccountID == b.HostAccountID && a.SubAccountID == b.SubAccountID &&
		a.HostCostCenter == b.HostCostCenter && a.SubCostCenter == b.SubCostCenter &&
		maps.Equal(a.Subscribers, b.Subscribers)
}

// Problem is one entry of a 422's detail list as the model predicts it.
// Type "" means the contract does not name the type (any is accepted);
// a Type ending in ".*" matches by prefix. Loc nil means any loc.
type Problem struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// Expect is what the model says the service must answer to one Op.
type Expect struct {
	// Ambiguous: the contract allows more than one answer; the step is not
	// checked (the generator draws another).
	Ambiguous string

	Status int
	ETag   string // for 200/201/304: the ETag header, exactly

	Bond *Bond          // 200/201 with a bond body
	Subs map[string]Sub // 200 of GET .../subscribers
	Sub  *Sub           // 200 of GET .../subscribers/{sid}

	Location string // 201: the Location header, unescaped
	Detail   string // 4xx other than 422: the detail, when the contract gives it
	Problems []Problem

	// List: the matching bonds, and the page size.
	Bonds []Bond
	Limit int

	// RevList: the bond's revisions, newest first (the page size in
	// Limit); RevGet: one revision.
	Revs []Rev
	Rev  *Rev
}

// Model is the reference model: a map of bonds, and the rules of the
// contract. The zero value is not usable; call NewModel.
type Model struct {
	bonds map[string]Bond
	// gone is the last version of each deleted id: a strong entity tag is
	// unique over a resource's lifetime (RFC 9110 §8.8.3), so a re-created
	// bond's versions go on after its previous life's.
	gone map[string]int64
	// revs is each id's history, oldest first: revs[id][n-1] is revision n,
	// kept across a delete and a re-create.
	revs map[string][]Rev
	// rid is the X-Request-ID of the request being applied.
	rid string
	// steps counts the steps sent, for their request ids.
	steps int
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{bonds: map[string]Bond{}, gone: map[string]int64{}, revs: map[string][]Rev{}}
}

// Bond returns the stored bond id, if any.
func (m *Model) Bond(id string) (Bond, bool) {
	b, ok := m.bonds[id]
	return b, ok
}

// IDs returns the ids of the stored bonds, sorted.
func (m *Model) IDs() []string { return slices.Sorted(maps.Keys(m.bonds)) }

// Do applies op to the model and returns what the service must answer. When
// the answer is ambiguous the model is left unchanged.
func (m *Model) Do(op Op) Expect {
	get, _ := op.Kind.Head()
	m.rid = op.RequestID
	return m.do(op, get)
}

func (m *Model) do(op Op, k Kind) Expect {
	switch k {
	case Create:
		return m.create(op)
	case Get, SubList, SubGet:
		return m.read(op, k)
	case Update:
		return m.update(op)
	case Delete:
		return m.delete(op)
	case SubAdd:
		return m.subAdd(op)
	case SubRemove:
		return m.subRemove(op)
	case List:
		return m.list(op)
	case RevList:
		return m.revList(op)
	case RevGet:
		return m.revGet(op)
	case RevRestore:
		return m.restore(op)
	}
	panic("difftest: model: no rule for " + k.String())
}

// preconditions evaluates If-Match, then If-None-Match (RFC 9110 §13.2.2)
// against etag ("" when the bond does not exist). It returns 0 when the
// request may proceed, else 412, or 304 for a failed If-None-Match on a
// GET or HEAD.
func preconditions(op Op, read bool, etag string) int {
	// Several header lines are one comma-separated list (RFC 9110 §5.3).
	join := func(v string) string { return strings.ReplaceAll(v, "\n", ", ") }
	if op.IfMatch != nil && !ifMatchPasses(join(*op.IfMatch), etag) {
		return http.StatusPreconditionFailed
	}
	if op.IfNoneMatch != nil && !ifNoneMatchPasses(join(*op.IfNoneMatch), etag) {
		if read {
			return http.StatusNotModified
		}
		return http.StatusPreconditionFailed
	}
	return 0
}

func invalid(ps []Problem) Expect {
	return Expect{Status: http.StatusUnprocessableEntity, Problems: ps}
}

func notFound(detail string) Expect { return Expect{Status: http.StatusNotFound, Detail: detail} }

// bodyGate answers 415 and 413 (docs/api.md, "The API": the body must be JSON
// and at most 1 MiB), checked before anything else of a request with a body.
func bodyGate(op Op) (Expect, bool) {
	if ct := op.ContentType; ct != "" {
		mt, _, _ := strings.Cut(ct, ";")
		if !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return Expect{Status: http.StatusUnsupportedMediaType}, true
		}
	}
	if len(op.BodyBytes()) > maxBodyBytes {
		return Expect{Status: http.StatusRequestEntityTooLarge}, true
	}
	return Expect{}, false
}

// read answers GET /bonds/{id}, GET .../subscribers and GET
// .../subscribers/{sid}: 422 for a bad path, 404 for a missing bond or
// subscriber whatever the preconditions say (RFC 9110 §13.2.1, docs/api.md,
// "Conditional requests": a precondition is ignored when the answer would
// be neither 2xx nor 412), then the preconditions (412, 304), then 200
// with the ETag.
func (m *Model) read(op Op, k Kind) Expect {
	ps := checkBondID(op.BondID, "path", "bond_id")
	if k == SubGet {
		ps = append(ps, checkID(op.SID, "path", "sid")...)
	}
	if len(ps) > 0 {
		return invalid(ps)
	}
	b, ok := m.bonds[op.BondID]
	if !ok {
		return notFound(fmt.Sprintf("Bond %s not found.", op.BondID))
	}
	var e Expect
	switch k {
	case Get:
		c := b.clone()
		e.Bond = &c
	case SubList:
		e.Subs = maps.Clone(b.Subscribers)
	case SubGet:
		s, ok := b.Subscribers[op.SID]
		if !ok {
			return notFound(fmt.Sprintf("Subscriber %s not found in bond %s.", op.SID, op.BondID))
		}
		e.Sub = &s
	}
	if st := preconditions(op, true, b.etag()); st != 0 {
		e = Expect{Status: st}
		if st == http.StatusNotModified {
			e.ETag = b.etag()
		}
		return e
	}
	e.Status, e.ETag = http.StatusOK, b.etag()
	return e
}

func (m *Model) create(op Op) Expect {
	if e, ok := bodyGate(op); ok {
		return e
	}
	fields, ps := decodeObject(op.BodyBytes(), []string{"body"})
	if fields == nil {
		return invalid(ps)
	}
	var b Bond
	d := fieldReader{fields: fields, loc: []string{"body"}}
	ps = append(ps, d.requiredID(&b.BondID, "bond_id", true)...)
	ps = append(ps, d.requiredID(&b.HostAccountID, "host_account_id", false)...)
	ps = append(ps, d.requiredID(&b.SubAccountID, "sub_account_id", false)...)
	ps = append(ps, d.requiredID(&b.HostCostCenter, "host_cost_center", false)...)
	ps = append(ps, d.requiredID(&b.SubCostCenter, "sub_cost_center", false)...)
	subs, _, sps := d.subscribers()
	ps = append(ps, sps...)
	ps = append(ps, d.extra()...)
	if len(ps) > 0 {
		return invalid(ps)
	}
	b.Subscribers = subs
	b.Version = m.gone[b.BondID] + 1

	var conflicts []string
	if _, ok := m.bonds[b.BondID]; ok {
		conflicts = append(conflicts, fmt.Sprintf("Bond already exists: bond_id=%s", b.BondID))
	}
	if owner, ok := m.pairOwner(b.HostAccountID, b.SubAccountID, ""); ok {
		conflicts = append(conflicts, pairTaken(b.HostAccountID, b.SubAccountID, owner))
	}
	fits, sure := sizeVerdict(b)
	switch {
	case !sure:
		return Expect{Ambiguous: "size near the 400 KB limit"}
	case len(conflicts) > 0 && !fits:
		return Expect{Ambiguous: "409 and too large at once"}
	case len(conflicts) > 1:
		return Expect{Status: http.StatusConflict} // both ids and pair taken: either message
	case len(conflicts) == 1:
		return Expect{Status: http.StatusConflict, Detail: conflicts[0]}
	case !fits:
		return invalid([]Problem{{Type: "value_error.bond_too_large"}})
	}
	m.bonds[b.BondID] = b
	m.record(opCreate, b)
	c := b.clone()
	return Expect{Status: http.StatusCreated, ETag: b.etag(), Bond: &c, Location: "/bonds/" + b.BondID}
}

func pairTaken(host, sub, owner string) string {
	return fmt.Sprintf("A bond already exists for host account %s and subscriber account %s: bond_id=%s", host, sub, owner)
}

// pairOwner returns the bond other than except that has the pair.
func (m *Model) pairOwner(host, sub, except string) (string, bool) {
	for id, b := range m.bonds {
		if id != except && b.HostAccountID == host && b.SubAccountID == sub {
			return id, true
		}
	}
	return "", false
}

// writeTarget checks a write's path problems (already in ps), then the
// bond's existence and the preconditions. missing is the 404 detail.
// RFC 9110 §13.1.1: If-Match on a bond that does not exist is false, so
// a 412 on every write.
func (m *Model) writeTarget(op Op, ps []Problem, missing string) (Bond, Expect, bool) {
	if len(ps) > 0 {
		return Bond{}, invalid(ps), false
	}
	b, ok := m.bonds[op.BondID]
	etag := ""
	if ok {
		etag = b.etag()
	}
	if st := preconditions(op, false, etag); st != 0 {
		return Bond{}, Expect{Status: st}, false
	}
	if !ok {
		return Bond{}, notFound(missing), false
	}
	return b.clone(), Expect{}, true
}

func (m *Model) update(op Op) Expect {
	if e, ok := bodyGate(op); ok {
		return e
	}
	ps := checkBondID(op.BondID, "path", "bond_id")
	fields, bps := decodeObject(op.BodyBytes(), []string{"body"})
	ps = append(ps, bps...)
	var u Bond
	var set [5]bool // set[i+1]: the i-th account/cost center field was sent
	var subs map[string]Sub
	var subsSet bool
	if fields != nil {
		d := fieldReader{fields: fields, loc: []string{"body"}}
		// The body's bond_id, when sent, must equal the path's (docs/api.md, "Errors":
		// "body bond_id differs from the path on PUT" is a 422); its value
		// rules are the path's.
		bodyID, present, idPs := d.str("bond_id")
		ps = append(ps, idPs...)
		if present && idPs == nil && bodyID != op.BondID {
			ps = append(ps, Problem{Loc: []string{"body", "bond_id"}, Type: "value_error.bond_id_mismatch"})
		}
		for i, f := range []struct {
			dst  *string
			name string
		}{{&u.HostAccountID, "host_account_id"}, {&u.SubAccountID, "sub_account_id"},
			{&u.HostCostCenter, "host_cost_center"}, {&u.SubCostCenter, "sub_cost_center"}} {
			var fps []Problem
			*f.dst, set[i+1], fps = d.optionalID(f.name, false)
			ps = append(ps, fps...)
		}
		var sps []Problem
		subs, subsSet, sps = d.subscribers()
		ps = append(ps, sps...)
		ps = append(ps, d.extra()...)
	}
	b, e, ok := m.writeTarget(op, ps, fmt.Sprintf("Bond %s not found.", op.BondID))
	if !ok {
		return e
	}
	nb := b.clone()
	for i, f := range []struct {
		dst *string
		src string
	}{{&nb.HostAccountID, u.HostAccountID}, {&nb.SubAccountID, u.SubAccountID},
		{&nb.HostCostCenter, u.HostCostCenter}, {&nb.SubCostCenter, u.SubCostCenter}} {
		if set[i+1] {
			*f.dst = f.src
		}
	}
	if subsSet {
		nb.Subscribers = subs
	}
	if sameData(b, nb) { // a write that changes nothing keeps the version
		return Expect{Status: http.StatusOK, ETag: b.etag(), Bond: &b}
	}
	owner, taken := m.pairOwner(nb.HostAccountID, nb.SubAccountID, b.BondID)
	fits, sure := sizeVerdict(nb)
	switch {
	case !sure:
		return Expect{Ambiguous: "size near the 400 KB limit"}
	case taken && !fits:
		return Expect{Ambiguous: "409 and too large at once"}
	case taken:
		return Expect{Status: http.StatusConflict, Detail: pairTaken(nb.HostAccountID, nb.SubAccountID, owner)}
	case !fits:
		return invalid([]Problem{{Type: "value_error.bond_too_large"}})
	}
	nb.Version = b.Version + 1
	m.bonds[nb.BondID] = nb
	m.record(opUpdate, nb)
	c := nb.clone()
	return Expect{Status: http.StatusOK, ETag: nb.etag(), Bond: &c}
}

func (m *Model) delete(op Op) Expect {
	if ps := checkBondID(op.BondID, "path", "bond_id"); len(ps) > 0 {
		return invalid(ps)
	}
	b, ok := m.bonds[op.BondID]
	etag := ""
	if ok {
		etag = b.etag()
	}
	if st := preconditions(op, false, etag); st != 0 {
		return Expect{Status: st}
	}
	if ok {
		m.gone[op.BondID] = b.Version
		m.record(opDelete, b)
	}
	delete(m.bonds, op.BondID) // also 204 when it did not exist
	return Expect{Status: http.StatusNoContent}
}

func (m *Model) subAdd(op Op) Expect {
	if e, ok := bodyGate(op); ok {
		return e
	}
	ps := checkBondID(op.BondID, "path", "bond_id")
	fields, bps := decodeObject(op.BodyBytes(), []string{"body"})
	ps = append(ps, bps...)
	var s Sub
	if fields != nil {
		d := fieldReader{fields: fields, loc: []string{"body"}}
		ps = append(ps, d.subscriber(&s)...)
		ps = append(ps, d.extra()...)
	}
	b, e, ok := m.writeTarget(op, ps, fmt.Sprintf("Bond %s not found. Cannot add subscriber %s.", op.BondID, s.SID))
	if !ok {
		return e
	}
	old, had := b.Subscribers[s.SID]
	if had && old == s { // exactly as stored: nothing changes
		return Expect{Status: http.StatusOK, ETag: b.etag(), Bond: &b}
	}
	if !had && len(b.Subscribers) >= maxSubscribers {
		// The loc is not in the contract (it differed by store).
		return invalid([]Problem{{Type: "value_error.subscribers.max_items"}})
	}
	nb := b.clone()
	nb.Subscribers[s.SID] = s
	fits, sure := sizeVerdict(nb)
	switch {
	case !sure:
		return Expect{Ambiguous: "size near the 400 KB limit"}
	case !fits:
		return invalid([]Problem{{Type: "value_error.bond_too_large"}})
	}
	nb.Version++
	m.bonds[nb.BondID] = nb
	m.record(opSubscriberPut, nb)
	c := nb.clone()
	return Expect{Status: http.StatusOK, ETag: nb.etag(), Bond: &c}
}

func (m *Model) subRemove(op Op) Expect {
	ps := checkBondID(op.BondID, "path", "bond_id")
	ps = append(ps, checkID(op.SID, "path", "sid")...)
	b, e, ok := m.writeTarget(op, ps, fmt.Sprintf("Bond %s not found. Cannot remove subscriber %s.", op.BondID, op.SID))
	if !ok {
		return e
	}
	if _, had := b.Subscribers[op.SID]; !had { // no-op, version kept
		return Expect{Status: http.StatusOK, ETag: b.etag(), Bond: &b}
	}
	nb := b.clone()
	delete(nb.Subscribers, op.SID)
	nb.Version++
	m.bonds[nb.BondID] = nb
	m.record(opSubscriberRemove, nb)
	c := nb.clone()
	return Expect{Status: http.StatusOK, ETag: nb.etag(), Bond: &c}
}

// list answers GET /bonds (docs/api.md, "Listing and pagination"): by_host true
// (default), false, 1, 0; account_id and cost_center_id on the host side
// with by_host, else on the subscriber side; limit 1-1000, default 100.
// Any other parameter is a 422 naming it (value_error.extra). The query
// must not hold next_token except as the harness's bad-token probe
// ("next_token=<garbage>"), which is a 422.
func (m *Model) list(op Op) Expect {
	q, err := url.ParseQuery(op.Query)
	if err != nil {
		return invalid([]Problem{{Loc: []string{"query"}}})
	}
	var ps []Problem
	for name := range q {
		switch name {
		case "cost_center_id", "account_id", "by_host", "limit", "next_token":
		default:
			ps = append(ps, Problem{Loc: []string{"query", name}, Type: "value_error.extra"})
		}
	}
	first := func(name string) (string, bool) {
		v, ok := q[name]
		if !ok {
			return "", false
		}
		return v[0], true
	}
	byHost := true
	cc, hasCC := first("cost_center_id")
	if hasCC {
		ps = append(ps, checkID(cc, "query", "cost_center_id")...)
	}
	acct, hasAcct := first("account_id")
	if hasAcct {
		ps = append(ps, checkID(acct, "query", "account_id")...)
	}
	if v, ok := first("by_host"); ok {
		switch v {
		case "true", "1":
		case "false", "0":
			byHost = false
		default:
			ps = append(ps, Problem{Loc: []string{"query", "by_host"}, Type: "type_error.*"})
		}
	}
	limit, lps := limitOf(q)
	ps = append(ps, lps...)
	if _, ok := first("next_token"); ok && len(ps) == 0 {
		ps = append(ps, Problem{Loc: []string{"query", "next_token"}})
	}
	if len(ps) > 0 {
		return invalid(ps)
	}
	var out []Bond
	for _, id := range m.IDs() {
		b := m.bonds[id]
		a, c := b.SubAccountID, b.SubCostCenter
		if byHost {
			a, c = b.HostAccountID, b.HostCostCenter
		}
		if (!hasAcct || acct == a) && (!hasCC || cc == c) {
			out = append(out, b.clone())
		}
	}
	return Expect{Status: http.StatusOK, Bonds: out, Limit: limit}
}

// limitOf reads the limit of a listing: 1-1000, default 100.
func limitOf(q url.Values) (int, []Problem) {
	v, ok := q["limit"]
	if !ok {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v[0])
	switch {
	case err != nil:
		return defaultLimit, []Problem{{Loc: []string{"query", "limit"}, Type: "type_error.*"}}
	case n < 1 || n > maxLimit:
		return defaultLimit, []Problem{{Loc: []string{"query", "limit"}}}
	}
	return n, nil
}

// sizeVerdict says whether b fits in one DynamoDB item, counted by AWS's
// rules (attribute names plus values; strings by UTF-8 bytes; a number 1
// byte per two significant digits plus 1; a map 3 bytes plus, per entry, 1
// byte, its name and its value). sure is false near the limit.
func sizeVerdict(b Bond) (fits, sure bool) {
	n := 0
	str := func(name, v string) { n += len(name) + len(v) }
	str("bond_id", b.BondID)
	str("host_account_id", b.HostAccountID)
	str("sub_account_id", b.SubAccountID)
	str("host_cost_center", b.HostCostCenter)
	str("sub_cost_center", b.SubCostCenter)
	n += len("version") + (len(strconv.FormatInt(b.Version+1, 10))+1)/2 + 1
	n += len("subscribers") + 3
	for k, s := range b.Subscribers {
		n += 1 + len(k) + 3
		n += 1 + len("sid") + len(s.SID)
		n += 1 + len("name") + len(s.Name)
		n += 1 + len("email") + len(s.Email)
	}
	switch {
	case n <= sizeSurelyFits:
		return true, true
	case n > sizeSurelyTooBig:
		return false, true
	}
	return false, false
}

// The value rules (docs/api.md, "The data model").

// checkID: 1-128 characters, no control characters, no leading/trailing
// whitespace, not "." or "..". The contract names the length types (api/openapi.yaml); the
// others are left open ("").
func checkID(v string, loc ...string) []Problem {
	var ps []Problem
	switch n := utf8.RuneCountInString(v); {
	case n < 1:
		ps = append(ps, Problem{Loc: loc, Type: "value_error.any_str.min_length"})
	case n > maxIDChars:
		ps = append(ps, Problem{Loc: loc, Type: "value_error.any_str.max_length"})
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		ps = append(ps, Problem{Loc: loc})
	}
	if v != "" && (unicode.IsSpace(firstRune(v)) || unicode.IsSpace(lastRune(v))) {
		ps = append(ps, Problem{Loc: loc})
	}
	if v == "." || v == ".." { // dot-segments (docs/api.md, "Identifiers survive URLs")
		ps = append(ps, Problem{Loc: loc})
	}
	return ps
}

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }
func lastRune(s string) rune  { r, _ := utf8.DecodeLastRuneInString(s); return r }

// checkBondID: an identifier without '/'.
func checkBondID(v string, loc ...string) []Problem {
	ps := checkID(v, loc...)
	if strings.Contains(v, "/") {
		ps = append(ps, Problem{Loc: loc})
	}
	return ps
}

func checkName(v string, loc ...string) []Problem {
	switch n := utf8.RuneCountInString(v); {
	case n < 1:
		return []Problem{{Loc: loc, Type: "value_error.any_str.min_length"}}
	case n > maxNameChars:
		return []Problem{{Loc: loc, Type: "value_error.any_str.max_length"}}
	}
	return nil
}

// checkEmail: "a bare address by Go's net/mail rules, with a domain part, at
// most 254 characters".
func checkEmail(v string, loc ...string) []Problem {
	switch n := utf8.RuneCountInString(v); {
	case n < 1:
		return []Problem{{Loc: loc, Type: "value_error.any_str.min_length"}}
	case n > maxEmailChars:
		return []Problem{{Loc: loc, Type: "value_error.any_str.max_length"}}
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !strings.Contains(v, "@") {
		return []Problem{{Loc: loc, Type: "value_error.email"}}
	}
	return nil
}

// decodeObject parses a JSON object body. fields is nil when the body is
// not one: malformed JSON (value_error.jsondecode) or another JSON value
// (type_error.*).
func decodeObject(data []byte, loc []string) (map[string]json.RawMessage, []Problem) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, []Problem{{Loc: loc, Type: "value_error.jsondecode"}}
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, []Problem{{Loc: loc, Type: "type_error.*"}}
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(data, &fields)
	if len(fields) > maxObjectMembers {
		return nil, []Problem{{Loc: loc, Type: "value_error.too_many_members"}}
	}
	return fields, nil
}

// fieldReader reads the fields of one JSON object, remembering which it
// took so that the rest are value_error.extra.
type fieldReader struct {
	fields map[string]json.RawMessage
	loc    []string
	taken  map[string]bool
}

func (d *fieldReader) at(name string) []string { return append(slices.Clone(d.loc), name) }

// str reads a string field: present reports the field was sent; ps holds a
// type problem (a number, boolean, array, object or null is
// type_error.*, docs/api.md, "Strict types").
func (d *fieldReader) str(name string) (v string, present bool, ps []Problem) {
	raw, ok := d.fields[name]
	if d.taken == nil {
		d.taken = map[string]bool{}
	}
	d.taken[name] = true
	if !ok {
		return "", false, nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		return "", true, []Problem{{Loc: d.at(name), Type: "type_error.*"}}
	}
	return v, true, nil
}

func (d *fieldReader) requiredID(dst *string, name string, bondID bool) []Problem {
	v, present, ps := d.str(name)
	if !present {
		return []Problem{{Loc: d.at(name), Type: "value_error.missing"}}
	}
	if ps != nil {
		return ps
	}
	*dst = v
	if bondID {
		return checkBondID(v, d.at(name)...)
	}
	return checkID(v, d.at(name)...)
}

func (d *fieldReader) optionalID(name string, bondID bool) (string, bool, []Problem) {
	v, present, ps := d.str(name)
	if !present || ps != nil {
		return "", present && ps == nil, ps
	}
	if bondID {
		return v, true, checkBondID(v, d.at(name)...)
	}
	return v, true, checkID(v, d.at(name)...)
}

// subscriber reads sid, name and email into s.
func (d *fieldReader) subscriber(s *Sub) []Problem {
	var ps []Problem
	ps = append(ps, d.requiredID(&s.SID, "sid", false)...)
	for _, f := range []struct {
		dst   *string
		name  string
		check func(string, ...string) []Problem
	}{{&s.Name, "name", checkName}, {&s.Email, "email", checkEmail}} {
		v, present, fps := d.str(f.name)
		switch {
		case !present:
			ps = append(ps, Problem{Loc: d.at(f.name), Type: "value_error.missing"})
		case fps != nil:
			ps = append(ps, fps...)
		default:
			*f.dst = v
			ps = append(ps, f.check(v, d.at(f.name)...)...)
		}
	}
	return ps
}

// subscribers reads the optional "subscribers" map: at most 1,000 entries,
// each a subscriber whose sid equals its key.
func (d *fieldReader) subscribers() (map[string]Sub, bool, []Problem) {
	if d.taken == nil {
		d.taken = map[string]bool{}
	}
	d.taken["subscribers"] = true
	raw, ok := d.fields["subscribers"]
	subs := map[string]Sub{}
	if !ok {
		return subs, false, nil
	}
	loc := d.at("subscribers")
	var entries map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &entries) != nil {
		return subs, true, []Problem{{Loc: loc, Type: "type_error.*"}}
	}
	if len(entries) > maxSubscribers {
		// A map over the limit is refused whole, before its entries are read.
		return subs, true, []Problem{{Loc: loc, Type: "value_error.subscribers.max_items"}}
	}
	var ps []Problem
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		at := append(slices.Clone(loc), k)
		t := bytes.TrimSpace(entries[k])
		var fields map[string]json.RawMessage
		if len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &fields) != nil {
			ps = append(ps, Problem{Loc: at, Type: "type_error.*"})
			continue
		}
		if len(fields) > maxObjectMembers {
			ps = append(ps, Problem{Loc: at, Type: "value_error.too_many_members"})
			continue
		}
		sd := fieldReader{fields: fields, loc: at}
		var s Sub
		sps := sd.subscriber(&s)
		sps = append(sps, sd.extra()...)
		ps = append(ps, sps...)
		if _, present, tps := sd.str("sid"); present && tps == nil && s.SID != k {
			ps = append(ps, Problem{Loc: append(slices.Clone(at), "sid"), Type: "value_error.sid_mismatch"})
		}
		subs[k] = s
	}
	return subs, true, ps
}

// extra returns value_error.extra for every field not taken.
func (d *fieldReader) extra() []Problem {
	var ps []Problem
	for _, k := range slices.Sorted(maps.Keys(d.fields)) {
		if !d.taken[k] {
			ps = append(ps, Problem{Loc: d.at(k), Type: "value_error.extra"})
		}
	}
	return ps
}
