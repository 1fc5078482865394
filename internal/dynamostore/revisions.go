package dynamostore

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Revisions live in a second table, RevisionsTable(table): hash key bond_id
// (S), range key revision (N), so that the revisions of one bond are one
// partition, listed newest first by one Query (ScanIndexForward false), and
// never read by a listing of bonds (Scan, the four indexes), whose cost
// stays what it was. Migrate creates it from
// localdb/03-create-revisions-table.json and enables TTL on expires_at.
//
// A revision item holds the revision's JSON (bond.MarshalRevision),
// gzipped, in data (B). A bond may take up to 400 KB as an item, and its
// JSON is larger still, so when the gzipped JSON is over maxInline, data is
// left out and chunks (N) says how many chunk items hold it, each of at most
// maxInline bytes, under the hash key "<bond_id>/<revision>" (a bond id
// holds no '/', so no bond's revisions share it) and the range key 0, 1, ...;
// GET of the revision reads them back in order and joins them. All of them
// are written in the transaction of the change, so a transaction holds at
// most 5 items of the change and its guards, 1 revision item, 1 update of
// the previous revision's expiry and a handful of chunks: far below
// DynamoDB's 100 items and 4 MB.
//
// Retention: with a retention, expires_at (a TTL attribute, Unix seconds)
// is set on a revision when a later write supersedes it (the write's
// transaction sets it on the previous revision's item) and on a delete's
// revision at once, to the write's time plus the retention. The newest
// revision of an existing bond has none and never expires. The update of
// the previous revision does not know whether its item still exists (a
// delete's revision may have expired): where it does not, DynamoDB makes
// an item of the key and expires_at alone, which the reads skip and TTL
// removes. Chunk items get an expiry only with a delete's revision; the
// chunks of a superseded revision are left when it expires (docs/operations.md,
// "Revision history: storage").
const (
	attrRevision  = "revision"
	attrData      = "data"
	attrChunks    = "chunks"
	attrExpiresAt = "expires_at"
	maxInline     = 350_000 // bytes of gzipped JSON in one item, leaving room for the key and attributes
)

// RevisionsTable is the name of the revisions table of the bonds table
// table.
func RevisionsTable(table string) string { return table + "_revisions" }

// revisionKey is the key of revision n of bond id (or chunk n under a
// chunk key).
func revisionKey(id string, n int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrBondID:   &types.AttributeValueMemberS{Value: id},
		attrRevision: &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)},
	}
}

// chunkKey is the hash key of the chunks of revision n of bond id.
func chunkKey(id string, n int64) string { return id + "/" + strconv.FormatInt(n, 10) }

func epoch(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// journalItems are the transaction items that write j; the first is the
// put of its idempotency record when it has one (see keyTaken).
func (s *Store) journalItems(j bond.Journal) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	if j.Idempotency != nil {
		put, err := s.completionPut(*j.Idempotency, j.IdempotencyAt)
		if err != nil {
			return nil, err
		}
		items = append(items, put)
	}
	r := j.Revision
	if r == nil {
		return items, nil
	}
	data, err := bond.MarshalRevision(*r)
	if err != nil {
		return nil, err
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(data) // a bytes.Buffer does not fail
	if err := zw.Close(); err != nil {
		return nil, err
	}
	expires := r.Time.Add(s.retention)
	item := revisionKey(r.BondID, r.Revision)
	if z.Len() <= s.inline {
		item[attrData] = &types.AttributeValueMemberB{Value: z.Bytes()}
	} else {
		zb := z.Bytes()
		n := 0
		for ; len(zb) > 0; n++ {
			part := zb[:min(s.inline, len(zb))]
			zb = zb[len(part):]
			chunk := revisionKey(chunkKey(r.BondID, r.Revision), int64(n))
			chunk[attrData] = &types.AttributeValueMemberB{Value: part}
			if s.retention > 0 && r.Deleted {
				chunk[attrExpiresAt] = epoch(expires)
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.revTable, Item: chunk}})
		}
		item[attrChunks] = &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
	}
	if s.retention > 0 && r.Deleted {
		item[attrExpiresAt] = epoch(expires)
	}
	// A revision is never replaced: its put is conditioned on the key being
	// free (a bond whose counter is behind its history is then unreadable,
	// see revisionTaken).
	unkept, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrBondID))).Build()
	if err != nil {
		return nil, err
	}
	items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.revTable, Item: item,
		ConditionExpression: unkept.Condition(), ExpressionAttributeNames: unkept.Names(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
	if s.retention > 0 && r.Revision > 1 {
		expr, err := expression.NewBuilder().WithUpdate(
			expression.Set(expression.Name(attrExpiresAt), expression.Value(expires.Unix()))).Build()
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: &s.revTable, Key: revisionKey(r.BondID, r.Revision-1),
			UpdateExpression:          expr.Update(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		}})
	}
	return items, nil
}

