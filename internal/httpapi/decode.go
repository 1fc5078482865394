package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// The request decoders turn a body into a domain value. They are strict, as
// the contract asks: a number, boolean, array or null where a string or
// object belongs is a problem, never coerced; a field the schema does not
// know is a problem; and every problem of the body is reported at once,
// together with the domain's value rules (whose locs get "body" in front).

// DecodeBond decodes and validates data as the body of POST /bonds: the same
// rules, for bonds that come from elsewhere (import files). Its error is a
// KindInvalid *bond.Error whose problems' locs start with "body".
func DecodeBond(data []byte) (bond.Bond, error) { return decodeBond(data) }

// decodeBond decodes and validates the body of POST /bonds.
func decodeBond(data []byte) (bond.Bond, error) {
	var b bond.Bond
	d, err := newObjectDecoder(data)
	if err != nil {
		return b, err
	}
	d.str(bond.BondID.Of(&b), bond.BondID.Name, true)
	for _, f := range bond.BondFields {
		d.str(f.Of(&b), f.Name, !f.Optional)
	}
	b.Subscribers, _ = d.subscribers()
	return b, d.finish(b.Validate)
}

// decodeUpdate decodes and validates the body of PUT /bonds/{id}. A bond_id
// in the body must equal the path's id.
func decodeUpdate(data []byte, pathID string) (bond.Update, error) {
	var u bond.Update
	d, err := newObjectDecoder(data)
	if err != nil {
		return u, err
	}
	var bodyID string
	if d.str(&bodyID, bond.BondID.Name, false) && bodyID != pathID {
		d.problem(bond.Problem{Loc: []string{"body", bond.BondID.Name}, Type: "value_error.bond_id_mismatch",
			Msg: "bond_id in the body differs from the path"})
	}
	for _, f := range bond.BondFields {
		*f.InUpdate(&u) = d.optStr(f.Name)
	}
	if subs, ok := d.subscribers(); ok {
		if subs == nil {
			subs = map[string]bond.Subscriber{}
		}
		u.Subscribers = &subs
	}
	return u, d.finish(u.Validate)
}

// decodeSubscriber decodes and validates the body of POST
// /bonds/{id}/subscribers.
func decodeSubscriber(data []byte) (bond.Subscriber, error) {
	var s bond.Subscriber
	d, err := newObjectDecoder(data)
	if err != nil {
		return s, err
	}
	d.subscriber(&s)
	return s, d.finish(func() []bond.Problem { return s.Validate() })
}

// objectDecoder reads one JSON object field by field, collecting problems.
type objectDecoder struct {
	loc      []string
	fields   map[string]json.RawMessage
	seen     map[string]bool
	refused  bool            // the object was refused whole (too many members): no field problems
	problems []bond.Problem  // at most MaxProblems: a 422 lists no more
	omitted  int             // problems found past MaxProblems
	badLocs  map[string]bool // locs with a type problem: no value rules there
}

func newObjectDecoder(data []byte) (*objectDecoder, error) {
	d := &objectDecoder{loc: []string{"body"}}
	if err := d.object(data); err != nil {
		return nil, err
	}
	if d.problems != nil {
		return nil, d.invalid()
	}
	return d, nil
}

// invalidUTF8At returns the offset of the first byte of data that is not
// part of valid UTF-8.
func invalidUTF8At(data []byte) int {
	at := 0
	for at < len(data) {
		r, size := utf8.DecodeRune(data[at:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		at += size
	}
	return at
}

// errInvalidUTF8 stands for a body that is not UTF-8, which is refused
// before JSON decoding.
var errInvalidUTF8 = errors.New("invalid UTF-8")

// loneSurrogateAt returns the offset of the first \u escape in data that
// names a UTF-16 surrogate outside a high-low pair (such as "\ud800"), or
// -1. encoding/json decodes one as U+FFFD: a silent change of the data (RFC
// 8259 section 8.2 leaves such strings' meaning unpredictable). Outside
// strings valid JSON has no backslash, so no string state is needed.
func loneSurrogateAt(data []byte) int {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // an escape of one character: skip it, it may be a backslash
			continue
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xdc00: // high: a low must follow
			if lo, ok := hex4(i + 6); ok && lo >= 0xdc00 && lo <= 0xdfff {
				i += 11
				continue
			}
			return i
		case utf16.IsSurrogate(r): // a low one alone
			return i
		}
		i += 5
	}
	return -1
}

