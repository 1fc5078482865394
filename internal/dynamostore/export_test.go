package dynamostore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// GuardKey exposes guardKey to the external tests.
var GuardKey = guardKey

// DecodeBond exposes decodeBond to the external tests.
var DecodeBond = decodeBond

// ItemOf is the item the store writes for b.
func ItemOf(b bond.Bond) map[string]types.AttributeValue {
	av, err := attributevalue.MarshalMap(bondValue(b))
	if err != nil {
		panic(err)
	}
	return av
}

// SetRecheck sets how long s keeps a table's refusal before it checks again.
func SetRecheck(s *Store, d time.Duration) { s.check.every = d }

// SetInline sets the largest gzipped revision s keeps in one item, so that
// tests reach the chunks with small bonds.
func SetInline(s *Store, n int) { s.inline = n }

// PutIdemRecord writes rec without a condition, as an earlier release's
// Begin wrote an in-flight record.
func PutIdemRecord(ctx context.Context, s *Store, rec idempotency.Record) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: idemItem(rec)})
	return err
}
