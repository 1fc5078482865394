package difftest

import (
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// The adversarial alphabet of identifiers: multi-byte and
// 4-byte characters, characters that mean something in paths, queries,
// DynamoDB document paths and key encodings, and spaces inside.
var idPieces = []string{
	"a", "b", "Z", "0", "7", "é", "帳", "😀", "[", "]", ".", "..", "#", ":", "%", "+",
	" ", "-", "_", "~", "?", "&", "=", "'", `"`, `\`, "<", "%2F", "%5B", "@", ",", "*",
}

// Shared prefixes, so that ids sort and hash near each other.
var idPrefixes = []string{"", "", "team", "team[", "acct.", "帳", "😀😀", "#"}

// validID draws a valid identifier: 1-128 characters, no control
// characters, no leading/trailing whitespace; noSlash for bond ids.
func validID() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		switch rapid.IntRange(0, 9).Draw(t, "idShape") {
		case 0: // a single piece
			return fixSpaces(rapid.SampledFrom(idPieces).Draw(t, "piece"))
		case 1: // maximum length in characters (and in bytes, with 4-byte ones)
			ch := rapid.SampledFrom([]string{"a", "é", "帳", "😀"}).Draw(t, "maxChar")
			return strings.Repeat(ch, maxIDChars-1) + rapid.SampledFrom([]string{"a", "😀", "]", "."}).Draw(t, "maxLast")
		}
		var b strings.Builder
		b.WriteString(rapid.SampledFrom(idPrefixes).Draw(t, "prefix"))
		for range rapid.IntRange(1, 4).Draw(t, "pieces") {
			b.WriteString(rapid.SampledFrom(idPieces).Draw(t, "piece"))
		}
		return fixSpaces(b.String())
	})
}

// fixSpaces makes spaces inside only, and "." and ".." (refused, being
// dot-segments) into valid ids.
func fixSpaces(s string) string {
	if s == "." || s == ".." {
		return s + "x"
	}
	if strings.HasPrefix(s, " ") {
		s = "x" + s
	}
	if strings.HasSuffix(s, " ") {
		s += "y"
	}
	return s
}

// invalidID draws an identifier that breaks one rule.
func invalidID(bondID bool) *rapid.Generator[string] {
	bad := []string{"", strings.Repeat("a", maxIDChars+1), strings.Repeat("😀", maxIDChars+1), " lead", "trail ",
		"\u3000ideo", "ctl\x01x", "del\x7fx", ".", ".."}
	if bondID {
		bad = append(bad, "a/b", "/")
	}
	return rapid.SampledFrom(bad)
}

// pools are the identifiers of one sequence: few, so that steps collide.
type pools struct {
	bondIDs, accounts, costCenters, sids []string
	// keep filters the valid ids drawn (DIFFTEST_OFF=long: at most 32
	// characters; DIFFTEST_OFF=brackets: no '[', ']', '.').
	keep func(string) bool
	// flawed: the body (or path) being drawn may break rules; one roll
	// per body keeps most bodies valid.
	flawed bool
}

// flaw draws true with probability 1/n when p is flawed.
func (p pools) flaw(t *rapid.T, name string, n int) bool {
	return p.flawed && chance(t, name, n)
}

func drawPools(t *rapid.T, off map[string]bool) pools {
	keep := func(s string) bool {
		return (!off["long"] || utf8.RuneCountInString(s) <= 32) && (!off["brackets"] || !strings.ContainsAny(s, "[]."))
	}
	gen := validID().Filter(keep)
	ids := func(name string, lo, hi int) []string {
		return rapid.SliceOfNDistinct(gen, lo, hi, rapid.ID[string]).Draw(t, name)
	}
	bondIDs := rapid.SliceOfNDistinct(gen.Filter(func(s string) bool { return !strings.Contains(s, "/") }),
		2, 4, rapid.ID[string]).Draw(t, "bondIDs")
	return pools{bondIDs: bondIDs, accounts: ids("accounts", 2, 4), costCenters: ids("costCenters", 1, 3),
		sids: ids("sids", 2, 4), keep: keep}
}

// chance draws true with probability 1/n. (rapid draws small integers far
// more often than uniformly: IntRange(0, 29) == 0 holds about 12% of the
// time, so rare events are drawn at the top of a wide range; shrinking
// goes towards false.)
func chance(t *rapid.T, name string, n int) bool {
	return rapid.IntRange(0, 999).Draw(t, name) >= 1000-1000/n
}

// pick draws from pool mostly, else a fresh valid or invalid id.
func (p pools) pick(t *rapid.T, name string, pool []string, bondID bool) string {
	return p.pickID(t, name, pool, bondID, false)
}

// pickPath is pick for a path segment: never empty (an empty segment is
// another route).
func (p pools) pickPath(t *rapid.T, name string, pool []string, bondID bool) string {
	p.flawed = chance(t, name+"Flawed", 8)
	return p.pickID(t, name, pool, bondID, true)
}

func (p pools) pickID(t *rapid.T, name string, pool []string, bondID, path bool) string {
	switch {
	case p.flaw(t, name+"Invalid?", 15):
		return invalidID(bondID).Filter(func(s string) bool { return !path || s != "" }).Draw(t, name+"Invalid")
	case chance(t, name+"Fresh?", 20):
		return validID().Filter(func(s string) bool {
			return (!bondID || !strings.Contains(s, "/")) && p.keep(s)
		}).Draw(t, name+"Fresh")
	}
	return rapid.SampledFrom(pool).Draw(t, name)
}

var names = []string{"Ann", "Bob Smith", "Zoë 😀", strings.Repeat("😀", maxNameChars), strings.Repeat("n", maxNameChars+1), ""}
var emails = []string{"a@example.com", "bob.smith+tag@example.co.uk", "x@y", "bob", "Bob <b@example.com>", "", "a@"}

// jsonValue draws the JSON text of a string field: mostly the value, at
// times a value of the wrong type.
func (p pools) jsonValue(t *rapid.T, name, v string) string {
	if p.flaw(t, name+"Type", 20) {
		return rapid.SampledFrom([]string{"1", "true", "null", "[]", "{}"}).Draw(t, name+"Wrong")
	}
	return string(mustJSON(v))
}

// object builds a JSON object from ordered key/value texts.
func object(kvs [][2]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range kvs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(kv[0]))
		b.WriteByte(':')
		b.WriteString(kv[1])
	}
	b.WriteByte('}')
	return b.String()
}

// subscriberJSON draws one subscriber object for sid.
func subscriberJSON(t *rapid.T, p pools, sid string) string {
	kvs := [][2]string{}
	if !p.flaw(t, "sidMissing", 25) {
		kvs = append(kvs, [2]string{"sid", p.jsonValue(t, "sid", sid)})
	}
	if !p.flaw(t, "nameMissing", 25) {
		// valid names mostly
		n := rapid.SampledFrom(names[:4]).Draw(t, "name")
		if p.flaw(t, "nameBad", 5) {
			n = rapid.SampledFrom(names).Draw(t, "anyName")
		}
		kvs = append(kvs, [2]string{"name", p.jsonValue(t, "name", n)})
	}
	if !p.flaw(t, "emailMissing", 25) {
		e := rapid.SampledFrom(emails[:3]).Draw(t, "email")
		if p.flaw(t, "emailBad", 5) {
			e = rapid.SampledFrom(emails).Draw(t, "anyEmail")
		}
		kvs = append(kvs, [2]string{"email", p.jsonValue(t, "email", e)})
	}
	if p.flaw(t, "subExtra", 20) {
		kvs = append(kvs, [2]string{"phone", `"123"`})
	}
	return object(kvs)
}

// subscribersJSON draws a "subscribers" map of 0-3 entries.
func subscribersJSON(t *rapid.T, p pools) string {
	kvs := [][2]string{}
	seen := map[string]bool{} // no duplicate keys: JSON leaves them undefined
	for range rapid.IntRange(0, 3).Draw(t, "subCount") {
		sid := p.pick(t, "sid", p.sids, false)
		key := sid
		if p.flaw(t, "keyMismatch", 10) {
			key = rapid.SampledFrom(p.sids).Draw(t, "key")
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		kvs = append(kvs, [2]string{key, subscriberJSON(t, p, sid)})
	}
	return object(kvs)
}

// bulkOdds: one body in bulkOdds gets a Bulk (DIFFTEST_BULK overrides,
// e.g. 3 to explore the limits).
var bulkOdds = envInt("DIFFTEST_BULK", 25)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// bulk draws, rarely, a Bulk at one of the limits: the 1,000-subscriber
// cap, the 400 KB item (256-character names of 4-byte characters), the
// 1 MiB body.
func bulk(t *rapid.T, on bool) *Bulk {
	if !on || !chance(t, "bulkOn", bulkOdds) {
		return nil
	}
	return rapid.SampledFrom([]*Bulk{
		{N: 1000, NameLen: 1, Rune: "n"}, {N: 1001, NameLen: 1, Rune: "n"}, {N: 999, NameLen: 1, Rune: "n"},
		{N: 300, NameLen: 256, Rune: "😀"}, {N: 340, NameLen: 256, Rune: "😀"}, {N: 420, NameLen: 256, Rune: "😀"},
		{N: 1000, NameLen: 256, Rune: "😀"}, {N: 990, NameLen: 100, Rune: "帳"},
	}).Draw(t, "bulk")
}

// malformed draws, rarely, a body that is not a JSON object.
func (p pools) malformed(t *rapid.T) (string, bool) {
	if !p.flaw(t, "malformedOn", 8) {
		return "", false
	}
	return rapid.SampledFrom([]string{"", "{", "[]", "null", `"x"`, "1", `{"a":}`}).Draw(t, "malformed"), true
}

// contentType draws, rarely, a Content-Type other than application/json.
func contentType(t *rapid.T) string {
	return rapid.SampledFrom([]string{"", "", "", "", "", "", "", "", "", "",
		"application/json; charset=utf-8", "text/plain"}).Draw(t, "contentType")
}

// createBody draws the body of POST /bonds.
func createBody(t *rapid.T, p pools) string {
	p.flawed = chance(t, "flawed", 4)
	if s, ok := p.malformed(t); ok {
		return s
	}
	kvs := [][2]string{}
	field := func(name, v string) {
		if !p.flaw(t, name+"Missing", 25) {
			kvs = append(kvs, [2]string{name, p.jsonValue(t, name, v)})
		}
	}
	field("bond_id", p.pick(t, "bondID", p.bondIDs, true))
	field("host_account_id", p.pick(t, "host", p.accounts, false))
	field("sub_account_id", p.pick(t, "sub", p.accounts, false))
	field("host_cost_center", p.pick(t, "hostCC", p.costCenters, false))
	field("sub_cost_center", p.pick(t, "subCC", p.costCenters, false))
	if rapid.Bool().Draw(t, "withSubs") {
		kvs = append(kvs, [2]string{"subscribers", subscribersJSON(t, p)})
	}
	if p.flaw(t, "extra", 15) {
		kvs = append(kvs, [2]string{"subscriber", `{}`})
	}
	return object(kvs)
}

// updateBody draws the body of PUT /bonds/{id}: any subset of the fields.
func updateBody(t *rapid.T, p pools, pathID string) string {
	p.flawed = chance(t, "flawed", 4)
	if s, ok := p.malformed(t); ok {
		return s
	}
	kvs := [][2]string{}
	if chance(t, "withBondID", 6) {
		id := pathID
		if chance(t, "otherBondID", 4) {
			id = p.pick(t, "bodyBondID", p.bondIDs, true)
		}
		kvs = append(kvs, [2]string{"bond_id", p.jsonValue(t, "bond_id", id)})
	}
	for _, f := range []struct{ name, pool string }{
		{"host_account_id", "accounts"}, {"sub_account_id", "accounts"},
		{"host_cost_center", "cc"}, {"sub_cost_center", "cc"},
	} {
		if chance(t, f.name+"Set", 3) {
			pool := p.accounts
			if f.pool == "cc" {
				pool = p.costCenters
			}
			kvs = append(kvs, [2]string{f.name, p.jsonValue(t, f.name, p.pick(t, f.name, pool, false))})
		}
	}
	if chance(t, "subsSet", 4) {
		kvs = append(kvs, [2]string{"subscribers", subscribersJSON(t, p)})
	}
	if p.flaw(t, "extra", 15) {
		kvs = append(kvs, [2]string{"version", `2`})
	}
	return object(kvs)
}

// subscriberBody draws the body of POST /bonds/{id}/subscribers; half the
// time it is exactly the stored subscriber (the no-op case).
func subscriberBody(t *rapid.T, p pools, stored map[string]Sub) string {
	p.flawed = chance(t, "flawed", 4)
	if s, ok := p.malformed(t); ok {
		return s
	}
	if len(stored) > 0 && rapid.Bool().Draw(t, "asStored") {
		sid := rapid.SampledFrom(sortedKeys(stored)).Draw(t, "storedSID")
		return string(mustJSON(stored[sid]))
	}
	return subscriberJSON(t, p, p.pick(t, "sid", p.sids, false))
}

func sortedKeys(m map[string]Sub) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// condition draws an If-Match or If-None-Match value against a bond at
// version v (0 when it does not exist): current, stale and future tags,
// "01" for "1", weak tags, "*", lists, garbage.
func condition(t *rapid.T, name string, v int64, noLists bool) *string {
	cur := strconv.FormatInt(max(v, 1), 10)
	q := func(n int64) string { return `"` + strconv.FormatInt(n, 10) + `"` }
	choices := []string{
		`"` + cur + `"`, `"` + cur + `"`, q(max(v, 1) + 1), q(max(v-1, 0)), `"0"`, `"0` + cur + `"`,
		`W/"` + cur + `"`, `*`, `"0", "` + cur + `"`, q(max(v, 1)+1) + `, "` + cur + `"`,
		`W/"` + cur + `", ` + q(max(v, 1)+1), cur, `"` + cur, `""`, `"` + cur + `"x`, `, "` + cur + `"`,
		` "` + cur + `" `, `"a,b", "` + cur + `"`, `"` + cur + `",,"9"`, `"0"` + "\n" + `"` + cur + `"`,
		`"` + cur + `", 1`,
	}
	if noLists { // single tags only, no leading zeros (DIFFTEST_OFF=im-list)
		choices = slices.DeleteFunc(choices, func(c string) bool {
			return strings.Contains(c, ",") || strings.HasPrefix(c, `"0`) && c != `"0"`
		})
	}
	return S(rapid.SampledFrom(choices).Draw(t, name))
}

