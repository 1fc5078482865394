package bond_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

func TestFilter_Match(t *testing.T) {
	b := bond.Bond{HostAccountID: "H", SubAccountID: "S", HostCostCenter: "hc", SubCostCenter: "sc"}
	for _, tc := range []struct {
		f    bond.Filter
		want bool
	}{
		{bond.Filter{}, true},
		{bond.Filter{ByHost: true, Account: "H"}, true},
		{bond.Filter{ByHost: true, Account: "S"}, false},
		{bond.Filter{ByHost: false, Account: "S", CostCenter: "sc"}, true},
		{bond.Filter{ByHost: false, Account: "S", CostCenter: "hc"}, false},
		{bond.Filter{ByHost: true, CostCenter: "hc"}, true},
	} {
		assert.Equal(t, tc.want, tc.f.Match(b), "%+v", tc.f)
	}
}

func TestKindOf(t *testing.T) {
	assert.Equal(t, bond.KindNotFound, bond.KindOf(bond.ErrNotFound("x")))
	assert.Equal(t, bond.KindInternal, bond.KindOf(assert.AnError))
	assert.Equal(t, "Bond X not found. Cannot add subscriber S.", bond.ErrSubscriberAddNotFound("X", "S").Message)
	assert.Equal(t, "A bond already exists for host account H and subscriber account S: bond_id=Y", bond.ErrPairTaken("H", "S", "Y").Message)
	assert.Equal(t, "Bond already exists: bond_id=X", bond.ErrExists("X").Message)
	u := bond.Unavailable("get", assert.AnError)
	assert.NotContains(t, u.Message, assert.AnError.Error(), "the cause is not shown to clients")
	assert.ErrorIs(t, u, assert.AnError)
}

// Every value rule, with its problem type and loc.
func TestValidate_Rules(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "value_error.any_str.min_length",
		strings.Repeat("x", 129): "value_error.any_str.max_length",
		"a\u0007b":               "value_error.str.control_characters",
		" a":                     "value_error.str.whitespace",
		".":                      "value_error.str.dot_segment",
		"..":                     "value_error.str.dot_segment",
		"a\xffb":                 "value_error.str.utf8",
		strings.Repeat("😀", 128): "",
		"ops[eu]":                "",
	} {
		ps := bond.ValidateID(in)
		if want == "" {
			assert.Empty(t, ps, "%q", in)
			continue
		}
		require.NotEmpty(t, ps, "%q", in)
		assert.Equal(t, want, ps[0].Type, "%q", in)
		assert.Empty(t, ps[0].Loc, "an identifier on its own has no loc")
	}
	assert.Equal(t, "value_error.str.slash", bond.ValidateBondID("a/b")[0].Type)
	s := bond.Subscriber{SID: "b", Name: "", Email: "B <b@example.com>"}
	var types []string
	for _, p := range s.Validate("subscribers", "b") {
		types = append(types, strings.Join(p.Loc, ".")+" "+p.Type)
	}
	assert.Equal(t, []string{"subscribers.b.name value_error.any_str.min_length", "subscribers.b.email value_error.email"}, types)
}

// A subscriber's name and email refuse control characters (C0, DEL, C1), as
// identifiers do; other characters of any category are kept.
func TestValidate_SubscriberControlCharacters(t *testing.T) {
	for _, c := range []string{"\x00", "\x01", "\t", "\n", "\x1f", "\x7f", "\u0085", "\u009f"} {
		s := bond.Subscriber{SID: "b", Name: "Bob" + c + "Smith", Email: "b" + c + "@example.com"}
		var types []string
		for _, p := range s.Validate() {
			types = append(types, strings.Join(p.Loc, ".")+" "+p.Type)
		}
		assert.Equal(t, []string{"name value_error.str.control_characters", "email value_error.str.control_characters"}, types, "%q", c)
	}
	ok := bond.Subscriber{SID: "b", Name: "Zoë <&> \u2028 \u200b \U0001F600", Email: "b@example.com"}
	assert.Empty(t, ok.Validate())
}

func TestErrors(t *testing.T) {
	_, err := bond.ListPage(t.Context(), nil, bond.Filter{}, 0, "")
	assert.Equal(t, bond.KindInvalid, bond.KindOf(err), "limit 0")
	assert.Equal(t, "not_found: Bond X not found.", bond.ErrNotFound("X").Error())
	assert.Contains(t, bond.Invalid(bond.Problem{Loc: []string{"a"}, Msg: "m", Type: "t"}).Error(), "1 validation problems")
	assert.Equal(t, bond.KindUnreadable, bond.KindOf(bond.ErrUnreadable("X", "why")))
	assert.Equal(t, "Subscriber s not found in bond X.", bond.ErrSubscriberNotFound("X", "s").Message)
	for k := bond.KindInternal; k <= bond.KindUnreadable; k++ {
		assert.NotEmpty(t, k.String())
	}
}
