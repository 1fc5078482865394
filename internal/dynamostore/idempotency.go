package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// Idempotency records are items of the bond table, so that a later
// TransactWriteItems can write one with the change it records. The key of
// a record is "idem/" and its storage key (idempotency.Key.StorageKey, 64
// hex digits); bond ids cannot contain '/', so no bond can have it. A
// record item has idem_state, which no bond, guard or gone item has: the
// listing Scan and Migrate leave such items out, and none of the
// attributes the indexes are keyed on, so no Query meets one.
//
// Expiry: idem_expires holds the end of the record in Unix seconds, the
// form DynamoDB's Time to Live reads: with TTL enabled on idem_expires
// (IdempotencyTTLAttribute), DynamoDB deletes expired records within days.
// Until then Begin's condition treats them as absent, so an expired key is
// a new key whether or not TTL has run.
const (
	idemPrefix          = "idem/"
	attrIdemState       = "idem_state" // idemInFlight or idemCompleted
	attrIdemFingerprint = "idem_fingerprint"
	attrIdemToken       = "idem_token"
	attrIdemLease       = "idem_lease"   // Unix milliseconds
	attrIdemExpires     = "idem_expires" // Unix seconds (TTL)
	attrIdemStatus      = "idem_status"
	attrIdemLocation    = "idem_location"
	attrIdemETag        = "idem_etag"
	attrIdemContentType = "idem_content_type"
	attrIdemBody        = "idem_body" // packed (idempotency.PackBody)

	idemInFlight  = "in_flight"
	idemCompleted = "completed"
)

// IdempotencyTTLAttribute is the attribute to enable DynamoDB's Time to
// Live on, so that expired idempotency records are deleted.
const IdempotencyTTLAttribute = attrIdemExpires

// idemStore is the idempotency.Store of a Store.
type idemStore struct{ s *Store }

var _ idempotency.Provider = (*Store)(nil)

// Idempotency returns the store of idempotency records, items of the bond
// table.
func (s *Store) Idempotency() idempotency.Store { return idemStore{s} }

// idemKey is the primary key of the record of k.
func idemKey(k idempotency.Key) map[string]types.AttributeValue {
	return key(idemPrefix + k.StorageKey())
}

// idemItem is the item of rec.
func idemItem(rec idempotency.Record) map[string]types.AttributeValue {
	item := idemKey(rec.Key)
	state := idemInFlight
	if rec.Done {
		state = idemCompleted
	}
	item[attrIdemState] = &types.AttributeValueMemberS{Value: state}
	item[attrIdemFingerprint] = &types.AttributeValueMemberB{Value: rec.Fingerprint[:]}
	item[attrIdemToken] = &types.AttributeValueMemberS{Value: rec.Token}
	item[attrIdemLease] = &types.AttributeValueMemberN{Value: strconv.FormatInt(rec.LeaseEnd.UnixMilli(), 10)}
	item[attrIdemExpires] = &types.AttributeValueMemberN{Value: strconv.FormatInt(rec.Expires.Unix(), 10)}
	if rec.Done {
		a := rec.Answer
		item[attrIdemStatus] = &types.AttributeValueMemberN{Value: strconv.Itoa(a.Status)}
		for name, v := range map[string]string{attrIdemLocation: a.Location, attrIdemETag: a.ETag, attrIdemContentType: a.ContentType} {
			if v != "" {
				item[name] = &types.AttributeValueMemberS{Value: v}
			}
		}
		item[attrIdemBody] = &types.AttributeValueMemberB{Value: a.Body}
	}
	return item
}

// decodeIdem reads a record item of key k, under the rules of
// idempotency.Record.Check: an attribute missing or of the wrong type is
// idempotency.ErrUnreadable.
func decodeIdem(k idempotency.Key, item map[string]types.AttributeValue) (idempotency.Record, error) {
	unreadable := func(what string) (idempotency.Record, error) {
		return idempotency.Record{}, fmt.Errorf("%w: %s", idempotency.ErrUnreadable, what)
	}
	rec := idempotency.Record{Key: k}
	state, err := readString(item, attrIdemState)
	if err != nil || (state != idemInFlight && state != idemCompleted) {
		return unreadable(attrIdemState)
	}
	rec.Done = state == idemCompleted
	fp, ok := item[attrIdemFingerprint].(*types.AttributeValueMemberB)
	if !ok || len(fp.Value) != len(rec.Fingerprint) {
		return unreadable(attrIdemFingerprint)
	}
	copy(rec.Fingerprint[:], fp.Value)
	if rec.Token, err = readString(item, attrIdemToken); err != nil {
		return unreadable(err.Error())
	}
	lease, err := readInt(item, attrIdemLease)
	if err != nil {
		return unreadable(err.Error())
	}
	expires, err := readInt(item, attrIdemExpires)
	if err != nil {
		return unreadable(err.Error())
	}
	rec.LeaseEnd, rec.Expires = time.UnixMilli(lease), time.Unix(expires, 0)
	if rec.Done {
		status, err := readInt(item, attrIdemStatus)
		if err != nil {
			return unreadable(err.Error())
		}
		rec.Answer.Status = int(status)
		for name, dst := range map[string]*string{attrIdemLocation: &rec.Answer.Location, attrIdemETag: &rec.Answer.ETag, attrIdemContentType: &rec.Answer.ContentType} {
			if _, present := item[name]; present {
				if *dst, err = readString(item, name); err != nil {
					return unreadable(err.Error())
				}
			}
		}
		body, ok := item[attrIdemBody].(*types.AttributeValueMemberB)
		if !ok {
			return unreadable(attrIdemBody)
		}
		rec.Answer.Body = body.Value
	}
	return rec, rec.Check()
}

