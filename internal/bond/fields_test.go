package bond_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// TestFields checks the declaration against the types: every string field of
// Bond, Update and Subscriber is declared (a field added to a struct but not
// to the lists fails here, not in a request), each declared accessor reaches
// its own struct field, and the JSON member names of a representation are
// the declared names.
func TestFields(t *testing.T) {
	jsonNames := func(v any) []string {
		var names []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			if tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); tag != "-" {
				names = append(names, tag)
			}
		}
		return names
	}
	stringFields := func(v any, elem bool) int {
		n := 0
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			ft := rt.Field(i).Type
			if elem && ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.String {
				n++
			}
		}
		return n
	}

	want := []string{bond.BondID.Name}
	for _, f := range bond.BondFields {
		want = append(want, f.Name)
	}
	want = append(want, bond.SubscribersName)
	assert.Equal(t, want, jsonNames(bond.Bond{}), "Bond's JSON members are the declared fields")
	assert.Equal(t, 1+len(bond.BondFields), stringFields(bond.Bond{}, false), "every string field of Bond is declared")
	assert.Equal(t, len(bond.BondFields), stringFields(bond.Update{}, true), "every field of Update is declared")

	var subNames []string
	for _, f := range bond.SubscriberFields {
		subNames = append(subNames, f.Name)
	}
	assert.Equal(t, subNames, jsonNames(bond.Subscriber{}), "Subscriber's JSON members are the declared fields")
	assert.Equal(t, len(bond.SubscriberFields), stringFields(bond.Subscriber{}, false), "every string field of Subscriber is declared")

	// Each accessor reaches a field of its own: setting one through Of
	// changes exactly that field, and InUpdate sets what Apply then copies.
	for i, f := range append([]bond.Field[bond.Bond]{bond.BondID}, bond.BondFields...) {
		var b bond.Bond
		*f.Of(&b) = "x"
		rb := reflect.ValueOf(b)
		require.Equal(t, "x", rb.Field(i).String(), "%s reaches field %d", f.Name, i)
		for j := range rb.NumField() {
			if j != i && rb.Field(j).Kind() == reflect.String {
				require.Empty(t, rb.Field(j).String(), "%s touches only its field", f.Name)
			}
		}
		if f.InUpdate != nil {
			v := "y"
			var u bond.Update
			*f.InUpdate(&u) = &v
			assert.Equal(t, "y", f.Get(u.Apply(b)), "%s through an update", f.Name)
		}
	}
	for i, f := range bond.SubscriberFields {
		var s bond.Subscriber
		*f.Of(&s) = "x"
		require.Equal(t, "x", reflect.ValueOf(s).Field(i).String(), "%s reaches field %d", f.Name, i)
	}

	// Max is the bound the rule applies.
	for _, f := range append([]bond.Field[bond.Bond]{bond.BondID}, bond.BondFields...) {
		assert.Empty(t, f.Check(strings.Repeat("a", f.Max)), "%s takes %d characters", f.Name, f.Max)
		assert.NotEmpty(t, f.Check(strings.Repeat("a", f.Max+1)), "%s refuses %d characters", f.Name, f.Max+1)
	}
}