// listQuery draws the query of GET /bonds: every filter, by_host in its
// four spellings, limit small (walks of several pages) or at its bounds,
// at times a bad value.
func listQuery(t *rapid.T, p pools) string {
	p.flawed = chance(t, "flawed", 5)
	var kvs [][2]string
	if rapid.Bool().Draw(t, "withCC") {
		kvs = append(kvs, [2]string{"cost_center_id", p.pick(t, "qCC", append(p.costCenters, p.accounts[0]), false)})
	}
	if rapid.Bool().Draw(t, "withAccount") {
		kvs = append(kvs, [2]string{"account_id", p.pick(t, "qAccount", p.accounts, false)})
	}
	if rapid.Bool().Draw(t, "withByHost") {
		bh := rapid.SampledFrom([]string{"true", "false", "1", "0", "true", "false", "1", "0", "yes"}).Draw(t, "byHost")
		kvs = append(kvs, [2]string{"by_host", bh})
	}
	if !chance(t, "withLimit", 6) {
		l := rapid.SampledFrom([]string{"1", "1", "2", "2", "3", "4", "1000", "0", "1001", "x", "-1"}).Draw(t, "limit")
		if chance(t, "limitIsCount", 4) {
			l = "COUNT" // the machine puts the number of matching bonds here
		}
		kvs = append(kvs, [2]string{"limit", l})
	}
	if chance(t, "unknownParam", 30) { // a body field's name, a case variant, or a misspelling
		kvs = append(kvs, [2]string{rapid.SampledFrom([]string{"host_cost_center", "Limit", "cost_center", "colour"}).Draw(t, "unknownName"), "x"})
	}
	if chance(t, "badToken", 30) {
		kvs = append(kvs, [2]string{"next_token", rapid.SampledFrom([]string{"", "garbage", "AAAA"}).Draw(t, "token")})
	}
	var parts []string
	space := rapid.SampledFrom([]string{"+", "%20"}).Draw(t, "spaceEnc")
	for _, kv := range kvs {
		parts = append(parts, kv[0]+"="+strings.ReplaceAll(url.QueryEscape(kv[1]), "+", space))
	}
	return strings.Join(parts, "&")
}

