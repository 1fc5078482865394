package bond

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"
)

// TestValueProblems_Order: the checks of a bond, which build locs only for
// the problems they find, give the problems a bond's rules define in the
// order they define: each field by declaration, then the subscribers by key,
// each at its full loc. The oracle builds every loc up front, as a reading
// of the rules.
func TestValueProblems_Order(t *testing.T) {
	oracle := func(b Bond) []Problem {
		at := func(ps []Problem, loc ...string) []Problem {
			for i := range ps {
				ps[i].Loc = slices.Concat(loc, ps[i].Loc)
			}
			return ps
		}
		ps := at(BondID.Check(b.BondID), BondID.Name)
		for _, f := range BondFields {
			ps = append(ps, at(f.Check(f.Get(b)), f.Name)...)
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range b.Subscribers {
				if !yield(k) {
					return
				}
			}
		}) {
			s := b.Subscribers[k]
			for _, f := range SubscriberFields {
				ps = append(ps, at(f.Check(f.Get(s)), SubscribersName, k, f.Name)...)
			}
			if s.SID != k {
				ps = append(ps, Problem{Loc: []string{SubscribersName, k, "sid"}, Type: "value_error.sid_mismatch",
					Msg: "the subscriber's sid must equal its key in the subscribers map"})
			}
		}
		return ps
	}
	value := rapid.SampledFrom([]string{"", "ok", "a b", " a", ".", "a/b", "a\x01", "a@b.example", "Bob <b@x.example>", "\xff"})
	rapid.Check(t, func(t *rapid.T) {
		b := Bond{BondID: value.Draw(t, "bond_id"), Subscribers: map[string]Subscriber{}}
		for _, f := range BondFields {
			f.Set(&b, value.Draw(t, f.Name))
		}
		for i := range rapid.IntRange(0, 4).Draw(t, "subscribers") {
			var s Subscriber
			for _, f := range SubscriberFields {
				s.SID = "ok" // mostly equal to its key
				f.Set(&s, value.Draw(t, f.Name))
			}
			k := rapid.SampledFrom([]string{"ok", s.SID, string(rune('a' + i))}).Draw(t, "key")
			b.Subscribers[k] = s
		}
		want := oracle(b)
		if got := b.valueProblems(); !assert.Equal(t, want, got) {
			t.FailNow()
		}
	})
}

// TestCheckStored_NoAllocations: checking a bond without problems, as every
// read does, allocates nothing.
func TestCheckStored_NoAllocations(t *testing.T) {
	b := Bond{BondID: "FOO", HostAccountID: "H1", SubAccountID: "S1", HostCostCenter: "olive", SubCostCenter: "blue", Version: 3,
		Subscribers: map[string]Subscriber{
			"a": {SID: "a", Name: "Ann", Email: "ann@example.com"},
			"b": {SID: "b", Name: "Bob", Email: "bob.smith+x@mail.example.org"},
		}}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if err := CheckStored(b); err != nil {
			t.Fatal(err)
		}
	}))
}
