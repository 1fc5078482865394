package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

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
	// Guard items have a guard_owner; bonds never do.
	c := expression.AttributeNotExists(expression.Name(attrGuardOwner))
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
	invalid := bond.Invalid(bond.Problem{Loc: []string{"query", "next_token"},
		Msg: "the page token is not valid for this query", Type: "value_error.next_token"})
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

// List fills a page of up to limit bonds, reading as many DynamoDB pages as
// it takes (a filter may drop items). When it stops in the middle of a
// DynamoDB page, the cursor is the key of the last bond returned, not
// DynamoDB's LastEvaluatedKey, so the next page neither skips nor repeats.
func (s *Store) List(ctx context.Context, f bond.Filter, limit int, cur string) (bond.Page, error) {
	op := "list bonds"
	if limit < 1 {
		return bond.Page{}, fmt.Errorf("%s: limit %d < 1", op, limit)
	}
	p := planFor(f)
	start, err := p.startKey(cur)
	if err != nil {
		return bond.Page{}, err
	}
	index, err := s.indexFor(ctx, p.keyAttr)
	if err != nil {
		return bond.Page{}, translate(op, err)
	}
	b := expression.NewBuilder()
	if p.keyAttr != "" {
		b = b.WithKeyCondition(expression.Key(p.keyAttr).Equal(expression.Value(p.keyValue)))
	}
	if p.filter != nil {
		b = b.WithFilter(*p.filter)
	}
	expr, err := b.Build()
	if err != nil {
		return bond.Page{}, translate(op, err)
	}

	page := bond.Page{Bonds: make([]bond.Bond, 0, min(limit, 128))}
	for {
		items, last, err := s.readPage(ctx, index, expr, start, int32(limit))
		if err != nil {
			return bond.Page{}, translate(op, err)
		}
		for i, item := range items {
			b, ok, err := decodeBond(item)
			if err != nil {
				return bond.Page{}, translate(op, err)
			}
			if !ok {
				continue // a guard: the filter keeps them out, be safe anyway
			}
			page.Bonds = append(page.Bonds, b)
			if len(page.Bonds) == limit {
				if i < len(items)-1 || last != nil {
					page.Next = encodeCursor(p.cursorAt(b))
				}
				return page, nil
			}
		}
		if last == nil {
			return page, nil
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

// indexFor returns the name of the GSI whose hash key is attr ("" for "").
// The names are read once from DescribeTable, so the store serves both the
// table of localdb/01-create-table.json and one created by the original
// service, whatever their indexes are called.
func (s *Store) indexFor(ctx context.Context, attr string) (string, error) {
	if attr == "" {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.indexes == nil {
		out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
		if err != nil {
			return "", err
		}
		idx := map[string]string{}
		for _, g := range out.Table.GlobalSecondaryIndexes {
			for _, k := range g.KeySchema {
				if k.KeyType == types.KeyTypeHash {
					idx[aws.ToString(k.AttributeName)] = aws.ToString(g.IndexName)
				}
			}
		}
		s.indexes = idx
	}
	name, ok := s.indexes[attr]
	if !ok {
		return "", fmt.Errorf("table %s has no global secondary index on %s", s.table, attr)
	}
	return name, nil
}