// revisionQuery draws the query of GET /bonds/{id}/revisions: a limit small
// or at its bounds, at times a bad one, an unknown parameter or a bad token.
func revisionQuery(t *rapid.T, p pools) string {
	p.flawed = chance(t, "flawed", 5)
	var parts []string
	if !chance(t, "withLimit", 6) {
		l := rapid.SampledFrom([]string{"1", "1", "2", "2", "3", "1000"}).Draw(t, "limit")
		if p.flaw(t, "badLimit", 2) {
			l = rapid.SampledFrom([]string{"0", "1001", "x", "-1"}).Draw(t, "badLimitValue")
		}
		parts = append(parts, "limit="+l)
	}
	if p.flaw(t, "unknownParam", 3) {
		parts = append(parts, rapid.SampledFrom([]string{"by_host=true", "Limit=1", "revision=1"}).Draw(t, "unknown"))
	}
	if p.flaw(t, "badToken", 3) {
		parts = append(parts, "next_token="+rapid.SampledFrom([]string{"", "garbage", "AAAA"}).Draw(t, "token"))
	}
	return strings.Join(parts, "&")
}

// revisionNumber draws the {revision} of a path for a bond with last
// revisions: one of them or the next (absent), at times one out of form
// or past the largest.
func revisionNumber(t *rapid.T, p pools, last int) string {
	if p.flaw(t, "badRevision", 8) || chance(t, "badRevision", 15) {
		return rapid.SampledFrom([]string{"0", "01", "-1", "+1", "x", "1.0", "9007199254740993", "99999999999999999999"}).Draw(t, "badRevisionValue")
	}
	return strconv.Itoa(rapid.IntRange(1, last+1).Draw(t, "revision"))
}
