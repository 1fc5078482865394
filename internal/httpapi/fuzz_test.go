package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Fuzz targets of everything the service parses from a request: bodies,
// the list query, page tokens and the conditional headers. `make test` runs
// each for a bounded time (scripts/fuzz.sh); their seed corpora are in
// testdata/fuzz. Each checks properties, not just "no panic".

// FuzzDecodeBody feeds any bytes to the three body decoders. A body they
// accept is valid by the domain's rules and survives a JSON round trip
// unchanged; a body they refuse gets a 422 whose every problem has a loc
// under "body", a message and a type.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"bond_id":"A","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d","subscribers":{"b":{"sid":"b","name":"B","email":"b@example.com"}}}`,
		`{"sid":"ops[eu]","name":"Ops","email":"ops@example.com"}`,
		`{"host_cost_center":"red","subscribers":{}}`,
		`{"bond_id":"a/b","host_account_id":7,"subscribers":[],"x":null}`,
		`{"sid":"u1","name":"Bad ` + "\xe9" + ` Name","email":"u@example.com"}`,
		`[]`, `null`, ``, `{`, `{"a":1,"a":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(what string, err error, valid func() []bond.Problem, roundTrip func() error) {
			if err == nil {
				if ps := valid(); len(ps) > 0 {
					t.Fatalf("%s accepted %q, which breaks %v", what, data, ps)
				}
				if err := roundTrip(); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				return
			}
			e, ok := err.(*bond.Error)
			if !ok || e.Kind != bond.KindInvalid || len(e.Problems) == 0 {
				t.Fatalf("%s refused %q with %v, want a 422 with problems", what, data, err)
			}
			for _, p := range e.Problems {
				if len(p.Loc) == 0 || p.Loc[0] != "body" || p.Msg == "" || p.Type == "" {
					t.Fatalf("%s: problem %+v of %q lacks a body loc, message or type", what, p, data)
				}
			}
		}
		b, err := decodeBond(data)
		check("decodeBond", err, b.Validate, func() error {
			js, _ := json.Marshal(shown(b)) // as a response shows it
			again, err := decodeBond(js)
			if err != nil || !again.SameContent(b) {
				return fmt.Errorf("round trip of %q: %+v, %v", js, again, err)
			}
			return nil
		})
		u, err := decodeUpdate(data, "A")
		check("decodeUpdate", err, u.Validate, func() error { return nil })
		s, err := decodeSubscriber(data)
		check("decodeSubscriber", err, func() []bond.Problem { return s.Validate() }, func() error {
			js, _ := json.Marshal(s)
			if again, err := decodeSubscriber(js); err != nil || again != s {
				return fmt.Errorf("round trip of %q: %+v, %v", js, again, err)
			}
			return nil
		})
		if !utf8.Valid(data) {
			for _, v := range []string{b.BondID, b.HostAccountID, s.SID, s.Name, s.Email} {
				if strings.ContainsRune(v, utf8.RuneError) {
					t.Fatalf("invalid UTF-8 %q decoded into %q: it must be refused, not replaced", data, v)
				}
			}
		}
	})
}

// FuzzListQuery feeds any query string to GET /bonds's parser. An accepted
// query has a limit in range and valid filter values, and the Link the
// service would build from it parses back to the same query.
func FuzzListQuery(f *testing.F) {
	for _, s := range []string{
		"", "cost_center_id=olive&limit=2", "account_id=H&by_host=false&limit=1000",
		"limit=0", "limit=-1", "limit=99999999999999999999", "by_host=maybe", "next_token=abc",
		"cost_center_id=%E5%B8%B3&account_id=a+b", "cost_center_id=..", "%zz", "limit=1&limit=2",
		"host_cost_center=olive", "Limit=2", "cost_center_id=a&colour=red",
	} {
		f.Add(s)
	}
	tokens := newTokenSigner([]byte("fuzz key of 32 bytes, not secret"))
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseListQuery(raw, tokens)
		if err != nil {
			if bond.KindOf(err) != bond.KindInvalid {
				t.Fatalf("query %q: %v, want a 422", raw, err)
			}
			return
		}
		if q.limit < 1 || q.limit > bond.MaxPageLimit {
			t.Fatalf("query %q: limit %d out of range", raw, q.limit)
		}
		values, _ := url.ParseQuery(raw)
		for name := range values {
			if !slices.Contains(listParams, name) {
				t.Fatalf("query %q: accepted the unknown parameter %q", raw, name)
			}
		}
		for _, v := range []string{q.filter.Account, q.filter.CostCenter} {
			if v != "" && len(bond.ValidateID(v)) > 0 {
				t.Fatalf("query %q: accepted invalid filter value %q", raw, v)
			}
		}
		link := nextLink(q, tokens.sign(q.filter, "cursor"))
		target := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		u, err := url.Parse(target)
		if err != nil {
			t.Fatalf("Link %q of %q does not parse: %v", link, raw, err)
		}
		again, err := parseListQuery(u.RawQuery, tokens)
		if err != nil || again.filter != q.filter || again.limit != q.limit || again.cursor != "cursor" {
			t.Fatalf("Link %q of %q parses to %+v, %v; want %+v", link, raw, again, err, q)
		}
	})
}

// FuzzPageToken checks that a token verifies only for the filter it was
// signed for, with the cursor it carries, and that no string crashes the
// verifier.
func FuzzPageToken(f *testing.F) {
	f.Add("teal", "H", true, "cursor", "garbage")
	f.Add("", "", false, "", "")
	f.Add("帳", "a+b", true, strings.Repeat("x", 300), "AAAA")
	tokens := newTokenSigner([]byte("fuzz key of 32 bytes, not secret"))
	f.Fuzz(func(t *testing.T, cc, account string, byHost bool, cursor, forged string) {
		flt := bond.Filter{CostCenter: cc, Account: account, ByHost: byHost}
		token := tokens.sign(flt, cursor)
		got, ok := tokens.verify(flt, token)
		if cursor != "" && (!ok || got != cursor) && len(token) <= maxTokenLen {
			t.Fatalf("token of %+v, %q does not verify: %q, %v", flt, cursor, got, ok)
		}
		other := flt
		other.ByHost = !byHost
		if _, ok := tokens.verify(other, token); ok {
			t.Fatalf("token of %+v verifies for %+v", flt, other)
		}
		if c, ok := tokens.verify(flt, forged); ok && forged != token {
			if again := tokens.sign(flt, c); again != forged {
				t.Fatalf("forged token %q verified as %q", forged, c)
			}
		}
	})
}

// FuzzConditionalHeaders feeds any If-Match / If-None-Match values to the
// precondition parser: a version is named only by exactly its entity tag,
// and every version a header names is one whose tag appears in it.
func FuzzConditionalHeaders(f *testing.F) {
	for _, s := range []string{`"1"`, `"0", "1"`, `*`, `W/"3"`, `"01"`, `"1",W/"2", *`, `"a,b", "2"`, `"`, `W/`, `,,,"4",,`, `"-1"`, `"9223372036854775808"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"If-Match": {v}, "If-None-Match": {v}}
		p := preconditionOf(h)
		if p.IfMatch == nil || p.IfNoneMatch == nil {
			t.Fatalf("%q: a present header must give a precondition", v)
		}
		for _, vs := range []*bond.Versions{p.IfMatch, p.IfNoneMatch} {
			for _, n := range vs.List {
				if n < 0 || !strings.Contains(v, etag(n)) {
					t.Fatalf("%q names version %d, whose tag %s it does not hold", v, n, etag(n))
				}
			}
		}
		for _, n := range p.IfMatch.List {
			if !slices.Contains(p.IfNoneMatch.List, n) {
				t.Fatalf("%q: strong match %d is not a weak match", v, n)
			}
		}
		if tags, ok := parseTagList(v); ok {
			again, ok := parseTagList(strings.Join(tags, ", "))
			if !ok || !slices.Equal(again, tags) {
				t.Fatalf("%q: members %q do not re-parse: %q, %v", v, tags, again, ok)
			}
		}
		if n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64); err == nil && n >= 0 && v == etag(n) {
			if !slices.Contains(p.IfMatch.List, n) {
				t.Fatalf("%q is version %d's tag and must name it", v, n)
			}
		}
	})
}
