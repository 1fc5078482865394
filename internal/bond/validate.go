package bond

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the contract (docs/api.md, "The data model").
const (
	MaxIDLen       = 128     // identifiers: bond_id, account ids, cost centers, sid (characters)
	MaxNameLen     = 256     // a subscriber's name (characters)
	MaxEmailLen    = 254     // RFC 5321 path limit (characters)
	MaxSubscribers = 1000    // subscribers per bond
	MaxItemBytes   = 400_000 // one DynamoDB item (DynamoDB's 400 KB item size limit), by ItemSize
)

// Validate returns every problem of a complete bond (as created, or as read
// back from a store), with locs relative to the bond. It checks values only;
// uniqueness is the store's job.
func (b Bond) Validate() []Problem {
	ps := b.valueProblems()
	if len(ps) == 0 && ItemSize(b) > MaxItemBytes {
		ps = append(ps, ErrTooLarge().Problems...)
	}
	return ps
}

// valueProblems returns the problems of b's values. Like every check here
// it allocates nothing for a bond without problems (a bond read back from a
// store goes through it on every read): the checks run without a loc, and
// the locs are built only for the problems found (placeAt).
func (b Bond) valueProblems() []Problem {
	ps := placeAt(BondID.Check(b.BondID), BondID.Name)
	for _, f := range BondFields {
		if found := f.Check(f.Get(b)); len(found) > 0 {
			ps = append(ps, placeAt(found, f.Name)...)
		}
	}
	if found := checkSubscribers(b.Subscribers); len(found) > 0 {
		ps = append(ps, placeAt(found, SubscribersName)...)
	}
	return ps
}

// placeAt puts loc in front of the loc of each of ps (in place; each gets
// its own array) and returns ps. loc itself is never kept, so a caller's
// loc costs no allocation when ps is empty.
func placeAt(ps []Problem, loc ...string) []Problem {
	for i, p := range ps {
		ps[i].Loc = append(append(make([]string, 0, len(loc)+len(p.Loc)), loc...), p.Loc...)
	}
	return ps
}

// MaxVersion is the largest version a store reads: 2^53, where a DynamoDB
// number and a JSON number still convert exactly, and far from int64's end,
// so that a version bump can never wrap and an entity tag never repeats.
const MaxVersion = 1 << 53

// CheckStored holds a bond read back from a store to the rules of a request,
// since its item or record may have been written by another program: it
// returns ErrUnreadable naming the bond and the first attribute that breaks
// a rule (never the attribute's value), or nil. The size bound is not
// checked: the engine enforced its own when the item was written.
func CheckStored(b Bond) error {
	if what := storedProblem(b); what != "" {
		return ErrUnreadable(b.BondID, what)
	}
	return nil
}

// storedProblem names the first attribute of a stored bond that breaks a
// rule, and how ("version: out of range"), or "".
func storedProblem(b Bond) string {
	if b.Version < 0 || b.Version > MaxVersion {
		return "version: out of range"
	}
	if ps := b.valueProblems(); len(ps) > 0 {
		return strings.Join(ps[0].Loc, ".") + ": " + ps[0].Msg
	}
	return ""
}

// Validate returns every problem of the fields the update sets, with locs
// relative to the update.
func (u Update) Validate() []Problem {
	var ps []Problem
	for _, f := range BondFields {
		if v := *f.InUpdate(&u); v != nil {
			ps = append(ps, placeAt(f.Check(*v), f.Name)...)
		}
	}
	if u.Subscribers != nil {
		ps = append(ps, placeAt(checkSubscribers(*u.Subscribers), SubscribersName)...)
	}
	return ps
}

// Validate returns every problem of one subscriber; loc is where it sits
// (nothing for a subscriber on its own, ["subscribers", sid] in a bond).
func (s Subscriber) Validate(loc ...string) []Problem {
	var ps []Problem
	for _, f := range SubscriberFields {
		if found := f.Check(f.Get(s)); len(found) > 0 {
			ps = append(ps, placeAt(placeAt(found, f.Name), loc...)...)
		}
	}
	return ps
}

// ValidateBondID returns the problems of a bond id on its own (empty locs).
func ValidateBondID(id string) []Problem { return checkBondID(id) }

// ValidateID returns the problems of an identifier (account id, cost center,
// sid) on its own (empty locs).
func ValidateID(v string) []Problem { return checkID(v) }

