package dynamostore

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// PutSubscriber sets subscribers.<sid> with one conditional UpdateItem, so
// concurrent adds of different subscribers never lose one another. The
// condition holds the bond's existence, If-Match, and the subscriber cap
// (replacing a sid already there is allowed at the cap); on failure the old
// item (ALL_OLD) tells which one broke. A bond written by the original
// without a subscribers map gets the whole map set instead.
//
// The size rule (bond.ItemSize at most bond.MaxItemBytes) needs the bond, but
// a bond with fewer than safeSubscribers subscribers cannot break it whatever
// their values, so the first write is conditional on that count and needs no
// read. A larger bond fails that condition; its old item (ALL_OLD) is then
// measured with the new subscriber, and the write is tried again conditional
// on the measured version, so the size check and the write see the same bond.
func (s *Store) PutSubscriber(ctx context.Context, id string, sub bond.Subscriber, ifVersion int64) (bond.Bond, error) {
	op := "put subscriber into bond " + id
	mode := putMode{}
	for range maxRaces {
		b, old, failed, err := s.putSubscriber(ctx, id, sub, ifVersion, mode)
		if err != nil || !failed {
			return b, err
		}
		switch {
		case old == nil:
			return bond.Bond{}, bond.ErrSubscriberAddNotFound(id, sub.SID)
		case ifVersion != bond.AnyVersion && itemVersion(old) != ifVersion:
			return bond.Bond{}, bond.ErrVersionMismatch(id, ifVersion)
		case !isMap(old[attrSubscribers]):
			mode = putMode{whole: true} // written by the original without a map
			continue
		}
		cur, _, err := decodeBond(old)
		if err != nil {
			return bond.Bond{}, translate(op, err)
		}
		stored, replace := cur.Subscribers[sub.SID]
		if replace && stored == sub {
			return cur, nil // already there as it is (or a retry of our own write)
		}
		if !replace && len(cur.Subscribers) >= bond.MaxSubscribers {
			return bond.Bond{}, bond.ErrTooManySubscribers("body", "subscribers")
		}
		cur.Subscribers[sub.SID] = sub
		if bond.ItemSize(cur) > bond.MaxItemBytes {
			return bond.Bond{}, bond.ErrTooLarge("body")
		}
		mode = putMode{measured: true, version: itemVersion(old)}
	}
	return bond.Bond{}, bond.Unavailable(op, errRace)
}

// changes is the condition that the put changes the bond: the subscriber is
// absent or different. Putting it again as it is fails the condition, and
// PutSubscriber answers with the bond unchanged: so an SDK retry of a put
// whose first attempt was applied (its answer lost) bumps no second version.
func changes(sub bond.Subscriber) expression.ConditionBuilder {
	path := subscriberPath(sub.SID)
	return expression.Or(expression.AttributeNotExists(path), path.NotEqual(expression.Value(subscriberItem(sub))))
}

// putMode says which condition guards the size rule in putSubscriber.
type putMode struct {
	whole    bool  // no subscribers map yet: set the whole map
	measured bool  // the bond at version was measured: condition on it
	version  int64 // the measured version
}

// safeSubscribers is the subscriber count below which one more subscriber
// cannot take a bond past bond.MaxItemBytes, whatever the values (every
// string at its longest, in 4-byte UTF-8).
var safeSubscribers = func() int {
	long := func(n int) string { return strings.Repeat("\U0001F600", n) }
	id := long(bond.MaxIDLen)
	base := bond.ItemSize(bond.Bond{BondID: id, HostAccountID: id, SubAccountID: id, HostCostCenter: id, SubCostCenter: id})
	one := bond.ItemSize(bond.Bond{Subscribers: map[string]bond.Subscriber{
		id: {SID: id, Name: long(bond.MaxNameLen), Email: long(bond.MaxEmailLen)}}}) - bond.ItemSize(bond.Bond{})
	return (bond.MaxItemBytes-base)/one - 1
}()

