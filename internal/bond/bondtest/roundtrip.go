package bondtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// testRoundTrip is a property over every field of bond.BondFields and
// bond.SubscriberFields: a generated bond written through the store reads
// back as written (by Get and in a listing), and an update of any one field
// is seen by the next read, with every other field kept. It fails when a
// store drops a field, keeps a stale one, or changes a value on the way.
func testRoundTrip(t *testing.T, newRepo newRepoFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		repo := newRepo(t)
		ctx := t.Context()
		n := 0
		rapid.Check(t, func(rt *rapid.T) {
			n++
			id := fmt.Sprintf("rt-%d-%s", n, genID().Draw(rt, "id"))
			b := GenBond(id).Draw(rt, "bond")
			created, err := bond.Create(ctx, repo, b)
			require.NoError(rt, err)
			requireStored(ctx, rt, repo, created)

			// One field at a time, each to a new value.
			cur := created
			for _, f := range bond.BondFields {
				v := genID().Filter(func(v string) bool { return v != f.Get(cur) }).Draw(rt, f.Name)
				var u bond.Update
				*f.InUpdate(&u) = &v
				next, err := bond.UpdateBond(ctx, repo, id, u, bond.IfVersion(cur.Version))
				require.NoError(rt, err, "update %s", f.Name)
				want := cur.Clone()
				*f.Of(&want) = v
				want.Version, want.Revision = cur.Version+1, cur.Revision+1
				require.Equal(rt, want, next, "update of %s returned", f.Name)
				requireStored(ctx, rt, repo, want)
				cur = want
			}
			// Each subscriber field, through a put that replaces one subscriber.
			for sid, s := range cur.Subscribers {
				for _, f := range bond.SubscriberFields[1:] { // the sid is the key
					s2 := s
					*f.Of(&s2) = f.Get(GenSubscriber(sid).Draw(rt, f.Name))
					if s2 == s {
						continue
					}
					next, err := bond.PutSubscriber(ctx, repo, id, s2, bond.IfVersion(cur.Version))
					require.NoError(rt, err, "put subscriber %s (%s)", sid, f.Name)
					want := cur.Clone()
					want.Subscribers[sid] = s2
					want.Version, want.Revision = cur.Version+1, cur.Revision+1
					require.Equal(rt, want, next)
					requireStored(ctx, rt, repo, want)
					cur, s = want, s2
				}
				break
			}
			// The subscribers map replaced whole, then a subscriber removed.
			subs := rapid.MapOfN(genID(), rapid.Just(0), 0, 4).Draw(rt, "subscribers")
			m := map[string]bond.Subscriber{}
			for sid := range subs {
				m[sid] = GenSubscriber(sid).Draw(rt, "subscriber "+sid)
			}
			next, err := bond.UpdateBond(ctx, repo, id, bond.Update{Subscribers: &m}, bond.Precondition{})
			require.NoError(rt, err)
			requireStored(ctx, rt, repo, next)
			for sid := range m {
				next, err = bond.RemoveSubscriber(ctx, repo, id, sid, bond.Precondition{})
				require.NoError(rt, err)
				requireStored(ctx, rt, repo, next)
				break
			}
			require.NoError(rt, bond.Delete(ctx, repo, id, bond.Precondition{}))
		})
	})
}

// requireStored checks that Get and a listing by the host account both give
// want exactly.
func requireStored(ctx context.Context, t require.TestingT, repo bond.Repository, want bond.Bond) {
	got, err := bond.Get(ctx, repo, want.BondID)
	require.NoError(t, err)
	require.Equal(t, want, got, "read back")
	page, err := bond.ListPage(ctx, repo, bond.Filter{ByHost: true, Account: want.HostAccountID}, bond.MaxPageLimit, "")
	require.NoError(t, err)
	for _, b := range page.Bonds {
		if b.BondID == want.BondID {
			require.Equal(t, want, b, "listed")
			return
		}
	}
	require.Failf(t, "not listed", "bond %s is not in the listing of its host account", want.BondID)
}

// idRunes are the characters generated identifiers are made of: letters,
// digits, marks, punctuation, symbols and spaces of every script, so a
// store that mangles any of them fails.
var idRunes = rapid.RuneFrom(nil, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs)

// genID generates valid identifiers (bond.ValidateID), up to 24 characters.
func genID() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		return rapid.StringOfN(idRunes, 1, 24, -1).Draw(t, "chars")
	}).Filter(func(v string) bool { return len(bond.ValidateID(v)) == 0 && !strings.Contains(v, "/") })
}

// GenSubscriber generates a valid subscriber with the given sid.
func GenSubscriber(sid string) *rapid.Generator[bond.Subscriber] {
	return rapid.Custom(func(t *rapid.T) bond.Subscriber {
		name := rapid.StringOfN(idRunes, 1, 40, -1).Filter(func(v string) bool {
			return len(bond.Subscriber{SID: "x", Name: v, Email: "a@b.example"}.Validate()) == 0
		}).Draw(t, "name")
		email := rapid.StringMatching(`[a-z0-9][a-z0-9.+_-]{0,15}@[a-z0-9]{1,10}\.example`).Filter(func(v string) bool {
			return len(bond.Subscriber{SID: "x", Name: "n", Email: v}.Validate()) == 0
		}).Draw(t, "email")
		return bond.Subscriber{SID: sid, Name: name, Email: email}
	})
}

// GenBond generates a valid bond with the given id and up to 5 subscribers.
func GenBond(id string) *rapid.Generator[bond.Bond] {
	return rapid.Custom(func(t *rapid.T) bond.Bond {
		b := bond.Bond{BondID: id, Subscribers: map[string]bond.Subscriber{}}
		for _, f := range bond.BondFields {
			*f.Of(&b) = genID().Draw(t, f.Name)
		}
		for _, sid := range rapid.SliceOfNDistinct(genID(), 0, 5, rapid.ID).Draw(t, "sids") {
			b.Subscribers[sid] = GenSubscriber(sid).Draw(t, "subscriber")
		}
		return b
	})
}