// ReadRevision returns revision n of bond id, with a strongly consistent
// read. KindUnreadable.
func (s *Store) ReadRevision(ctx context.Context, id string, n int64) (bond.Revision, bool, error) {
	op := "read revision of bond " + id
	if _, err := s.ready(ctx); err != nil {
		return bond.Revision{}, false, s.translate(ctx, op, err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.revTable, Key: revisionKey(id, n), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return bond.Revision{}, false, s.translate(ctx, op, err)
	}
	r, ok, err := s.decodeRevision(ctx, id, out.Item)
	return r, ok, s.translate(ctx, op, err)
}

// ListRevisions yields the revisions of id newest first, below revision
// below (0: all): Query pages of batch items, strongly consistent.
// KindUnreadable.
func (s *Store) ListRevisions(ctx context.Context, id string, below int64, batch int, yield func(bond.Revision) bool) error {
	op := "list revisions of bond " + id
	if _, err := s.ready(ctx); err != nil {
		return s.translate(ctx, op, err)
	}
	kc := expression.Key(attrBondID).Equal(expression.Value(id))
	if below > 0 {
		kc = kc.And(expression.Key(attrRevision).LessThan(expression.Value(below)))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return s.translate(ctx, op, err)
	}
	in := &dynamodb.QueryInput{
		TableName: &s.revTable, ConsistentRead: aws.Bool(true), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		Limit:                     aws.Int32(int32(min(max(batch, 1), 1000))),
	}
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return s.translate(ctx, op, err)
		}
		for _, item := range out.Items {
			r, ok, err := s.decodeRevision(ctx, id, item)
			if err != nil {
				return s.translate(ctx, op, err)
			}
			if ok && !yield(r) {
				return nil
			}
		}
	}
	return nil
}

// decodeRevision reads a revision item of bond id (its chunks too); ok is
// false for no item, or an item of the key and expires_at alone (see
// above). KindUnreadable for one that does not read.
func (s *Store) decodeRevision(ctx context.Context, id string, item map[string]types.AttributeValue) (bond.Revision, bool, error) {
	if item == nil {
		return bond.Revision{}, false, nil
	}
	n, err := readVersion(item[attrRevision])
	if err != nil {
		return bond.Revision{}, false, bond.ErrUnreadable(id, "revision: "+err.Error())
	}
	var z []byte
	switch d := item[attrData].(type) {
	case *types.AttributeValueMemberB:
		z = d.Value
	case nil:
		c, present := item[attrChunks]
		if !present {
			return bond.Revision{}, false, nil
		}
		count, err := readVersion(c)
		if err != nil {
			return bond.Revision{}, false, bond.ErrUnreadable(id, fmt.Sprintf("revision %d: chunks: %v", n, err))
		}
		if z, err = s.readChunks(ctx, id, n, count); err != nil {
			return bond.Revision{}, false, err
		}
	default:
		return bond.Revision{}, false, bond.ErrUnreadable(id, fmt.Sprintf("revision %d: data: not binary", n))
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return bond.Revision{}, false, bond.ErrUnreadable(id, fmt.Sprintf("revision %d: data: %v", n, err))
	}
	data, err := io.ReadAll(io.LimitReader(zr, bond.MaxRevisionBytes+1)) // more is refused: a bomb reads no further
	if err != nil {
		return bond.Revision{}, false, bond.ErrUnreadable(id, fmt.Sprintf("revision %d: data: %v", n, err))
	}
	r, err := bond.UnmarshalRevision(id, data)
	if err == nil && r.Revision != n {
		err = bond.ErrUnreadable(id, fmt.Sprintf("revision %d: stored under %d", r.Revision, n))
	}
	return r, err == nil, err
}

// readChunks returns the joined data of the count chunks of revision n of
// bond id.
func (s *Store) readChunks(ctx context.Context, id string, n, count int64) ([]byte, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrBondID).Equal(expression.Value(chunkKey(id, n)))).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: &s.revTable, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	var z []byte
	var got int64
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, item := range out.Items {
			i, err := readVersion(item[attrRevision])
			d, ok := item[attrData].(*types.AttributeValueMemberB)
			if err != nil || i != got || !ok {
				return nil, bond.ErrUnreadable(id, fmt.Sprintf("revision %d: chunk %d", n, got))
			}
			z = append(z, d.Value...)
			got++
		}
	}
	if got != count {
		return nil, bond.ErrUnreadable(id, fmt.Sprintf("revision %d: %d of %d chunks", n, got, count))
	}
	return z, nil
}
