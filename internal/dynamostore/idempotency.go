package dynamostore

import (
	"context"
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
// Until then Lookup and the condition of every record's put (free) treat
// them as absent, so an expired key is a new key whether or not TTL has run.
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
	if !rec.Done { // a record of an earlier release, or a test's
		item[attrIdemLease] = &types.AttributeValueMemberN{Value: strconv.FormatInt(rec.LeaseEnd.UnixMilli(), 10)}
	}
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
	expires, err := readInt(item, attrIdemExpires)
	if err != nil {
		return unreadable(err.Error())
	}
	rec.Expires = time.Unix(expires, 0)
	if !rec.Done { // in flight: under its lease (an earlier release's record)
		lease, err := readInt(item, attrIdemLease)
		if err != nil {
			return unreadable(err.Error())
		}
		rec.LeaseEnd = time.UnixMilli(lease)
	} else {
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

// Lookup reads the record of k with a strongly consistent GetItem; found
// when it is Live at now.
func (i idemStore) Lookup(ctx context.Context, k idempotency.Key, now time.Time) (idempotency.Record, bool, error) {
	op := "look up idempotency record"
	if _, err := i.s.ready(ctx); err != nil {
		return idempotency.Record{}, false, i.s.translate(ctx, op, err)
	}
	out, err := i.s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &i.s.table, Key: idemKey(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return idempotency.Record{}, false, i.s.translate(ctx, op, err)
	}
	if out.Item == nil {
		return idempotency.Record{}, false, nil
	}
	cur, err := decodeIdem(k, out.Item)
	if err != nil {
		return idempotency.Record{}, false, err
	}
	return cur, cur.Live(now), nil
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

// Complete puts the completed rec on the condition that no record is Live
// at now (free): one conditional PutItem. bond.ErrKeyTaken (which wraps
// idempotency.ErrKeyTaken).
func (i idemStore) Complete(ctx context.Context, rec idempotency.Record, now time.Time) error {
	op := "complete idempotency record"
	if _, err := i.s.ready(ctx); err != nil {
		return i.s.translate(ctx, op, err)
	}
	expr, err := expression.NewBuilder().WithCondition(free(now)).Build()
	if err != nil {
		return i.s.translate(ctx, op, err)
	}
	_, err = i.s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &i.s.table, Item: idemItem(rec),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if _, failed := condFailed(err); failed {
		return bond.ErrKeyTaken
	}
	return i.s.translate(ctx, op, err)
}

// completionPut is the transaction item that stores the completed rec with
// the change it records, on the condition that no record is Live at at
// (free): of two executions of one key, the second fails it, and its
// change fails with it.
func (s *Store) completionPut(rec idempotency.Record, at time.Time) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(free(at)).Build()
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

// keyTaken reports whether a transaction whose journal items (journalItems)
// start at index at was cancelled by the condition of j's idempotency
// record (completionPut).
func keyTaken(reasons []types.CancellationReason, at int, j bond.Journal) bool {
	if j.Idempotency == nil {
		return false
	}
	_, ok := failedCondition(reasons, at)
	return ok
}