// object parses data as a JSON object into d.fields, in one pass: a value
// that is valid JSON but not an object is a type problem, anything else that
// does not parse is malformed.
func (d *objectDecoder) object(data []byte) error {
	d.seen = map[string]bool{}
	err := errInvalidUTF8
	lone := loneSurrogateAt(data)
	members := 0
	if utf8.Valid(data) && lone < 0 {
		members = memberCount(data)
		if members > maxObjectMembers && json.Valid(data) {
			// Decoding and listing a hundred thousand unknown fields would
			// cost a hundred times the body: one problem says it all.
			d.refused = true
			d.markBad(d.loc)
			d.problem(bond.Problem{Loc: slices.Clone(d.loc), Type: "value_error.too_many_members",
				Msg: fmt.Sprintf("an object of this request has at most %d members", maxObjectMembers)})
			d.fields = map[string]json.RawMessage{}
			return nil
		}
		err = json.Unmarshal(data, &d.fields)
	}
	var te *json.UnmarshalTypeError
	switch {
	case err == nil && d.fields != nil:
		if members != len(d.fields) {
			// encoding/json keeps the last of two equal names: refuse the
			// ambiguity rather than drop a value (RFC 8259 §4).
			d.problem(bond.Problem{Loc: append(slices.Clone(d.loc), repeatedName(data)), Msg: "duplicate key", Type: "value_error.duplicate_key"})
		}
		return nil
	case err == nil, errors.As(err, &te): // null, or not an object
		d.typeProblem(d.loc, "value is not a valid dict", "type_error.dict", bytes.TrimSpace(data))
		return nil
	}
	msg := "malformed JSON"
	var se *json.SyntaxError
	if !utf8.Valid(data) {
		// encoding/json would put U+FFFD in place of the bad bytes: a silent
		// change of the data. JSON is UTF-8 (RFC 8259 §8.1).
		msg = fmt.Sprintf("malformed JSON at byte %d: invalid UTF-8 (RFC 8259 section 8.1: JSON text is UTF-8)", invalidUTF8At(data))
	} else if lone >= 0 {
		msg = fmt.Sprintf("malformed JSON at byte %d: a \\u escape of a lone UTF-16 surrogate, which is no character (RFC 8259 section 8.2)", lone)
	} else if len(bytes.TrimSpace(data)) == 0 {
		msg = "the request body is empty"
	} else if errors.As(err, &se) {
		msg = fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	return bond.Invalid(bond.Problem{Loc: []string{"body"}, Msg: msg, Type: "value_error.jsondecode"})
}

// repeatedName returns the first member name that occurs twice in the JSON
// object data (valid JSON), looking at its own members only (nested objects
// are checked when they are decoded). The caller calls it only when data has
// more members than the map it decoded into has entries, so the common case
// allocates nothing.
func repeatedName(data []byte) string {
	seen := map[string]struct{}{}
	dup := ""
	members(data, func(raw []byte) bool {
		name := decodedName(raw)
		if _, ok := seen[name]; ok {
			dup = name
			return false
		}
		seen[name] = struct{}{}
		return true
	})
	return dup
}

// maxObjectMembers bounds the members of any object of a request body (a
// bond has six fields, a subscriber three; the subscribers map has its own
// bound, bond.MaxSubscribers).
const maxObjectMembers = 64

// memberCount returns the number of members of the JSON object data (valid
// JSON), without allocating.
func memberCount(data []byte) int {
	n := 0
	members(data, func([]byte) bool { n++; return true })
	return n
}

// decodedName returns a member name as JSON decodes it (raw is its quoted
// form, escapes included).
func decodedName(raw []byte) string {
	name := string(raw[1 : len(raw)-1])
	if strings.IndexByte(name, '\\') >= 0 {
		_ = json.Unmarshal(raw, &name)
	}
	return name
}

// members calls f with the quoted name of each member of the JSON object
// data (valid JSON, as the caller has decoded it), until f returns false.
func members(data []byte, f func(name []byte) bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return
	}
	for i++; i < len(data); {
		if i = skipSpace(data, i); i >= len(data) {
			return
		}
		switch data[i] {
		case '}':
			return
		case ',':
			i++
			continue
		}
		end := skipString(data, i)
		if !f(data[i:end]) {
			return
		}
		i = skipSpace(data, end) + 1 // the colon
		i = skipValue(data, skipSpace(data, i))
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just after the JSON string starting at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index just after the JSON value starting at i.
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			i = skipString(data, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// problem records p, or only counts it once MaxProblems are recorded, so
// that a body with a million mistakes costs no more than a hundred.
func (d *objectDecoder) problem(p bond.Problem) {
	if len(d.problems) < MaxProblems {
		d.problems = append(d.problems, p)
		return
	}
	d.omitted++
}

// full reports whether problem would only count the next problem.
func (d *objectDecoder) full() bool { return len(d.problems) >= MaxProblems }

// invalid is the 422 of the problems found.
func (d *objectDecoder) invalid() *bond.Error {
	e := bond.Invalid(d.problems...)
	e.Omitted = d.omitted
	return e
}

func (d *objectDecoder) typeProblem(loc []string, msg, typ string, raw json.RawMessage) {
	if string(raw) == "null" {
		msg, typ = "none is not an allowed value", "type_error.none.not_allowed"
	}
	d.markBad(loc)
	d.problem(bond.Problem{Loc: slices.Clone(loc), Msg: msg, Type: typ})
}

func (d *objectDecoder) markBad(loc []string) {
	if d.badLocs == nil {
		d.badLocs = map[string]bool{}
	}
	d.badLocs[strings.Join(loc, "\x00")] = true
}

// underBad reports whether loc is at or below a loc with a type problem.
func (d *objectDecoder) underBad(loc []string) bool {
	for i := range loc {
		if d.badLocs[strings.Join(loc[:i+1], "\x00")] {
			return true
		}
	}
	return false
}

// str reads a string field into dst and reports whether it was present.
func (d *objectDecoder) str(dst *string, name string, required bool) bool {
	raw, ok := d.take(name)
	if !ok {
		if required && !d.refused {
			loc := append(slices.Clone(d.loc), name)
			d.markBad(loc)
			d.problem(bond.Problem{Loc: loc, Msg: "field required", Type: "value_error.missing"})
		}
		return false
	}
	if v, ok := plainString(raw); ok {
		*dst = v
		return true
	}
	if raw[0] != '"' || json.Unmarshal(raw, dst) != nil {
		d.typeProblem(append(slices.Clone(d.loc), name), "str type expected", "type_error.str", raw)
		return false
	}
	return true
}

// plainString returns the value of a JSON string without escapes, in valid
// UTF-8, without decoding it again (the common case); ok is false for
// anything else, which json.Unmarshal then handles.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') >= 0 || !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

func (d *objectDecoder) optStr(name string) *string {
	var v string
	if d.str(&v, name, false) {
		return &v
	}
	return nil
}

// subscribers reads the optional "subscribers" map.
func (d *objectDecoder) subscribers() (map[string]bond.Subscriber, bool) {
	raw, ok := d.take(bond.SubscribersName)
	if !ok {
		return nil, false
	}
	loc := append(slices.Clone(d.loc), bond.SubscribersName)
	n := memberCount(raw)
	if raw[0] == '{' && n > bond.MaxSubscribers {
		// The rule's own problem, before decoding a map it would refuse.
		d.markBad(loc)
		for _, p := range at(bond.ErrTooManySubscribers().Problems, loc...) {
			d.problem(p)
		}
		return nil, false
	}
	var entries map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &entries) != nil {
		d.typeProblem(loc, "value is not a valid dict", "type_error.dict", raw)
		return nil, false
	}
	if n != len(entries) {
		d.problem(bond.Problem{Loc: append(slices.Clone(loc), repeatedName(raw)), Msg: "duplicate key", Type: "value_error.duplicate_key"})
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	subs := make(map[string]bond.Subscriber, len(entries))
	for _, k := range keys {
		sub := &objectDecoder{loc: append(slices.Clone(loc), k)}
		if raw := entries[k]; raw[0] != '{' {
			sub.typeProblem(sub.loc, "value is not a valid dict", "type_error.dict", raw)
		} else if err := sub.object(raw); err != nil {
			sub.problem(bond.Problem{Loc: sub.loc, Msg: "value is not a valid dict", Type: "type_error.dict"})
		} else {
			var s bond.Subscriber
			sub.subscriber(&s)
			sub.extra()
			subs[k] = s
		}
		for _, p := range sub.problems {
			d.problem(p)
		}
		d.omitted += sub.omitted
		for loc := range sub.badLocs {
			d.markBad(strings.Split(loc, "\x00"))
		}
	}
	return subs, true
}

func (d *objectDecoder) subscriber(s *bond.Subscriber) {
	for _, f := range bond.SubscriberFields {
		d.str(f.Of(s), f.Name, !f.Optional)
	}
}

// take returns the raw value of a field and marks it as known.
func (d *objectDecoder) take(name string) (json.RawMessage, bool) {
	raw, ok := d.fields[name]
	if ok {
		d.seen[name] = true
	}
	return raw, ok
}

// extra reports the fields no one took.
func (d *objectDecoder) extra() {
	var names []string
	for k := range d.fields {
		if !d.seen[k] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for i, k := range names {
		if d.full() {
			d.omitted += len(names) - i
			return
		}
		d.problem(bond.Problem{Loc: append(slices.Clone(d.loc), k), Msg: "extra fields not permitted", Type: "value_error.extra"})
	}
}

// finish adds the value rules, whose locs are relative to the body (except
// where a value had the wrong type, so one mistake is not reported twice),
// and returns all problems as one error.
func (d *objectDecoder) finish(validate func() []bond.Problem) error {
	d.extra()
	for _, p := range at(validate(), "body") {
		if !d.underBad(p.Loc) {
			d.problem(p)
		}
	}
	if len(d.problems) > 0 {
		return d.invalid()
	}
	return nil
}
