package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// listPlan says how a filter is read: a Query on the GSI whose hash key is
// keyAttr, for keyAttr = keyValue (with a filter on the cost center when an
// account is also narrowed by one), or a Scan of the table without guard
// items when keyAttr is empty.
type listPlan struct {
	keyAttr  string
	keyValue string
	filter   *expression.ConditionBuilder
}

func planFor(f bond.Filter) listPlan {
	accountAttr, ccAttr := attrSubAccountID, attrSubCostCenter
	if f.ByHost {
		accountAttr, ccAttr = attrHostAccountID, attrHostCostCenter
	}
	switch {
	case f.Account != "":
		p := listPlan{keyAttr: accountAttr, keyValue: f.Account}
		if f.CostCenter != "" {
			c := expression.Name(ccAttr).Equal(expression.Value(f.CostCenter))
			p.filter = &c
		}
		return p
	case f.CostCenter != "":
		return listPlan{keyAttr: ccAttr, keyValue: f.CostCenter}
	}
	// Guard items have a guard_owner, gone items a gone_version,
	// idempotency records an idem_state; bonds never do. None has the
	// attributes the indexes are keyed on.
	c := expression.And(expression.AttributeNotExists(expression.Name(attrGuardOwner)),
		expression.AttributeNotExists(expression.Name(attrGoneVersion)),
		expression.AttributeNotExists(expression.Name(attrIdemState)))
	return listPlan{filter: &c}
}

// cursor is the position after the last bond of a page: the table key of
// that bond plus, on an index, its index key (the attribute and its value).
// Its JSON uses short names to keep next_token small.
type cursor struct {
	KeyAttr  string `json:"a,omitempty"`
	BondID   string `json:"b"`
	KeyValue string `json:"k,omitempty"`
}

func encodeCursor(c cursor) string {
	js, _ := json.Marshal(c) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(js)
}

// startKey decodes a cursor of this plan into an ExclusiveStartKey. A cursor
// that does not decode, or was made for another index or key value, is
// KindInvalid.
func (p listPlan) startKey(s string) (map[string]types.AttributeValue, error) {
	if s == "" {
		return nil, nil
	}
	invalid := bond.ErrBadCursor()
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.BondID == "" ||
		c.KeyAttr != p.keyAttr || c.KeyValue != p.keyValue {
		return nil, invalid
	}
	k := key(c.BondID)
	if p.keyAttr != "" {
		k[p.keyAttr] = &types.AttributeValueMemberS{Value: c.KeyValue}
	}
	return k, nil
}

// List yields the bonds matching f after cursor (see bond.Repository.List),
// reading DynamoDB pages of batch items (a Query on the filter's index, or a
// Scan without guard items) as yield asks for more. The cursor of a bond is
// its own key, not DynamoDB's LastEvaluatedKey, so a page that stops in the
// middle of a DynamoDB page neither skips nor repeats. KindInvalid
// (bond.ErrBadCursor), KindUnreadable for an item the service cannot read.
func (s *Store) List(ctx context.Context, f bond.Filter, after string, batch int, yield func(bond.Bond, func() string) bool) error {
	op := "list bonds"
	p := planFor(f)
	start, err := p.startKey(after)
	if err != nil {
		return err
	}
	index, err := s.indexFor(ctx, p.keyAttr)
	if err != nil {
		return s.translate(ctx, op, err)
	}
	eb := expression.NewBuilder()
	if p.keyAttr != "" {
		eb = eb.WithKeyCondition(expression.Key(p.keyAttr).Equal(expression.Value(p.keyValue)))
	}
	if p.filter != nil {
		eb = eb.WithFilter(*p.filter)
	}
	expr, err := eb.Build()
	if err != nil {
		return s.translate(ctx, op, err)
	}
	for {
		items, last, err := s.readPage(ctx, index, expr, start, int32(max(batch, 1)))
		if err != nil {
			return s.translate(ctx, op, err)
		}
		for _, item := range items {
			b, ok, err := decodeBond(item)
			if err != nil {
				return err
			}
			if !ok {
				continue // a guard or gone item: the filter keeps them out, be safe anyway
			}
			if !yield(b, func() string { return encodeCursor(p.cursorAt(b)) }) {
				return nil
			}
		}
		if last == nil {
			return nil
		}
		start = last
	}
}

func (p listPlan) cursorAt(b bond.Bond) cursor {
	return cursor{KeyAttr: p.keyAttr, BondID: b.BondID, KeyValue: p.keyValue}
}

// readPage reads one DynamoDB page: a Query on index, or a Scan of the table
// when index is empty.
func (s *Store) readPage(ctx context.Context, index string, expr expression.Expression, start map[string]types.AttributeValue, limit int32) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	if index == "" {
		out, err := s.client.Scan(ctx, &dynamodb.ScanInput{
			TableName: &s.table, ExclusiveStartKey: start, Limit: aws.Int32(limit),
			FilterExpression:          expr.Filter(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		})
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(index),
		ExclusiveStartKey: start, Limit: aws.Int32(limit),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return nil, nil, err
	}
	return out.Items, out.LastEvaluatedKey, nil
}
