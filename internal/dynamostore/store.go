// Package dynamostore implements bond.Repository on Amazon DynamoDB, on the
// table layout of the original FastAPI service (table "bond", hash key
// bond_id, four GSIs) plus a version attribute and one guard item per
// (host account, subscriber account) pair that makes the pair unique.
//
// The store has no bond rule of its own (package bond has them): it reads,
// and writes under conditions. Every write is one DynamoDB call: a
// conditional UpdateItem, or a TransactWriteItems when a guard item moves
// with the bond. Expressions come only from the expression builder (a sid
// reaches DynamoDB only as an expression attribute name, see withSID);
// items go through attributevalue into the storage structs of items.go.
package dynamostore

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"time"

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
	check  tableCheck // the table rules, checked before the first call that uses the table
}

var _ bond.Repository = (*Store)(nil)

// New returns a store on table, which must exist (see Migrate). Every
// method first checks the table against the table rules (CheckTable).
func New(client Client, table string) *Store {
	s := &Store{client: client, table: table}
	s.check.every = recheckEvery
	return s
}

// maxRaces bounds the optimistic-concurrency loops of Modify and Delete:
// each round loses only to a write that just succeeded, so a writer among n
// concurrent ones on one bond needs at most n rounds; the request's
// deadline bounds them too.
const maxRaces = 64

// backoff waits before round attempt+1 of a lost race: a random time of up
// to 2^attempt ms (at most 32 ms), so that writers that collided spread out.
// It returns the context's error when the request's deadline comes first.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(time.Millisecond)<<min(attempt, 5)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errRace says the bond changed between the read and the conditional write.
var errRace = errors.New("the bond changed concurrently")

// Get returns the bond, with a strongly consistent read. KindNotFound,
// KindUnreadable.
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

// get reads bond id; ok is false when there is no bond item with that key.
func (s *Store) get(ctx context.Context, id string) (bond.Bond, bool, error) {
	if _, err := s.ready(ctx); err != nil {
		return bond.Bond{}, false, err
	}
	out, err := s.client.GetItem(ctx, s.getItemInput(id))
	if err != nil || out.Item == nil {
		return bond.Bond{}, false, err
	}
	return decodeBond(out.Item)
}

// getItemInput is the GetItem of Get: one strongly consistent read by key.
func (s *Store) getItemInput(id string) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: &s.table, Key: key(id), ConsistentRead: aws.Bool(true)}
}

// Create writes the bond and its pair guard in one transaction, each put
// conditioned on its key being free (createInput). The cancellation reasons
// tell which condition failed: 0 is the bond id, 1 the pair (its old item
// names the bond that holds it). KindExists, KindPairTaken, KindInvalid
// (too large).
func (s *Store) Create(ctx context.Context, b bond.Bond) error {
	op := "create bond " + b.BondID
	if _, err := s.ready(ctx); err != nil {
		return translate(op, err)
	}
	in, err := s.createInput(b)
	if err != nil {
		return translate(op, err)
	}
	_, err = s.client.TransactWriteItems(ctx, in)
	reasons := cancellation(err)
	if _, ok := failedCondition(reasons, 0); ok {
		return bond.ErrExists(b.BondID)
	}
	if old, ok := failedCondition(reasons, 1); ok {
		return bond.ErrPairTaken(b.HostAccountID, b.SubAccountID, guardOwner(old))
	}
	return translate(op, err)
}

// createInput is the TransactWriteItems of Create: the bond and its guard,
// each put only where its key is free.
func (s *Store) createInput(b bond.Bond) (*dynamodb.TransactWriteItemsInput, error) {
	bondPut, err := s.conditionalPut(toItem(b), expression.AttributeNotExists(expression.Name(attrBondID)))
	if err != nil {
		return nil, err
	}
	guardPut, err := s.conditionalPut(newGuard(b), expression.AttributeNotExists(expression.Name(attrBondID)))
	if err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Put: bondPut}, {Put: guardPut}},
	}, nil
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

// Modify is an optimistic read-check-write (see bond.Repository.Modify): a
// strongly consistent read, pre and change, then a write conditioned on the
// version read (replace). A lost race reads again.
func (s *Store) Modify(ctx context.Context, id string, pre bond.Precondition, change bond.Change) (bond.Bond, error) {
	op := "modify bond " + id
	for attempt := range maxRaces {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return bond.Bond{}, bond.Unavailable(op, err)
			}
		}
		cur, err := s.checked(ctx, op, id, pre)
		switch {
		case err != nil:
			return bond.Bond{}, err
		case cur == nil:
			return bond.Bond{}, bond.ErrNotFound(id)
		}
		next, changed, err := change(cur.Clone())
		if err != nil {
			return bond.Bond{}, err
		}
		if !changed {
			return *cur, nil
		}
		next.BondID, next.Version = cur.BondID, cur.Version+1
		if err := s.replace(ctx, *cur, next); !errors.Is(err, errRace) {
			if err != nil {
				return bond.Bond{}, translate(op, err)
			}
			return next, nil
		}
	}
	return bond.Bond{}, bond.Unavailable(op, errRace)
}

