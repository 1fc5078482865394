// Package dynamostore implements bond.Repository on Amazon DynamoDB, on the
// table layout of the original FastAPI service (table "bond", hash key
// bond_id, four GSIs) plus a version attribute and one guard item per
// (host account, subscriber account) pair that makes the pair unique.
//
// The store has no bond rule of its own (package bond has them, and runs the
// read-check-write step and its retries): it reads, and writes under
// conditions. Every write is one TransactWriteItems that carries the change
// (the bond item, its guard and gone items) and its journal (the revision,
// in the revisions table, revisions.go), so neither lands without the
// other. Expressions come only
// from the expression builder (a sid reaches DynamoDB only as an expression
// attribute name, see withSID); items are built and read from the declared
// fields of a bond (items.go).
package dynamostore

import (
	"context"
	"errors"
	"maps"
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
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

// Store is a bond.Repository on one DynamoDB table and its revisions table.
type Store struct {
	client    Client
	table     string
	revTable  string        // RevisionsTable(table)
	retention time.Duration // of revisions; 0 keeps them forever
	inline    int           // maxInline, but for tests
	check     tableCheck    // the table rules, checked before the first call that uses the table
}

// Option sets up a store at New.
type Option func(*Store)

// WithRetention keeps a revision for d after the write that superseded it
// (a delete's, after the delete), by DynamoDB's TTL on expires_at; 0 keeps
// every revision forever. The newest revision of an existing bond never
// expires.
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

var _ bond.Repository = (*Store)(nil)

// New returns a store on table, which must exist (see Migrate). Every
// method first checks the table against the table rules (CheckTable).
func New(client Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table, revTable: RevisionsTable(table), inline: maxInline}
	for _, o := range opts {
		o(s)
	}
	s.check.every = recheckEvery
	return s
}

// errRace says the stored bond is no longer at the version a write is
// conditioned on: bond.ErrRace, which the domain answers by reading again.
var errRace = bond.ErrRace

// Read returns the bond, with a strongly consistent read, or (found false)
// the last version of its previous life from its gone item.
// KindUnreadable.
func (s *Store) Read(ctx context.Context, id string) (bond.Bond, bool, error) {
	op := "read bond " + id
	if _, err := s.ready(ctx); err != nil {
		return bond.Bond{}, false, s.translate(ctx, op, err)
	}
	out, err := s.client.GetItem(ctx, s.getItemInput(id))
	if err != nil {
		return bond.Bond{}, false, s.translate(ctx, op, err)
	}
	if out.Item != nil {
		b, ok, err := decodeBond(out.Item)
		if err != nil || ok {
			return b, ok, err
		}
	}
	gone, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: goneKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return bond.Bond{}, false, s.translate(ctx, op, err)
	}
	v, r, err := goneLife(id, gone.Item)
	return bond.Bond{Version: v, Revision: r}, false, err
}

// getItemInput is the GetItem of Get: one strongly consistent read by key.
func (s *Store) getItemInput(id string) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: &s.table, Key: key(id), ConsistentRead: aws.Bool(true)}
}

// Create writes the bond, its pair guard, the end of its previous life and
// j in one transaction (createInput). The cancellation reasons tell which
// condition failed: 0 is the bond id, 1 the pair (its old item names the
// bond that holds it), 2 the previous life. KindExists, KindPairTaken,
// bond.ErrRace, KindInvalid (too large).
func (s *Store) Create(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
	op := "create bond " + b.BondID
	if _, err := s.ready(ctx); err != nil {
		return s.translate(ctx, op, err)
	}
	in, err := s.createInput(b, prev, j)
	if err != nil {
		return s.translate(ctx, op, err)
	}
	_, err = s.client.TransactWriteItems(ctx, in)
	reasons := cancellation(err)
	if keyTaken(reasons, 3, j) {
		return bond.ErrKeyTaken
	}
	if _, ok := failedCondition(reasons, 0); ok {
		return bond.ErrExists(b.BondID)
	}
	if old, ok := failedCondition(reasons, 1); ok {
		return bond.ErrPairTaken(b.HostAccountID, b.SubAccountID, guardOwner(old))
	}
	if _, ok := failedCondition(reasons, 2); ok {
		return errRace
	}
	return s.translate(ctx, op, err)
}

