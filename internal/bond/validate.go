package bond

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the contract (README "The data model").
const (
	MaxIDLen       = 128     // identifiers: bond_id, account ids, cost centers, sid (characters)
	MaxNameLen     = 256     // a subscriber's name (characters)
	MaxEmailLen    = 254     // RFC 5321 path limit (characters)
	MaxSubscribers = 1000    // subscribers per bond
	MaxItemBytes   = 400_000 // one DynamoDB item (DynamoDB's 400 KB item size limit), by ItemSize
)

// Validate returns every problem of a complete bond (as created), with locs
// relative to the bond. It checks values only; uniqueness is the store's job.
func (b Bond) Validate() []Problem {
	var ps []Problem
	ps = append(ps, checkBondID(b.BondID, "bond_id")...)
	ps = append(ps, checkID(b.HostAccountID, "host_account_id")...)
	ps = append(ps, checkID(b.SubAccountID, "sub_account_id")...)
	ps = append(ps, checkID(b.HostCostCenter, "host_cost_center")...)
	ps = append(ps, checkID(b.SubCostCenter, "sub_cost_center")...)
	ps = append(ps, checkSubscribers(b.Subscribers, "subscribers")...)
	if len(ps) == 0 && ItemSize(b) > MaxItemBytes {
		ps = append(ps, ErrTooLarge().Problems...)
	}
	return ps
}

// Validate returns every problem of the fields the update sets, with locs
// relative to the update.
func (u Update) Validate() []Problem {
	var ps []Problem
	for _, f := range []struct {
		v    *string
		name string
	}{
		{u.HostAccountID, "host_account_id"},
		{u.SubAccountID, "sub_account_id"},
		{u.HostCostCenter, "host_cost_center"},
		{u.SubCostCenter, "sub_cost_center"},
	} {
		if f.v != nil {
			ps = append(ps, checkID(*f.v, f.name)...)
		}
	}
	if u.Subscribers != nil {
		ps = append(ps, checkSubscribers(*u.Subscribers, "subscribers")...)
	}
	return ps
}

// Validate returns every problem of one subscriber; loc is where it sits
// (nothing for a subscriber on its own, ["subscribers", sid] in a bond).
func (s Subscriber) Validate(loc ...string) []Problem {
	loc = slices.Clip(loc) // each append below gets its own array
	var ps []Problem
	ps = append(ps, checkID(s.SID, append(loc, "sid")...)...)
	ps = append(ps, checkText(s.Name, 1, MaxNameLen, append(loc, "name")...)...)
	ps = append(ps, checkControl(s.Name, append(loc, "name")...)...)
	ps = append(ps, checkEmail(s.Email, append(loc, "email")...)...)
	return ps
}

// ValidateBondID returns the problems of a bond id on its own (empty locs).
func ValidateBondID(id string) []Problem { return checkBondID(id) }

// ValidateID returns the problems of an identifier (account id, cost center,
// sid) on its own (empty locs).
func ValidateID(v string) []Problem { return checkID(v) }

func checkSubscribers(subs map[string]Subscriber, loc ...string) []Problem {
	var ps []Problem
	if len(subs) > MaxSubscribers {
		ps = append(ps, ErrTooManySubscribers(loc...).Problems...)
	}
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	slices.Sort(keys) // problems in a stable order
	for _, k := range keys {
		s := subs[k]
		at := slices.Clip(append(slices.Clone(loc), k))
		ps = append(ps, s.Validate(at...)...)
		if s.SID != k {
			ps = append(ps, Problem{Loc: append(at, "sid"), Type: "value_error.sid_mismatch",
				Msg: "the subscriber's sid must equal its key in the subscribers map"})
		}
	}
	return ps
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

func checkEmail(v string, loc ...string) []Problem {
	if ps := checkText(v, 1, MaxEmailLen, loc...); ps != nil {
		return ps
	}
	if ps := checkControl(v, loc...); ps != nil {
		return ps
	}
	a, err := mail.ParseAddress(v)
	// A bare address only: "Bob <bob@example.com>" parses but is not one.
	if err != nil || a.Address != v || a.Name != "" {
		return []Problem{{Loc: loc, Type: "value_error.email", Msg: "value is not a valid email address"}}
	}
	return nil
}

// ItemSize estimates the size of b as one DynamoDB item, by AWS's rules:
// attribute names plus values, strings by their UTF-8 bytes, a map 3 bytes
// plus 1 byte and the name of each element, a number about 1 byte per two
// digits plus one.
func ItemSize(b Bond) int {
	n := len("bond_id") + len(b.BondID) +
		len("host_account_id") + len(b.HostAccountID) +
		len("sub_account_id") + len(b.SubAccountID) +
		len("host_cost_center") + len(b.HostCostCenter) +
		len("sub_cost_center") + len(b.SubCostCenter) +
		len("version") + 21/2 + 1 +
		len("subscribers") + 3
	for k, s := range b.Subscribers {
		n += 1 + len(k) + 3 +
			1 + len("sid") + len(s.SID) +
			1 + len("name") + len(s.Name) +
			1 + len("email") + len(s.Email)
	}
	return n
}
