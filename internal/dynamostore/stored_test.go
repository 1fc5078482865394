package dynamostore_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
)

// An item written by another tool is held to the rules of a request: one
// that lacks an attribute, has one of the wrong type, or a value the rules
// refuse is unreadable (a 409 naming the bond and the attribute), never
// served with a blank, never written over by any write path.
func TestStore_StoredItemsAreChecked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, tc := range map[string]struct {
		edit func(item map[string]any)
		what string
	}{
		"no sub_cost_center (the issue's case)": {func(it map[string]any) { delete(it, "sub_cost_center") }, "sub_cost_center: missing"},
		"a cost center with surrounding space":  {func(it map[string]any) { it["sub_cost_center"] = " teal" }, "sub_cost_center: must not start or end with whitespace"},
		"a name of the wrong type": {func(it map[string]any) {
			it["subscribers"] = map[string]any{"bob": map[string]any{"sid": "bob", "name": 7, "email": "bob@example.com"}}
		}, "subscribers.bob.name: not a string"},
		"an invalid email": {func(it map[string]any) {
			it["subscribers"] = map[string]any{"bob": map[string]any{"sid": "bob", "name": "Bob", "email": "bob-at-example"}}
		}, "subscribers.bob.email: value is not a valid email address"},
		"a subscriber keyed under another sid": {func(it map[string]any) {
			it["subscribers"] = map[string]any{"bob": map[string]any{"sid": "ann", "name": "Ann", "email": "ann@example.com"}}
		}, "subscribers.bob.sid: the subscriber's sid must equal its key in the subscribers map"},
		"a subscriber attribute the service does not know": {func(it map[string]any) {
			it["subscribers"] = map[string]any{"bob": map[string]any{"sid": "bob", "name": "Bob", "email": "bob@example.com", "phone": "123"}}
		}, "subscribers.bob.phone: an attribute the service does not know"},
		"a subscriber without a name": {func(it map[string]any) {
			it["subscribers"] = map[string]any{"bob": map[string]any{"sid": "bob", "email": "bob@example.com"}}
		}, "subscribers.bob.name: missing"},
		"a version out of range": {func(it map[string]any) { it["version"] = 1 << 60 }, "version: out of range"},
		"a negative version":     {func(it map[string]any) { it["version"] = -1 }, "version: out of range"},
	} {
		t.Run(name, func(t *testing.T) {
			id := "X" + name
			item := legacy(id, "H-"+name, "S")
			tc.edit(item)
			f.putRaw(t, item)
			before := f.raw(t, id)

			ctx := t.Context()
			_, err := bond.Get(ctx, f.store, id)
			requireKind(t, err, bond.KindUnreadable)
			assert.Contains(t, err.Error(), "Bond "+id+" is stored in a form this service cannot read ("+tc.what+")")
			assert.NotContains(t, err.Error(), "bob-at-example", "never the value")
			_, err = bond.UpdateBond(ctx, f.store, id, bond.Update{HostCostCenter: aws.String("red")}, bond.Precondition{})
			requireKind(t, err, bond.KindUnreadable)
			err = bond.Delete(ctx, f.store, id, bond.Precondition{})
			requireKind(t, err, bond.KindUnreadable)
			_, err = bond.ListPage(ctx, f.store, bond.Filter{ByHost: true, Account: "H-" + name}, 10, "")
			requireKind(t, err, bond.KindUnreadable)
			assert.Equal(t, before, f.raw(t, id), "never written over")

			_, err = bond.PutSubscriber(ctx, f.store, id, bond.Subscriber{SID: "c", Name: "C", Email: "c@example.com"}, bond.Precondition{})
			requireKind(t, err, bond.KindUnreadable)
			_, err = bond.RemoveSubscriber(ctx, f.store, id, "rharper", bond.IfVersion(0))
			requireKind(t, err, bond.KindUnreadable)
			assert.Equal(t, before, f.raw(t, id), "never written over by a subscriber write")
		})
	}
}

