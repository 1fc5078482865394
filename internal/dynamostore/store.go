// Package dynamostore implements bond.Repository on Amazon DynamoDB, on the
// table layout of the original FastAPI service (table "bond", hash key
// bond_id, four GSIs) plus a version attribute and one guard item per
// (host account, subscriber account) pair that makes the pair unique.
//
// Every write is one DynamoDB call: a conditional UpdateItem, or a
// TransactWriteItems when a guard item moves with the bond. Expressions come
// only from the expression builder; items go through attributevalue into the
// storage structs of items.go.
package dynamostore

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Client is the part of *dynamodb.Client the store and Migrate use, so tests
// can inject failures with a fake.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

// Store is a bond.Repository on one DynamoDB table.
type Store struct {
	client Client
	table  string

	mu      sync.Mutex        // guards indexes
	indexes map[string]string // GSI name by hash key attribute, once read
}

var _ bond.Repository = (*Store)(nil)

// New returns a store on table, which must exist (see Migrate).
func New(client Client, table string) *Store {
	return &Store{client: client, table: table}
}

// maxRaces bounds the optimistic-concurrency loops of Update and Delete
// without If-Match: each round loses only to a write that just succeeded.
const maxRaces = 5

// Get returns the bond, with a strongly consistent read.
func (s *Store) Get(ctx context.Context, id string) (bond.Bond, error) {
	b, ok, err := s.get(ctx, id)
	if err != nil {
		return bond.Bond{}, translate("get bond "+id, err)
	}
	if !ok {
		return bond.Bond{}, bond.ErrNotFound(id)
	}
	return b, nil
}

func (s *Store) get(ctx context.Context, id string) (bond.Bond, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return bond.Bond{}, false, err
	}
	return decodeBond(out.Item)
}

// Create writes the bond and its pair guard in one transaction, each put
// conditioned on its key being free. The cancellation reasons tell which
// condition failed: 0 is the bond id, 1 the pair (its old item names the
// bond that holds it).
func (s *Store) Create(ctx context.Context, b bond.Bond) (bond.Bond, error) {
	op := "create bond " + b.BondID
	if b.Subscribers == nil {
		b.Subscribers = map[string]bond.Subscriber{}
	}
	b.Version = 1
	if bond.ItemSize(b) > bond.MaxItemBytes {
		return bond.Bond{}, bond.ErrTooLarge("body")
	}
	bondPut, err := s.putIfAbsent(toItem(b))
	if err != nil {
		return bond.Bond{}, translate(op, err)
	}
	guardPut, err := s.putIfAbsent(newGuard(b))
	if err != nil {
		return bond.Bond{}, translate(op, err)
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Put: bondPut}, {Put: guardPut}},
	})
	if err == nil {
		return b, nil
	}
	reasons := cancellation(err)
	if _, ok := failedCondition(reasons, 0); ok {
		return bond.Bond{}, bond.ErrExists(b.BondID)
	}
	if old, ok := failedCondition(reasons, 1); ok {
		return bond.Bond{}, bond.ErrPairTaken(b.HostAccountID, b.SubAccountID, guardOwner(old))
	}
	if tooLarge(err) {
		return bond.Bond{}, bond.ErrTooLarge("body")
	}
	return bond.Bond{}, translate(op, err)
}

// putIfAbsent is a transactional put of item, conditioned on its key being
// free, returning the old item when it is not.
func (s *Store) putIfAbsent(item any) (*types.Put, error) {
	return s.conditionalPut(item, expression.AttributeNotExists(expression.Name(attrBondID)))
}

// conditionalPut is a transactional put of item under cond, returning the
// old item when cond fails.
func (s *Store) conditionalPut(item any, cond expression.ConditionBuilder) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, err
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &types.Put{
		TableName: &s.table, Item: av,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}

// Update applies u with optimistic concurrency: it reads the bond, checks
// If-Match, and writes the result conditioned on the version it read. A write
// that keeps the pair is one UpdateItem; one that changes it is a transaction
// that also moves the guard. Without If-Match, losing a race to another
// writer reads again and retries.
func (s *Store) Update(ctx context.Context, id string, u bond.Update, ifVersion int64) (bond.Bond, error) {
	op := "update bond " + id
	for range maxRaces {
		cur, ok, err := s.get(ctx, id)
		if err != nil {
			return bond.Bond{}, translate(op, err)
		}
		if !ok {
			return bond.Bond{}, bond.ErrNotFound(id)
		}
		if ifVersion != bond.AnyVersion && ifVersion != cur.Version {
			return bond.Bond{}, bond.ErrVersionMismatch(id, ifVersion)
		}
		next := u.Apply(cur)
		next.Version = cur.Version + 1
		if len(next.Subscribers) > bond.MaxSubscribers {
			return bond.Bond{}, bond.ErrTooManySubscribers("body", "subscribers")
		}
		if bond.ItemSize(next) > bond.MaxItemBytes {
			return bond.Bond{}, bond.ErrTooLarge("body")
		}
		err = s.update(ctx, cur, next, u)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, errRace) {
			return bond.Bond{}, err
		}
		if ifVersion != bond.AnyVersion {
			// The bond changed or went away since the read.
			if _, ok, err := s.get(ctx, id); err == nil && !ok {
				return bond.Bond{}, bond.ErrNotFound(id)
			}
			return bond.Bond{}, bond.ErrVersionMismatch(id, ifVersion)
		}
	}
	return bond.Bond{}, bond.Unavailable(op, errRace)
}

// errRace says the bond changed between the read and the conditional write.
var errRace = errors.New("the bond changed concurrently")