// checkSubscribers returns the problems of a subscribers map, with locs
// relative to it, in the order of the keys. The keys are sorted only when
// there is a problem to report.
func checkSubscribers(subs map[string]Subscriber) []Problem {
	if subscribersFine(subs) {
		return nil
	}
	var ps []Problem
	if len(subs) > MaxSubscribers {
		ps = append(ps, ErrTooManySubscribers().Problems...)
	}
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	slices.Sort(keys) // problems in a stable order
	for _, k := range keys {
		s := subs[k]
		ps = append(ps, s.Validate(k)...)
		if s.SID != k {
			ps = append(ps, Problem{Loc: []string{k, "sid"}, Type: "value_error.sid_mismatch",
				Msg: "the subscriber's sid must equal its key in the subscribers map"})
		}
	}
	return ps
}

// subscribersFine reports whether checkSubscribers finds nothing in subs,
// without allocating.
func subscribersFine(subs map[string]Subscriber) bool {
	if len(subs) > MaxSubscribers {
		return false
	}
	for k, s := range subs {
		if s.SID != k || len(s.Validate()) > 0 {
			return false
		}
	}
	return true
}

func checkBondID(id string, loc ...string) []Problem {
	ps := checkID(id, loc...)
	if strings.Contains(id, "/") { // a path segment of /bonds/{bond_id}
		ps = append(ps, Problem{Loc: loc, Type: "value_error.str.slash", Msg: "must not contain '/'"})
	}
	return ps
}

// checkID is the rule of every identifier. Besides length, control
// characters and surrounding whitespace, "." and ".." are refused: they are
// dot-segments, which URL resolution removes (RFC 3986 §5.2.4), so an id
// like that would not survive the URLs the service builds from it
// (Location, Link) or that clients build (/bonds/{bond_id}).
func checkID(v string, loc ...string) []Problem {
	ps := checkText(v, 1, MaxIDLen, loc...)
	if v == "." || v == ".." {
		ps = append(ps, Problem{Loc: loc, Type: "value_error.str.dot_segment", Msg: `must not be "." or ".."`})
	}
	ps = append(ps, checkControl(v, loc...)...)
	if v != strings.TrimSpace(v) {
		ps = append(ps, Problem{Loc: loc, Type: "value_error.str.whitespace", Msg: "must not start or end with whitespace"})
	}
	return ps
}

// checkControl refuses control characters (Unicode category Cc: C0, DEL,
// C1) in an identifier, a subscriber's name or email: they are invisible,
// take 6 bytes each in JSON (\u0001), and have no place in these values.
func checkControl(v string, loc ...string) []Problem {
	if strings.ContainsFunc(v, unicode.IsControl) {
		return []Problem{{Loc: loc, Type: "value_error.str.control_characters", Msg: "must not contain control characters"}}
	}
	return nil
}

func checkText(v string, minLen, maxLen int, loc ...string) []Problem {
	if !utf8.ValidString(v) {
		// A path or query value can carry any bytes (%FF); stored as it is,
		// a store would turn them into U+FFFD and reach another bond.
		return []Problem{{Loc: loc, Type: "value_error.str.utf8", Msg: "must be valid UTF-8"}}
	}
	switch n := utf8.RuneCountInString(v); {
	case n < minLen:
		return []Problem{{Loc: loc, Type: "value_error.any_str.min_length",
			Msg: fmt.Sprintf("ensure this value has at least %d characters", minLen)}}
	case n > maxLen:
		return []Problem{{Loc: loc, Type: "value_error.any_str.max_length",
			Msg: fmt.Sprintf("ensure this value has at most %d characters", maxLen)}}
	}
	return nil
}

func checkName(v string, loc ...string) []Problem {
	if ps := checkText(v, 1, MaxNameLen, loc...); ps != nil {
		return ps
	}
	return checkControl(v, loc...)
}

func checkEmail(v string, loc ...string) []Problem {
	if ps := checkText(v, 1, MaxEmailLen, loc...); ps != nil {
		return ps
	}
	if ps := checkControl(v, loc...); ps != nil {
		return ps
	}
	if !isAddress(v) {
		return []Problem{{Loc: loc, Type: "value_error.email", Msg: "value is not a valid email address"}}
	}
	return nil
}

// ItemSize estimates the size of b as one DynamoDB item, by AWS's rules
// (DynamoDB "Item sizes and formats"): attribute names plus values, strings
// by their UTF-8 bytes, a map 3 bytes plus 1 byte and the name of each
// element, a number about 1 byte per two digits plus one.
func ItemSize(b Bond) int {
	n := len(BondID.Name) + len(b.BondID) +
		len("version") + 21/2 + 1 +
		len(SubscribersName) + 3
	for _, f := range BondFields {
		n += len(f.Name) + len(f.Get(b))
	}
	for k, s := range b.Subscribers {
		n += 1 + len(k) + 3
		for _, f := range SubscriberFields {
			n += 1 + len(f.Name) + len(f.Get(s))
		}
	}
	return n
}