// createInput is the TransactWriteItems of Create: the bond and its guard,
// each put only where its key is free, the gone item of the id deleted on
// the condition that it holds prev (or, for prev 0, that there is none or
// it holds 0) and, when j appends a revision, the revision b.Revision-1
// (or none), then j's items.
func (s *Store) createInput(b bond.Bond, prev int64, j bond.Journal) (*dynamodb.TransactWriteItemsInput, error) {
	bondPut, err := s.conditionalPut(bondValue(b), expression.AttributeNotExists(expression.Name(attrBondID)))
	if err != nil {
		return nil, err
	}
	guardPut, err := s.conditionalPut(newGuard(b), expression.AttributeNotExists(expression.Name(attrBondID)))
	if err != nil {
		return nil, err
	}
	cond := expression.Name(attrGoneVersion).Equal(expression.Value(prev))
	if prev == 0 {
		cond = expression.Or(expression.AttributeNotExists(expression.Name(attrBondID)), cond)
	}
	if j.Revision != nil {
		last := expression.Name(attrGoneRevision).Equal(expression.Value(b.Revision - 1))
		if b.Revision-1 == 0 {
			last = expression.AttributeNotExists(expression.Name(attrGoneRevision))
		}
		cond = expression.And(cond, last)
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	goneDel := &types.Delete{
		TableName: &s.table, Key: goneKey(b.BondID),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	journal, err := s.journalItems(j)
	if err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsInput{
		TransactItems: append([]types.TransactWriteItem{{Put: bondPut}, {Put: guardPut}, {Delete: goneDel}}, journal...),
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

// Replace writes next over old, and j, on the condition that the stored
// bond is at old's version (see replace). bond.ErrRace, KindPairTaken,
// KindInvalid.
func (s *Store) Replace(ctx context.Context, old, next bond.Bond, j bond.Journal) error {
	if _, err := s.ready(ctx); err != nil {
		return s.translate(ctx, "replace bond "+old.BondID, err)
	}
	err := s.replace(ctx, old, next, j)
	if errors.Is(err, errRace) {
		return err
	}
	return s.translate(ctx, "replace bond "+old.BondID, err)
}

// bondUpdate is the transaction item that writes next over cur,
// conditioned on cur's version. Only the attributes that differ are set, so
// attributes other writers keep in the item stay; the subscribers map is
// set whole when it changed.
func (s *Store) bondUpdate(cur, next bond.Bond) (types.TransactWriteItem, error) {
	set := expression.Set(expression.Name(attrVersion), expression.Value(next.Version)).
		Set(expression.Name(attrRevision), expression.Value(next.Revision))
	for _, f := range bond.BondFields {
		if v := f.Get(next); v != f.Get(cur) {
			set = set.Set(expression.Name(f.Name), expression.Value(v))
		}
	}
	if !maps.Equal(cur.Subscribers, next.Subscribers) {
		set = set.Set(expression.Name(attrSubscribers), expression.Value(subscribersValue(next.Subscribers)))
	}
	expr, err := expression.NewBuilder().WithUpdate(set).
		WithCondition(expression.And(exists(), versionIs(cur.Version))).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(cur.BondID),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// replaceInput is the TransactWriteItems of a Replace that keeps the
// account pair: the bond's update and j's items.
func (s *Store) replaceInput(cur, next bond.Bond, j bond.Journal) (*dynamodb.TransactWriteItemsInput, error) {
	update, err := s.bondUpdate(cur, next)
	if err != nil {
		return nil, err
	}
	journal, err := s.journalItems(j)
	if err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsInput{TransactItems: append([]types.TransactWriteItem{update}, journal...)}, nil
}

// replace writes next over cur and j in one transaction, conditioned on
// cur's version (item 0). When the pair changes, the guard moves in the
// same transaction (item 1 the new guard, the last item the old one's
// delete). errRace when the version condition fails.
func (s *Store) replace(ctx context.Context, cur, next bond.Bond, j bond.Journal) error {
	if cur.HostAccountID == next.HostAccountID && cur.SubAccountID == next.SubAccountID {
		in, err := s.replaceInput(cur, next, j)
		if err != nil {
			return err
		}
		_, err = s.client.TransactWriteItems(ctx, in)
		if lost := conditionLost(cancellation(err), 1, j); lost != nil {
			return lost
		}
		return err
	}
	update, err := s.bondUpdate(cur, next)
	if err != nil {
		return err
	}
	newGuardPut, err := s.conditionalPut(newGuard(next), ownedOrFree(next.BondID))
	if err != nil {
		return err
	}
	journal, err := s.journalItems(j)
	if err != nil {
		return err
	}
	return s.withOldGuard(ctx, cur, func(oldGuard []types.TransactWriteItem) error {
		items := append(append([]types.TransactWriteItem{update, {Put: newGuardPut}}, journal...), oldGuard...)
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		reasons := cancellation(err)
		if lost := conditionLost(reasons, 2, j); lost != nil {
			return lost
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
	del, err := s.oldGuardDelete(b)
	if err != nil {
		return err
	}
	err = write([]types.TransactWriteItem{del})
	if reasons := cancellation(err); len(reasons) > 0 {
		if _, ok := failedCondition(reasons, len(reasons)-1); ok {
			return write(nil)
		}
	}
	return err
}

// Remove deletes the bond and its guard and writes its gone item (the
// version it is deleted at and the last revision) and j, in one
// transaction conditioned on that version. bond.ErrRace.
func (s *Store) Remove(ctx context.Context, old bond.Bond, j bond.Journal) error {
	op := "remove bond " + old.BondID
	if _, err := s.ready(ctx); err != nil {
		return s.translate(ctx, op, err)
	}
	items, err := s.removeItems(old, j)
	if err != nil {
		return s.translate(ctx, op, err)
	}
	err = s.withOldGuard(ctx, old, func(oldGuard []types.TransactWriteItem) error {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: append(items[:len(items):len(items)], oldGuard...),
		})
		if lost := conditionLost(cancellation(err), 2, j); lost != nil {
			return lost
		}
		return err
	})
	if errors.Is(err, errRace) {
		return err
	}
	return s.translate(ctx, op, err)
}

// oldGuardDelete is the delete of b's pair guard, on the condition that b
// owns it or no bond does.
func (s *Store) oldGuardDelete(b bond.Bond) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(ownedOrFree(b.BondID)).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key(guardKey(b.HostAccountID, b.SubAccountID)),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// removeItems are the items of Remove's transaction but the old guard's
// delete: the bond's delete on its version (first, so a failed condition
// at index 0 is a race), its gone item, and j.
func (s *Store) removeItems(old bond.Bond, j bond.Journal) ([]types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().
		WithCondition(expression.And(exists(), versionIs(old.Version))).Build()
	if err != nil {
		return nil, err
	}
	bondDel := types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key(old.BondID),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}
	gonePut := types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: goneItem(old, j.LastRevision(old.Revision))}}
	journal, err := s.journalItems(j)
	if err != nil {
		return nil, err
	}
	return append([]types.TransactWriteItem{bondDel, gonePut}, journal...), nil
}

// Ping reads a key that never exists, which checks the endpoint, the
// credentials and the table in one cheap call.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.ready(ctx); err != nil {
		return translate("ping dynamodb table "+s.table, err)
	}
	_, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(guardPrefix)})
	if err != nil {
		if e := s.translate(ctx, "ping dynamodb table "+s.table, err); bond.KindOf(e) == bond.KindUnavailable {
			return e // a table gone, named
		}
		return bond.Unavailable("ping dynamodb table "+s.table, err)
	}
	return nil
}

// Close does nothing: the client's connections belong to its owner.
func (s *Store) Close() error { return nil }

// conditionLost reads the outcome of a write conditioned on the stored
// version (item 0, the bond's update or delete) and carrying journal j
// (its idempotency record at item recordAt): bond.ErrKeyTaken when a live
// record holds the record's key (checked first: the race is then lost for
// good), errRace when the version changed, nil when neither condition
// failed.
func conditionLost(reasons []types.CancellationReason, recordAt int, j bond.Journal) error {
	if keyTaken(reasons, recordAt, j) {
		return bond.ErrKeyTaken
	}
	if _, ok := failedCondition(reasons, 0); ok {
		return errRace
	}
	return nil
}