// raw returns the stored item with bond_id id, as DynamoDB holds it.
func (f fixture) raw(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &f.table,
		Key: map[string]types.AttributeValue{"bond_id": &types.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	return out.Item
}

// Generated damage to a stored item (an attribute removed, or replaced by a
// value of another type, at any depth) is either still a valid bond or
// unreadable: never a bond with a blank field, never a crash.
func TestDecode_GeneratedDamage(t *testing.T) {
	t.Parallel()
	valid, err := attributevalue.MarshalMap(legacy("D", "H", "S"))
	require.NoError(t, err)
	others := []types.AttributeValue{
		&types.AttributeValueMemberS{Value: ""}, &types.AttributeValueMemberS{Value: "x"},
		&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberBOOL{Value: true},
		&types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberL{},
		&types.AttributeValueMemberM{}, &types.AttributeValueMemberSS{Value: []string{"a"}},
	}
	rapid.Check(t, func(rt *rapid.T) {
		item := deepCopy(&types.AttributeValueMemberM{Value: valid}).(*types.AttributeValueMemberM).Value
		m := item
		// Walk down to a random map (the item, the subscribers, a subscriber).
		for rapid.Bool().Draw(rt, "deeper") {
			var nested []string
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if _, ok := m[k].(*types.AttributeValueMemberM); ok {
					nested = append(nested, k)
				}
			}
			if len(nested) == 0 {
				break
			}
			m = m[rapid.SampledFrom(nested).Draw(rt, "into")].(*types.AttributeValueMemberM).Value
		}
		k := rapid.SampledFrom(slices.Sorted(maps.Keys(m))).Draw(rt, "attribute")
		if rapid.Bool().Draw(rt, "remove") {
			delete(m, k)
		} else {
			m[k] = rapid.SampledFrom(others).Draw(rt, "value")
		}
		b, ok, err := dynamostore.DecodeBond(item)
		if err != nil {
			require.Equal(rt, bond.KindUnreadable, bond.KindOf(err), "%v", err)
			return
		}
		if ok {
			require.NoError(rt, bond.CheckStored(b), "a decoded bond holds to the rules")
			for _, fd := range bond.BondFields {
				require.NotEmpty(rt, fd.Get(b), fd.Name)
			}
		}
	})
}

func deepCopy(av types.AttributeValue) types.AttributeValue {
	switch v := av.(type) {
	case *types.AttributeValueMemberM:
		m := make(map[string]types.AttributeValue, len(v.Value))
		for k, e := range v.Value {
			m[k] = deepCopy(e)
		}
		return &types.AttributeValueMemberM{Value: m}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = deepCopy(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	}
	return av
}

// A gone item another tool left unreadable makes the id unreadable (409),
// at once: it used to count as the largest version, so that every create of
// the id lost its race until the deadline, hammering the table.
func TestStore_UnreadableGoneItem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, item := range map[string]map[string]any{
		"a version that is not a number": {"bond_id": "gone/GQ1", "gone_bond": "GQ1", "gone_version": "x"},
		"a version out of range":         {"bond_id": "gone/GQ2", "gone_bond": "GQ2", "gone_version": 9007199254740999},
		"a revision out of range":        {"bond_id": "gone/GQ3", "gone_bond": "GQ3", "gone_version": 3, "gone_revision": -2},
	} {
		t.Run(name, func(t *testing.T) {
			f.putRaw(t, item)
			id := item["gone_bond"].(string)
			_, err := bond.Create(t.Context(), f.store, newBond(id, "H-"+id, "S"))
			requireKind(t, err, bond.KindUnreadable) // it was a 503 after rounds of lost races
			assert.Contains(t, err.Error(), "gone/"+id)
			_, err = bond.Get(t.Context(), f.store, id)
			requireKind(t, err, bond.KindUnreadable)
		})
	}
}

// A bond whose revision counter is behind its kept history (the bond table
// restored from a backup without the revisions table) is unreadable on its
// next write, which would have replaced a kept revision (attacker's review).
func TestStore_RevisionNeverReplaced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	_, err := bond.Create(ctx, f.store, newBond("RC", "H-RC", "S"))
	require.NoError(t, err)
	_, err = bond.UpdateBond(ctx, f.store, "RC", bond.Update{SubCostCenter: aws.String("v2")}, bond.Precondition{})
	require.NoError(t, err)
	// Wind the counter back, as a restore of the bond table alone would.
	_, err = f.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &f.table,
		Key:                       map[string]types.AttributeValue{"bond_id": &types.AttributeValueMemberS{Value: "RC"}},
		UpdateExpression:          aws.String("SET revision = :r"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberN{Value: "1"}}})
	require.NoError(t, err)
	_, err = bond.UpdateBond(ctx, f.store, "RC", bond.Update{SubCostCenter: aws.String("v3")}, bond.Precondition{})
	requireKind(t, err, bond.KindUnreadable)
	assert.Contains(t, err.Error(), "revision: 2 is already kept")
	r, err := bond.GetRevision(ctx, f.store, "RC", 2)
	require.NoError(t, err)
	assert.Equal(t, "v2", r.Bond.SubCostCenter, "the kept revision is unchanged")
}