// checked reads bond id (nil when there is none) and checks pre against it.
func (s *Store) checked(ctx context.Context, op, id string, pre bond.Precondition) (*bond.Bond, error) {
	b, ok, err := s.get(ctx, id)
	if err != nil {
		return nil, translate(op, err)
	}
	cur := &b
	if !ok {
		cur = nil
	}
	return cur, pre.Check(id, cur)
}

// replace writes next over cur, conditioned on cur's version. Only the
// attributes that differ are set, so attributes other writers keep in the
// item stay; the subscribers map is set whole when it changed. When the pair
// changes, the guard moves in the same transaction. errRace when the version
// condition fails.
func (s *Store) replace(ctx context.Context, cur, next bond.Bond) error {
	set := expression.Set(expression.Name(attrVersion), expression.Value(next.Version))
	for _, f := range []struct {
		name      string
		old, next string
	}{
		{attrHostAccountID, cur.HostAccountID, next.HostAccountID},
		{attrSubAccountID, cur.SubAccountID, next.SubAccountID},
		{attrHostCostCenter, cur.HostCostCenter, next.HostCostCenter},
		{attrSubCostCenter, cur.SubCostCenter, next.SubCostCenter},
	} {
		if f.old != f.next {
			set = set.Set(expression.Name(f.name), expression.Value(f.next))
		}
	}
	if !maps.Equal(cur.Subscribers, next.Subscribers) {
		set = set.Set(expression.Name(attrSubscribers), expression.Value(toItem(next).Subscribers))
	}
	expr, err := expression.NewBuilder().WithUpdate(set).
		WithCondition(expression.And(exists(), versionIs(cur.Version))).Build()
	if err != nil {
		return err
	}
	if cur.HostAccountID == next.HostAccountID && cur.SubAccountID == next.SubAccountID {
		_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(cur.BondID),
			UpdateExpression:          expr.Update(),
			ConditionExpression:       expr.Condition(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		})
		if _, failed := condFailed(err); failed {
			return errRace
		}
		return err
	}

	bondUpdate := types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(cur.BondID),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}
	newGuardPut, err := s.conditionalPut(newGuard(next), ownedOrFree(next.BondID))
	if err != nil {
		return err
	}
	return s.withOldGuard(ctx, cur, func(oldGuard []types.TransactWriteItem) error {
		items := append([]types.TransactWriteItem{bondUpdate, {Put: newGuardPut}}, oldGuard...)
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		reasons := cancellation(err)
		if _, ok := failedCondition(reasons, 0); ok {
			return errRace
		}
		if old, ok := failedCondition(reasons, 1); ok {
			return bond.ErrPairTaken(next.HostAccountID, next.SubAccountID, guardOwner(old))
		}
		return err
	})
}

// ownedOrFree is the condition on a guard key "no item, or a guard owned by
// id". An item at that key that is not id's guard (another bond's, or one
// written by someone else) fails it and is never overwritten.
func ownedOrFree(id string) expression.ConditionBuilder {
	return expression.Or(expression.AttributeNotExists(expression.Name(attrBondID)),
		expression.Name(attrGuardOwner).Equal(expression.Value(id)))
}

// withOldGuard runs write with the transactional delete of b's guard as the
// last item of the transaction. The delete is conditioned on the guard
// being b's (or absent, for a bond written before Migrate): when something
// else holds that key (a pair duplicated before guards existed) it is left
// alone and write runs again without the delete.
func (s *Store) withOldGuard(ctx context.Context, b bond.Bond, write func([]types.TransactWriteItem) error) error {
	expr, err := expression.NewBuilder().WithCondition(ownedOrFree(b.BondID)).Build()
	if err != nil {
		return err
	}
	del := types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key(guardKey(b.HostAccountID, b.SubAccountID)),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}
	err = write([]types.TransactWriteItem{del})
	if reasons := cancellation(err); len(reasons) > 0 {
		if _, ok := failedCondition(reasons, len(reasons)-1); ok {
			return write(nil)
		}
	}
	return err
}

// Delete removes the bond and its guard in one transaction, conditioned on
// the version read just before, after checking pre against that read. A
// bond that does not exist is no error when pre allows it.
func (s *Store) Delete(ctx context.Context, id string, pre bond.Precondition) error {
	op := "delete bond " + id
	for attempt := range maxRaces {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return bond.Unavailable(op, err)
			}
		}
		cur, err := s.checked(ctx, op, id, pre)
		if err != nil || cur == nil {
			return err
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
		err = s.withOldGuard(ctx, *cur, func(oldGuard []types.TransactWriteItem) error {
			_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: append([]types.TransactWriteItem{bondDel}, oldGuard...),
			})
			if _, ok := failedCondition(cancellation(err), 0); ok {
				return errRace
			}
			return err
		})
		if !errors.Is(err, errRace) {
			return translate(op, err)
		}
	}
	return bond.Unavailable(op, errRace)
}

// Ping reads a key that never exists, which checks the endpoint, the
// credentials and the table in one cheap call.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.ready(ctx); err != nil {
		return translate("ping dynamodb table "+s.table, err)
	}
	_, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(guardPrefix)})
	if err != nil {
		return bond.Unavailable("ping dynamodb table "+s.table, err)
	}
	return nil
}

// Close does nothing: the client's connections belong to its owner.
func (s *Store) Close() error { return nil }
