package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/localdb"
)

const (
	maxTableWait  = 2 * time.Minute // bound of the wait for a new table to become ACTIVE
	progressEvery = 10_000          // bonds between progress lines of a long backfill
)

// MigrateReport says what Migrate did.
type MigrateReport struct {
	TableCreated  bool
	Bonds         int         // bonds scanned
	GuardsCreated int         // guard items written (0 on a second run)
	Duplicates    []Duplicate // pairs held by more than one bond before guards existed
}

// Duplicate is a (host account, subscriber account) pair that two bonds
// share, found by Migrate: the guard went to Holder, Bond is left without
// one. Migrate deletes nothing; fix the data by hand.
type Duplicate struct {
	HostAccountID string
	SubAccountID  string
	Holder        string // the bond the guard item belongs to
	BondID        string // the other bond with the same pair
}

// Migrate prepares table for the service: it creates the table from tableDef
// (the AWS CLI create-table JSON of localdb/01-create-table.json) when it is
// missing, waits until it is ACTIVE, then backfills the guard item of every
// bond written without one (by the original service, or a bulk load). A
// pair that several bonds already share is reported, never deleted. Bonds
// without a version keep it missing (it reads as 0). Running it again
// changes nothing. log gets progress lines only; the caller reports r.
func Migrate(ctx context.Context, client Client, table string, tableDef []byte, log zerolog.Logger) (MigrateReport, error) {
	var r MigrateReport
	created, err := ensureTable(ctx, client, table, tableDef)
	if err != nil {
		return r, err
	}
	r.TableCreated = created

	proj := expression.NamesList(expression.Name(attrBondID),
		expression.Name(attrHostAccountID), expression.Name(attrSubAccountID))
	expr, err := expression.NewBuilder().WithProjection(proj).
		WithFilter(expression.AttributeNotExists(expression.Name(attrGuardOwner))).Build()
	if err != nil {
		return r, fmt.Errorf("migrate: %w", err)
	}
	in := &dynamodb.ScanInput{
		TableName: &table, ConsistentRead: aws.Bool(true),
		ProjectionExpression:      expr.Projection(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	for p := dynamodb.NewScanPaginator(client, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return r, translate("migrate: scan "+table, err)
		}
		var items []bondItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return r, fmt.Errorf("migrate: decode items: %w", err)
		}
		for _, it := range items {
			r.Bonds++
			holder, created, err := backfillGuard(ctx, client, table, it)
			if err != nil {
				return r, err
			}
			switch {
			case created:
				r.GuardsCreated++
			case holder != it.BondID:
				r.Duplicates = append(r.Duplicates, Duplicate{
					HostAccountID: it.HostAccountID, SubAccountID: it.SubAccountID, Holder: holder, BondID: it.BondID})
			}
			if r.Bonds%progressEvery == 0 {
				log.Info().Str("table", table).Int("bonds", r.Bonds).Int("guards_created", r.GuardsCreated).Msg("migrating")
			}
		}
	}
	return r, nil
}

// backfillGuard writes the guard item of a bond unless one exists. It returns
// the bond that holds the pair and whether the guard was created now.
func backfillGuard(ctx context.Context, client Client, table string, it bondItem) (holder string, created bool, err error) {
	g := guardItem{BondID: guardKey(it.HostAccountID, it.SubAccountID), GuardOwner: it.BondID,
		Host: it.HostAccountID, Sub: it.SubAccountID}
	av, err := attributevalue.MarshalMap(g)
	if err != nil {
		return "", false, fmt.Errorf("migrate: %w", err)
	}
	expr, err := expression.NewBuilder().
		WithCondition(expression.AttributeNotExists(expression.Name(attrBondID))).Build()
	if err != nil {
		return "", false, fmt.Errorf("migrate: %w", err)
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &table, Item: av,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := condFailed(err); failed {
		return guardOwner(old), false, nil
	}
	if err != nil {
		return "", false, translate("migrate: put guard of bond "+it.BondID, err)
	}
	return it.BondID, true, nil
}

// ensureTable creates the table when DescribeTable says it does not exist,
// and waits until it is ACTIVE. It reports whether it created the table.
func ensureTable(ctx context.Context, client Client, table string, tableDef []byte) (bool, error) {
	created := false
	_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		in, err := localdb.ParseCreateTable(tableDef, table)
		if err != nil {
			return false, fmt.Errorf("migrate: %w", err)
		}
		_, err = client.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: created concurrently
			return false, translate("migrate: create table "+table, err)
		}
		created = err == nil
	case err != nil:
		return false, translate("migrate: describe table "+table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 200 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, maxTableWait); err != nil {
		return created, fmt.Errorf("migrate: wait for table %s: %w", table, err)
	}
	return created, nil
}
