package bond

import "unsafe"

// The declaration of a bond's fields. Every part of the service that handles
// a bond field by field reads these two lists: the request decoder, change
// detection (SameContent), the partial update (Update.Apply, Update.Validate),
// the value rules (Validate), the size bound (ItemSize), the
// DynamoDB item and its update expression, the bolt record and the seed input.
// The JSON members of a representation come from the struct tags of Bond and
// Subscriber; TestFields checks that they name exactly these fields, and
// that every string field of Bond, Update and Subscriber is declared here, so
// a field left out fails a test, never a request.
//
// Adding a field: add it to the struct (Bond and Update, or Subscriber), add
// one entry below with its rule (Optional for a field that older items and
// clients lack), and document it in api/openapi.yaml.

// Field is one string field of a value of type T (Bond or Subscriber).
type Field[T any] struct {
	// Name is the field's JSON member name, which is also its DynamoDB
	// attribute name.
	Name string
	// Of returns the field in v.
	Of func(v *T) *string
	// Max is the longest value the field takes, in characters.
	Max int
	// Optional fields may be absent from a request body and from a stored
	// item; absent reads as "" (which Check must then accept).
	Optional bool
	// Check returns the problems of a value of the field, at loc.
	Check func(v string, loc ...string) []Problem
	// InUpdate returns the field in an Update (bond fields only; nil for
	// the key, which an update cannot change).
	InUpdate func(u *Update) **string

	// off is where Of finds the field in a T, set by declare; declared
	// says it is set.
	off      uintptr
	declared bool
}

// BondID is the key field of a bond: the DynamoDB partition key, the bbolt
// key, the last segment of /bonds/{bond_id}. It is not in BondFields.
var BondID = declare(Field[Bond]{Name: "bond_id", Of: func(b *Bond) *string { return &b.BondID }, Max: MaxIDLen, Check: checkBondID})

// BondFields are the string attributes of a bond besides its id, in the
// order of its representation. Each is required and may be changed by an
// update.
var BondFields = declareAll([]Field[Bond]{
	{Name: "host_account_id", Max: MaxIDLen, Check: checkID,
		Of:       func(b *Bond) *string { return &b.HostAccountID },
		InUpdate: func(u *Update) **string { return &u.HostAccountID }},
	{Name: "sub_account_id", Max: MaxIDLen, Check: checkID,
		Of:       func(b *Bond) *string { return &b.SubAccountID },
		InUpdate: func(u *Update) **string { return &u.SubAccountID }},
	{Name: "host_cost_center", Max: MaxIDLen, Check: checkID,
		Of:       func(b *Bond) *string { return &b.HostCostCenter },
		InUpdate: func(u *Update) **string { return &u.HostCostCenter }},
	{Name: "sub_cost_center", Max: MaxIDLen, Check: checkID,
		Of:       func(b *Bond) *string { return &b.SubCostCenter },
		InUpdate: func(u *Update) **string { return &u.SubCostCenter }},
})

// SubscribersName is the name of a bond's subscribers map (JSON member and
// DynamoDB attribute), keyed by sid.
const SubscribersName = "subscribers"

// SubscriberFields are the string fields of a subscriber, each required.
var SubscriberFields = declareAll([]Field[Subscriber]{
	{Name: "sid", Max: MaxIDLen, Check: checkID, Of: func(s *Subscriber) *string { return &s.SID }},
	{Name: "name", Max: MaxNameLen, Check: checkName, Of: func(s *Subscriber) *string { return &s.Name }},
	{Name: "email", Max: MaxEmailLen, Check: checkEmail, Of: func(s *Subscriber) *string { return &s.Email }},
})

// Get returns the field's value in v.
func (f Field[T]) Get(v T) string { return *f.in(&v) }

// Set sets the field in v to s.
func (f Field[T]) Set(v *T, s string) { *f.in(v) = s }

// in returns the field in v, at the offset declare took from Of. Get and
// Set do not call Of: Go's escape analysis assumes that a function value
// keeps every pointer it is given, so each call of Of moves the value it
// reads to the heap, and the checks of every stored bond on each read
// would allocate once per field.
func (f Field[T]) in(v *T) *string {
	if !f.declared {
		panic("bond: the field " + f.Name + " is used but not declared (declare)")
	}
	return (*string)(unsafe.Add(unsafe.Pointer(v), f.off))
}

// declare returns f with the offset of its field in T, taken from Of; it
// panics (at package initialisation) when Of reaches no string inside a T.
func declare[T any](f Field[T]) Field[T] {
	var v T
	off := uintptr(unsafe.Pointer(f.Of(&v))) - uintptr(unsafe.Pointer(&v))
	if off > unsafe.Sizeof(v)-unsafe.Sizeof("") {
		panic("bond: the field " + f.Name + " is not inside its value")
	}
	f.off, f.declared = off, true
	return f
}

// declareAll declares each of fs.
func declareAll[T any](fs []Field[T]) []Field[T] {
	for i := range fs {
		fs[i] = declare(fs[i])
	}
	return fs
}
