package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// The subscriber fast path (bond.SubscriberPatcher): one conditional
// UpdateItem of subscribers.<sid>, with no read before it, so concurrent
// adds of different subscribers never wait on one another. It holds no bond
// rule: its conditions only say when the write is certainly what the rules
// would do (the limits come in as below); whenever one fails, the caller
// decides with the rules through the read-check-write step.

var _ bond.SubscriberPatcher = (*Store)(nil)

// PatchPutSubscriber sets subscribers.<sid> to sub when the bond exists, its
// subscribers are a map of fewer than below entries, the stored entry
// differs from sub (so an SDK retry of an applied put changes nothing), and
// the version is ifVersion (unless AnyVersion).
func (s *Store) PatchPutSubscriber(ctx context.Context, id string, sub bond.Subscriber, ifVersion int64, below int) (bond.Bond, bool, error) {
	update, cond := putSubscriberPatch(sub, below)
	return s.patch(ctx, "put subscriber into bond "+id, id, sub.SID, update, cond, ifVersion)
}

// putSubscriberPatch is the update and condition of PatchPutSubscriber.
func putSubscriberPatch(sub bond.Subscriber, below int) (expression.UpdateBuilder, expression.ConditionBuilder) {
	subs, path := expression.Name(attrSubscribers), subscriberPath()
	cond := expression.And(exists(),
		expression.AttributeType(subs, expression.Map),
		subs.Size().LessThan(expression.Value(below)),
		expression.Or(expression.AttributeNotExists(path), path.NotEqual(expression.Value(subscriberValue(sub)))))
	return expression.Set(path, expression.Value(subscriberValue(sub))), cond
}

// PatchRemoveSubscriber removes subscribers.<sid> when the bond exists, its
// subscribers are a map holding sid, and the version is ifVersion (unless
// AnyVersion).
func (s *Store) PatchRemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, bool, error) {
	path := subscriberPath()
	cond := expression.And(exists(),
		expression.AttributeType(expression.Name(attrSubscribers), expression.Map),
		expression.AttributeExists(path))
	return s.patch(ctx, "remove subscriber from bond "+id, id, sid, expression.Remove(path), cond, ifVersion)
}

// patch runs one UpdateItem of bond id (patchInput). done is false when
// the condition failed.
func (s *Store) patch(ctx context.Context, op, id, sid string, update expression.UpdateBuilder, cond expression.ConditionBuilder, ifVersion int64) (bond.Bond, bool, error) {
	if _, err := s.ready(ctx); err != nil {
		return bond.Bond{}, false, translate(op, err)
	}
	in, err := s.patchInput(id, sid, update, cond, ifVersion)
	if err != nil {
		return bond.Bond{}, false, translate(op, err)
	}
	out, err := s.client.UpdateItem(ctx, in)
	if _, failed := condFailed(err); failed {
		return bond.Bond{}, false, nil
	}
	if err != nil {
		return bond.Bond{}, false, translate(op, err)
	}
	b, _, err := decodeBond(out.Attributes)
	return b, err == nil, translate(op, err)
}

// patchInput is the UpdateItem of a patch: update plus a version bump,
// under cond plus the version (unless AnyVersion), with sid as the name
// subscriberPath stands for, returning the new item. The condition also
// requires what a condition expression can say of an item another writer
// left (every declared field of the bond a string, the version in range),
// so that such an item is never patched: the read-check-write step then
// reads it and answers that it is unreadable. What no condition can say
// (a value rule, the form of the other subscribers) is found in the item
// the write returns: the answer is then unreadable too, though the one
// subscriber was written (README, "Items written outside the service").
func (s *Store) patchInput(id, sid string, update expression.UpdateBuilder, cond expression.ConditionBuilder, ifVersion int64) (*dynamodb.UpdateItemInput, error) {
	for _, f := range bond.BondFields {
		typed := expression.AttributeType(expression.Name(f.Name), expression.String)
		if f.Optional {
			typed = expression.Or(expression.AttributeNotExists(expression.Name(f.Name)), typed)
		}
		cond = expression.And(cond, typed)
	}
	version := expression.Name(attrVersion)
	cond = expression.And(cond, expression.Or(expression.AttributeNotExists(version),
		version.Between(expression.Value(0), expression.Value(bond.MaxVersion))))
	if ifVersion != bond.AnyVersion {
		cond = expression.And(cond, versionIs(ifVersion))
	}
	expr, err := expression.NewBuilder().
		WithUpdate(update.Set(expression.Name(attrVersion), bumpVersion())).
		WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(id),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  withSID(expr, sid),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              types.ReturnValueAllNew,
	}, nil
}