// readInt reads a number attribute that holds a whole number.
func readInt(item map[string]types.AttributeValue, name string) (int64, error) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("%s: not a number", name)
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: not a whole number", name)
	}
	return v, nil
}

// Begin puts rec where no live record holds its key: one conditional
// PutItem, whose condition is idempotency.Record.Live negated (no item, or
// expired, or in flight with its lease ended). When it fails, the item that
// made it fail comes back with the error (ALL_OLD) and is returned.
func (i idemStore) Begin(ctx context.Context, rec idempotency.Record, now time.Time) (idempotency.Record, bool, error) {
	op := "begin idempotency record"
	if _, err := i.s.ready(ctx); err != nil {
		return idempotency.Record{}, false, i.s.translate(ctx, op, err)
	}
	err := i.put(ctx, idemItem(rec), free(now))
	old, failed := condFailed(err)
	if !failed {
		return idempotency.Record{}, err == nil, i.s.translate(ctx, op, err)
	}
	if old == nil { // a DynamoDB that does not return the item: read it
		out, err := i.s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &i.s.table, Key: idemKey(rec.Key), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return idempotency.Record{}, false, i.s.translate(ctx, op, err)
		}
		if out.Item == nil {
			return idempotency.Record{}, false, translate(op, errors.New("the record vanished between the write and the read"))
		}
		old = out.Item
	}
	cur, err := decodeIdem(rec.Key, old)
	return cur, false, err
}

// free is the condition "no record holds the key at now": no item, or
// expired, or in flight with its lease ended (idempotency.Record.Live
// negated).
func free(now time.Time) expression.ConditionBuilder {
	return expression.Or(
		expression.AttributeNotExists(expression.Name(attrBondID)),
		expression.Name(attrIdemExpires).LessThanEqual(expression.Value(now.Unix())),
		expression.And(
			expression.Name(attrIdemState).Equal(expression.Value(idemInFlight)),
			expression.Name(attrIdemLease).LessThanEqual(expression.Value(now.UnixMilli()))))
}

// Complete puts the completed rec on the condition that the stored record
// is in flight under rec.Token. idempotency.ErrLeaseLost.
func (i idemStore) Complete(ctx context.Context, rec idempotency.Record) error {
	op := "complete idempotency record"
	if _, err := i.s.ready(ctx); err != nil {
		return i.s.translate(ctx, op, err)
	}
	err := i.put(ctx, idemItem(rec), heldBy(rec.Token))
	if _, failed := condFailed(err); failed {
		return idempotency.ErrLeaseLost
	}
	return i.s.translate(ctx, op, err)
}

// Release deletes the record of k on the condition that it is in flight
// under token; when it is not, it does nothing.
func (i idemStore) Release(ctx context.Context, k idempotency.Key, token string) error {
	op := "release idempotency record"
	if _, err := i.s.ready(ctx); err != nil {
		return i.s.translate(ctx, op, err)
	}
	expr, err := expression.NewBuilder().WithCondition(heldBy(token)).Build()
	if err != nil {
		return i.s.translate(ctx, op, err)
	}
	_, err = i.s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &i.s.table, Key: idemKey(k),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if _, failed := condFailed(err); failed {
		return nil
	}
	return i.s.translate(ctx, op, err)
}

// completionPut is the transaction item that stores the completed rec with
// the change it records, on the condition that the stored record is still
// in flight under rec.Token: a stale executor, whose lease a retry took
// over, fails it, and the change fails with it.
func (s *Store) completionPut(rec idempotency.Record) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(heldBy(rec.Token)).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: idemItem(rec),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// leaseLost reports whether a transaction whose journal items (journalItems)
// start at index at was cancelled by the condition of j's idempotency
// record (completionPut).
func leaseLost(reasons []types.CancellationReason, at int, j bond.Journal) bool {
	if j.Idempotency == nil {
		return false
	}
	_, ok := failedCondition(reasons, at)
	return ok
}

// heldBy is the condition "the record is in flight under token".
func heldBy(token string) expression.ConditionBuilder {
	return expression.And(
		expression.Name(attrIdemState).Equal(expression.Value(idemInFlight)),
		expression.Name(attrIdemToken).Equal(expression.Value(token)))
}

// put is a PutItem of item under cond that returns the item it met when
// cond fails.
func (i idemStore) put(ctx context.Context, item map[string]types.AttributeValue, cond expression.ConditionBuilder) error {
	in, err := i.putInput(item, cond)
	if err != nil {
		return err
	}
	_, err = i.s.client.PutItem(ctx, in)
	return err
}

// putInput is the PutItem of put.
func (i idemStore) putInput(item map[string]types.AttributeValue, cond expression.ConditionBuilder) (*dynamodb.PutItemInput, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemInput{
		TableName: &i.s.table, Item: item,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}