// putSubscriber runs the UpdateItem of PutSubscriber. failed reports a
// failed condition, with the old item (nil if none).
func (s *Store) putSubscriber(ctx context.Context, id string, sub bond.Subscriber, ifVersion int64, mode putMode) (b bond.Bond, old map[string]types.AttributeValue, failed bool, err error) {
	op := "put subscriber into bond " + id
	subs := expression.Name(attrSubscribers)
	var (
		set  expression.UpdateBuilder
		cond expression.ConditionBuilder
	)
	switch {
	case mode.whole:
		set = expression.Set(subs, expression.Value(map[string]subscriberItem{sub.SID: subscriberItem(sub)}))
		cond = expression.And(exists(), expression.Or(
			expression.AttributeNotExists(subs),
			expression.Not(expression.AttributeType(subs, expression.Map))))
	case mode.measured:
		set = expression.Set(subscriberPath(sub.SID), expression.Value(subscriberItem(sub)))
		cond = expression.And(exists(), expression.AttributeType(subs, expression.Map), changes(sub), versionIs(mode.version))
	default:
		set = expression.Set(subscriberPath(sub.SID), expression.Value(subscriberItem(sub)))
		cond = expression.And(exists(),
			expression.AttributeType(subs, expression.Map),
			changes(sub),
			subs.Size().LessThan(expression.Value(safeSubscribers)))
	}
	item, old, failed, err := s.updateBond(ctx, id, set, cond, ifVersion)
	switch {
	case failed:
		return bond.Bond{}, old, true, nil
	case tooLarge(err):
		return bond.Bond{}, nil, false, bond.ErrTooLarge("body")
	case err != nil:
		return bond.Bond{}, nil, false, translate(op, err)
	}
	b, _, err = decodeBond(item)
	return b, nil, false, translate(op, err)
}

// updateBond runs one UpdateItem of bond id: update plus a version bump,
// under cond plus If-Match. It returns the new item, or, when the condition
// failed, the old one (nil if there is no item).
func (s *Store) updateBond(ctx context.Context, id string, update expression.UpdateBuilder, cond expression.ConditionBuilder, ifVersion int64) (item, old map[string]types.AttributeValue, failed bool, err error) {
	if ifVersion != bond.AnyVersion {
		cond = expression.And(cond, versionIs(ifVersion))
	}
	expr, err := expression.NewBuilder().
		WithUpdate(update.Set(expression.Name(attrVersion), bumpVersion())).
		WithCondition(cond).Build()
	if err != nil {
		return nil, nil, false, err
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(id),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := condFailed(err); failed {
		return nil, old, true, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return out.Attributes, nil, false, nil
}

// RemoveSubscriber removes subscribers.<sid> with one conditional UpdateItem.
// The condition requires the entry, so removing an absent sid writes nothing:
// the old item (ALL_OLD) of the failed condition is returned as is, at its
// version.
func (s *Store) RemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error) {
	op := "remove subscriber from bond " + id
	cond := expression.And(exists(), expression.AttributeExists(subscriberPath(sid)))
	item, old, failed, err := s.updateBond(ctx, id, expression.Remove(subscriberPath(sid)), cond, ifVersion)
	if failed {
		switch {
		case old == nil:
			return bond.Bond{}, bond.ErrSubscriberRemoveNotFound(id, sid)
		case ifVersion != bond.AnyVersion && itemVersion(old) != ifVersion:
			return bond.Bond{}, bond.ErrVersionMismatch(id, ifVersion)
		}
		b, ok, err := decodeBond(old) // the sid is absent: a no-op
		if err == nil && !ok {
			return bond.Bond{}, bond.ErrSubscriberRemoveNotFound(id, sid)
		}
		return b, translate(op, err)
	}
	if err != nil {
		return bond.Bond{}, translate(op, err)
	}
	b, _, err := decodeBond(item)
	return b, translate(op, err)
}

func isMap(av types.AttributeValue) bool {
	_, ok := av.(*types.AttributeValueMemberM)
	return ok
}
