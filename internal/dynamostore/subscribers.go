package dynamostore

import (
	"context"

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
// The size rule (bond.ItemSize at most bond.MaxItemBytes) needs the current
// bond, so a consistent read comes first. It is a check, not a lock: adds
// racing near the limit can pass it together, and then DynamoDB's own item
// limit (400 KiB, a little above MaxItemBytes) is the backstop.
func (s *Store) PutSubscriber(ctx context.Context, id string, sub bond.Subscriber, ifVersion int64) (bond.Bond, error) {
	op := "put subscriber into bond " + id
	cur, ok, err := s.get(ctx, id)
	switch {
	case err != nil:
		return bond.Bond{}, translate(op, err)
	case !ok:
		return bond.Bond{}, bond.ErrSubscriberAddNotFound(id, sub.SID)
	}
	cur.Subscribers[sub.SID] = sub
	if bond.ItemSize(cur) > bond.MaxItemBytes {
		return bond.Bond{}, bond.ErrTooLarge("body")
	}
	for range maxRaces {
		b, old, failed, err := s.putSubscriber(ctx, id, sub, ifVersion, false)
		if err != nil || !failed {
			return b, err
		}
		switch {
		case old == nil:
			return bond.Bond{}, bond.ErrSubscriberAddNotFound(id, sub.SID)
		case ifVersion != bond.AnyVersion && itemVersion(old) != ifVersion:
			return bond.Bond{}, bond.ErrVersionMismatch(id, ifVersion)
		case !isMap(old[attrSubscribers]):
			// Written by the original without a map: set the whole map.
			b, _, failed, err = s.putSubscriber(ctx, id, sub, ifVersion, true)
			if err != nil || !failed {
				return b, err
			}
			// Someone else just created the map (or deleted the bond): again.
		default:
			return bond.Bond{}, bond.ErrTooManySubscribers("body", "subscribers")
		}
	}
	return bond.Bond{}, bond.Unavailable(op, errRace)
}

// putSubscriber runs the UpdateItem of PutSubscriber; whole replaces a
// missing (or non-map) subscribers attribute by a map holding only sub.
// failed reports a failed condition, with the old item (nil if none).
func (s *Store) putSubscriber(ctx context.Context, id string, sub bond.Subscriber, ifVersion int64, whole bool) (b bond.Bond, old map[string]types.AttributeValue, failed bool, err error) {
	op := "put subscriber into bond " + id
	subs := expression.Name(attrSubscribers)
	var (
		set  expression.UpdateBuilder
		cond expression.ConditionBuilder
	)
	if whole {
		set = expression.Set(subs, expression.Value(map[string]subscriberItem{sub.SID: subscriberItem(sub)}))
		cond = expression.And(exists(), expression.Or(
			expression.AttributeNotExists(subs),
			expression.Not(expression.AttributeType(subs, expression.Map))))
	} else {
		set = expression.Set(subscriberPath(sub.SID), expression.Value(subscriberItem(sub)))
		cond = expression.And(exists(),
			expression.AttributeType(subs, expression.Map),
			expression.Or(
				expression.AttributeExists(subscriberPath(sub.SID)),
				subs.Size().LessThan(expression.Value(bond.MaxSubscribers))))
	}
	if ifVersion != bond.AnyVersion {
		cond = expression.And(cond, versionIs(ifVersion))
	}
	expr, err := expression.NewBuilder().
		WithUpdate(set.Set(expression.Name(attrVersion), bumpVersion())).
		WithCondition(cond).Build()
	if err != nil {
		return bond.Bond{}, nil, false, translate(op, err)
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
		return bond.Bond{}, old, true, nil
	}
	if tooLarge(err) {
		return bond.Bond{}, nil, false, bond.ErrTooLarge("body")
	}
	if err != nil {
		return bond.Bond{}, nil, false, translate(op, err)
	}
	b, _, err = decodeBond(out.Attributes)
	return b, nil, false, translate(op, err)
}

// RemoveSubscriber removes subscribers.<sid> with one conditional UpdateItem.
// The condition requires the entry, so removing an absent sid writes nothing:
// the old item (ALL_OLD) of the failed condition is returned as is, at its
// version.
func (s *Store) RemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error) {
	op := "remove subscriber from bond " + id
	cond := expression.And(exists(), expression.AttributeExists(subscriberPath(sid)))
	if ifVersion != bond.AnyVersion {
		cond = expression.And(cond, versionIs(ifVersion))
	}
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Remove(subscriberPath(sid)).Set(expression.Name(attrVersion), bumpVersion())).
		WithCondition(cond).Build()
	if err != nil {
		return bond.Bond{}, translate(op, err)
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
	b, _, err := decodeBond(out.Attributes)
	return b, translate(op, err)
}

func isMap(av types.AttributeValue) bool {
	_, ok := av.(*types.AttributeValueMemberM)
	return ok
}