// update writes next over cur, conditioned on cur's version, moving the guard
// when the pair changes. It returns errRace when the version condition fails.
func (s *Store) update(ctx context.Context, cur, next bond.Bond, u bond.Update) error {
	op := "update bond " + cur.BondID
	set := expression.Set(expression.Name(attrVersion), expression.Value(next.Version))
	for _, f := range []struct {
		name string
		v    *string
	}{
		{attrHostAccountID, u.HostAccountID},
		{attrSubAccountID, u.SubAccountID},
		{attrHostCostCenter, u.HostCostCenter},
		{attrSubCostCenter, u.SubCostCenter},
	} {
		if f.v != nil {
			set = set.Set(expression.Name(f.name), expression.Value(*f.v))
		}
	}
	if u.Subscribers != nil {
		set = set.Set(expression.Name(attrSubscribers), expression.Value(toItem(next).Subscribers))
	}
	expr, err := expression.NewBuilder().WithUpdate(set).
		WithCondition(expression.And(exists(), versionIs(cur.Version))).Build()
	if err != nil {
		return translate(op, err)
	}

	samePair := cur.HostAccountID == next.HostAccountID && cur.SubAccountID == next.SubAccountID
	if samePair {
		_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(cur.BondID),
			UpdateExpression:          expr.Update(),
			ConditionExpression:       expr.Condition(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		})
		switch _, failed := condFailed(err); {
		case failed:
			return errRace
		case tooLarge(err):
			return bond.ErrTooLarge("body")
		}
		return translate(op, err)
	}

	bondUpdate := types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(cur.BondID),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}
	newGuardPut, err := s.putIfAbsentOrOwned(newGuard(next))
	if err != nil {
		return translate(op, err)
	}
	return s.withOldGuard(ctx, op, cur, func(oldGuard []types.TransactWriteItem) error {
		items := append([]types.TransactWriteItem{bondUpdate, {Put: newGuardPut}}, oldGuard...)
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		reasons := cancellation(err)
		if _, ok := failedCondition(reasons, 0); ok {
			return errRace
		}
		if old, ok := failedCondition(reasons, 1); ok {
			return bond.ErrPairTaken(next.HostAccountID, next.SubAccountID, guardOwner(old))
		}
		if tooLarge(err) {
			return bond.ErrTooLarge("body")
		}
		return err
	})
}

// putIfAbsentOrOwned is a transactional put of a guard, conditioned on the
// pair being free or already held by the same bond.
func (s *Store) putIfAbsentOrOwned(g guardItem) (*types.Put, error) {
	return s.conditionalPut(g, ownedOrFree(g.GuardOwner))
}

// ownedOrFree is the condition on a guard key "no guard, or one owned by id".
func ownedOrFree(id string) expression.ConditionBuilder {
	return expression.Or(expression.AttributeNotExists(expression.Name(attrBondID)),
		expression.Name(attrGuardOwner).Equal(expression.Value(id)))
}

// withOldGuard runs write with the transactional delete of b's guard, which
// is the last item of the transaction. The delete is conditioned on the guard
// being b's (or absent, for a bond written before Migrate): when another bond
// holds it (a pair duplicated before guards existed) the guard is left to
// that bond and write runs again without the delete.
func (s *Store) withOldGuard(ctx context.Context, op string, b bond.Bond, write func([]types.TransactWriteItem) error) error {
	expr, err := expression.NewBuilder().WithCondition(ownedOrFree(b.BondID)).Build()
	if err != nil {
		return translate(op, err)
	}
	del := types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key(guardKey(b.HostAccountID, b.SubAccountID)),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
	err = write([]types.TransactWriteItem{del})
	if err == nil || errors.Is(err, errRace) || bond.KindOf(err) != bond.KindInternal {
		return err
	}
	reasons := cancellation(err)
	if _, ok := failedCondition(reasons, len(reasons)-1); ok {
		err = write(nil)
		if err == nil || errors.Is(err, errRace) || bond.KindOf(err) != bond.KindInternal {
			return err
		}
	}
	return translate(op, err)
}

// Delete removes the bond and its guard in one transaction, conditioned on
// the version read just before (and on If-Match). Without If-Match a missing
// bond is not an error.
func (s *Store) Delete(ctx context.Context, id string, ifVersion int64) error {
	op := "delete bond " + id
	for range maxRaces {
		cur, ok, err := s.get(ctx, id)
		if err != nil {
			return translate(op, err)
		}
		switch {
		case !ok && ifVersion == bond.AnyVersion:
			return nil
		case !ok || (ifVersion != bond.AnyVersion && ifVersion != cur.Version):
			return bond.ErrVersionMismatch(id, ifVersion)
		}
		expr, err := expression.NewBuilder().
			WithCondition(expression.And(exists(), versionIs(cur.Version))).Build()
		if err != nil {
			return translate(op, err)
		}
		bondDel := types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.table, Key: key(id),
			ConditionExpression:       expr.Condition(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		}}
		err = s.withOldGuard(ctx, op, cur, func(oldGuard []types.TransactWriteItem) error {
			_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: append([]types.TransactWriteItem{bondDel}, oldGuard...),
			})
			if _, ok := failedCondition(cancellation(err), 0); ok {
				return errRace
			}
			return err
		})
		if !errors.Is(err, errRace) {
			return err
		}
		// Changed or deleted since the read: look again.
	}
	return bond.Unavailable(op, errRace)
}

// Ping reads a key that never exists, which checks the endpoint, the
// credentials and the table in one cheap call.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(guardPrefix)})
	if err != nil {
		return bond.Unavailable("ping dynamodb table "+s.table, err)
	}
	return nil
}

// Close does nothing: the client's connections belong to its owner.
func (s *Store) Close() error { return nil }
