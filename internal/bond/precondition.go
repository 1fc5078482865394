package bond

import "slices"

// AnyVersion, passed as the expected version of a write, makes it
// unconditional.
const AnyVersion int64 = -1

// Versions is a set of bond versions a precondition names: Any stands for
// every version of an existing bond (RFC 9110's "*").
type Versions struct {
	Any  bool
	List []int64
}

func (v Versions) has(version int64) bool { return v.Any || slices.Contains(v.List, version) }

// Precondition is what a request requires of the stored bond before it acts,
// in domain terms: the HTTP layer builds it from If-Match and If-None-Match
// (RFC 9110 §13.1.1, §13.1.2), whose entity tags name versions.
type Precondition struct {
	// IfMatch, when set, requires the bond to exist at one of the versions.
	IfMatch *Versions
	// IfNoneMatch, when set, requires the bond not to be at one of the
	// versions; with Any, not to exist at all.
	IfNoneMatch *Versions
}

// IfVersion returns the precondition "the bond exists at version v", or
// none for AnyVersion.
func IfVersion(v int64) Precondition {
	if v == AnyVersion {
		return Precondition{}
	}
	return Precondition{IfMatch: &Versions{List: []int64{v}}}
}

// Check evaluates p against the stored bond id, cur (nil when it does not
// exist), in the order of RFC 9110 §13.2.2: If-Match first, then
// If-None-Match. It returns nil when p holds, ErrVersionMismatch when the
// If-Match part fails, and ErrNotModified when the If-None-Match part fails
// (for a read that means "you have it already"; for a write it is a failed
// precondition like the other).
func (p Precondition) Check(id string, cur *Bond) error {
	if p.IfMatch != nil && (cur == nil || !p.IfMatch.has(cur.Version)) {
		return ErrVersionMismatch(id)
	}
	if p.IfNoneMatch != nil && cur != nil && p.IfNoneMatch.has(cur.Version) {
		return ErrNotModified(id)
	}
	return nil
}
