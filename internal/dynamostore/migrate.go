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

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/localdb"
)

const (
	maxTableWait  = 2 * time.Minute // bound of the wait for a new table to become ACTIVE
	progressEvery = 10_000          // bonds between progress lines of a long backfill
)

// MigrateReport says what Migrate did.
type MigrateReport struct {
	TableCreated          bool
	TTLEnabled            bool        // Time to Live was turned on for the idempotency records now (ensureTTL)
	RevisionsTableCreated bool        // RevisionsTable(table), with TTL on expires_at
	Bonds                 int         // bonds scanned
	GuardsCreated         int         // guard items written (0 on a second run)
	GuardsConverted       int         // guard items moved from the old key form (0 on a second run)
	Duplicates            []Duplicate // pairs held by more than one bond before guards existed
	Skipped               []Skipped   // items Migrate could not handle and left as they are
}

// Skipped is an item Migrate left alone, and why (an item written by hand
// without the account ids, say). Fix it by hand and run Migrate again.
type Skipped struct {
	Key    string // its bond_id
	Reason string
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
// missing, waits until it is ACTIVE, and checks it against the table rules
// (a *TableError when it breaks them; nothing is written); it does the same
// for the revisions table (localdb/03-create-revisions-table.json), and
// enables TTL on expires_at of a revisions table it created. Bonds written
// before history get no revision until their next write. Then it scans every
// item: it backfills
// the guard item of every bond written without one (by the original
// service, or a bulk load) and moves guard items written in the old key
// form to guardKey's. A pair that several bonds already share is reported,
// never deleted; an item it cannot read is reported in Skipped and left as
// it is, and the scan goes on. Bonds without a version keep it missing (it
// reads as 0). Running it again changes nothing. log gets progress lines
// only; the caller reports r.
func Migrate(ctx context.Context, client Client, table string, tableDef []byte, log zerolog.Logger) (MigrateReport, error) {
	var r MigrateReport
	created, err := ensureTable(ctx, client, table, tableDef)
	if err != nil {
		return r, err
	}
	r.TableCreated = created
	if r.TTLEnabled, err = ensureTTL(ctx, client, table); err != nil {
		return r, err
	}
	if r.RevisionsTableCreated, err = ensureRevisionsTable(ctx, client, RevisionsTable(table)); err != nil {
		return r, err
	}

	in := &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)}
	for p := dynamodb.NewScanPaginator(client, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return r, translate("migrate: scan "+table, err)
		}
		for _, item := range out.Items {
			if err := migrateItem(ctx, client, table, item, &r); err != nil {
				return r, err
			}
			if r.Bonds > 0 && r.Bonds%progressEvery == 0 {
				log.Info().Str("table", table).Int("bonds", r.Bonds).Int("guards_created", r.GuardsCreated).Msg("migrating")
			}
		}
	}
	return r, nil
}

// migrateItem brings one item of the table to the current layout: a bond
// gets its guard item, a guard item in the old key form moves to the new
// one; anything it cannot read is reported in r.Skipped and left alone.
// Only a failed DynamoDB call stops Migrate.
func migrateItem(ctx context.Context, client Client, table string, item map[string]types.AttributeValue, r *MigrateReport) error {
	if _, gone := item[attrGoneVersion]; gone {
		return nil // the end of a deleted bond's life: nothing to migrate
	}
	if _, idem := item[attrIdemState]; idem {
		return nil // an idempotency record (idempotency.go): nothing to migrate
	}
	if _, guard := item[attrGuardOwner]; guard {
		var g guardItem
		if err := attributevalue.UnmarshalMap(item, &g); err != nil {
			id, _ := readString(item, attrBondID)
			r.Skipped = append(r.Skipped, Skipped{Key: id, Reason: "a guard item attribute has the wrong type"})
			return nil
		}
		return convertGuard(ctx, client, table, g, r)
	}
	r.Bonds++
	b, _, err := decodeBond(item) // the one decoding path: the rules of a request
	if err != nil {
		id, _ := readString(item, attrBondID)
		reason := err.Error()
		if be, ok := errors.AsType[*bond.Error](err); ok {
			reason = be.Message
		}
		r.Skipped = append(r.Skipped, Skipped{Key: id, Reason: reason})
		return nil
	}
	holder, created, err := backfillGuard(ctx, client, table, b.BondID, b.HostAccountID, b.SubAccountID)
	switch {
	case err != nil:
		return err
	case created:
		r.GuardsCreated++
	case holder != b.BondID:
		r.Duplicates = append(r.Duplicates, Duplicate{HostAccountID: b.HostAccountID, SubAccountID: b.SubAccountID, Holder: holder, BondID: b.BondID})
	}
	return nil
}

// convertGuard moves a guard item written under the old key form
// ("pair/" + escaped host + "/" + escaped sub) to guardKey, in one
// transaction: the new guard is put where no item is (or the same owner's
// guard already is), the old one deleted only if it still names that owner.
// A guard already in the current form is left alone.
func convertGuard(ctx context.Context, client Client, table string, old guardItem, r *MigrateReport) error {
	if old.Host == "" || old.Sub == "" {
		r.Skipped = append(r.Skipped, Skipped{Key: old.BondID, Reason: "guard item without guard_host or guard_sub"})
		return nil
	}
	newKey := guardKey(old.Host, old.Sub)
	if old.BondID == newKey {
		return nil
	}
	s := &Store{client: client, table: table}
	put, err := s.conditionalPut(guardItem{BondID: newKey, GuardOwner: old.GuardOwner, Host: old.Host, Sub: old.Sub}, ownedOrFree(old.GuardOwner))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	cond, err := expression.NewBuilder().WithCondition(expression.Name(attrGuardOwner).Equal(expression.Value(old.GuardOwner))).Build()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: put},
		{Delete: &types.Delete{TableName: &table, Key: key(old.BondID),
			ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}},
	}})
	if reasons := cancellation(err); len(reasons) > 0 {
		if holder, ok := failedCondition(reasons, 0); ok {
			r.Duplicates = append(r.Duplicates, Duplicate{HostAccountID: old.Host, SubAccountID: old.Sub,
				Holder: guardOwner(holder), BondID: old.GuardOwner})
			return nil
		}
		if _, ok := failedCondition(reasons, 1); ok {
			return nil // the old guard changed meanwhile: the next run sees it
		}
	}
	if err != nil {
		return translate("migrate: convert guard "+old.BondID, err)
	}
	r.GuardsConverted++
	return nil
}

// backfillGuard writes the guard item of a bond unless one exists. It returns
// the bond that holds the pair and whether the guard was created now.
func backfillGuard(ctx context.Context, client Client, table, id, host, sub string) (holder string, created bool, err error) {
	g := guardItem{BondID: guardKey(host, sub), GuardOwner: id, Host: host, Sub: sub}
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
		return "", false, translate("migrate: put guard of bond "+id, err)
	}
	return id, true, nil
}

// ensureRevisionsTable creates the revisions table when it does not exist,
// waits until it is ACTIVE, enables TTL on expires_at when it created it,
// and checks it. It reports whether it created the table.
func ensureRevisionsTable(ctx context.Context, client Client, table string) (bool, error) {
	err := describeRevisions(ctx, client, table)
	var te *TableError
	switch {
	case err == nil:
		return false, nil
	case !errors.As(err, &te):
		return false, translate("migrate: describe table "+table, err)
	}
	if _, nf := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table}); !errors.As(nf, new(*types.ResourceNotFoundException)) {
		return false, err // it exists and breaks the rules
	}
	in, err := localdb.RevisionsTableInput(table)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	_, err = client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return false, translate("migrate: create table "+table, err)
	}
	created := err == nil
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 200 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, maxTableWait); err != nil {
		return created, fmt.Errorf("migrate: wait for table %s: %w", table, err)
	}
	if created {
		_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &table,
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrExpiresAt), Enabled: aws.Bool(true)}})
		if err != nil {
			return created, translate("migrate: enable TTL on table "+table, err)
		}
	}
	return created, describeRevisions(ctx, client, table)
}

// ensureTable creates the table when DescribeTable says it does not exist,
// and waits until it is ACTIVE. It reports whether it created the table.
func ensureTable(ctx context.Context, client Client, table string, tableDef []byte) (bool, error) {
	created := false
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	var nf *types.ResourceNotFoundException
	if e := endpointError("DescribeTable", err); e != nil {
		return false, e
	}
	switch {
	case err == nil && out.Table == nil:
		return false, &EndpointError{URL: "the endpoint", Problem: "is not DynamoDB: DescribeTable answered without a table"}
	case errors.As(err, &nf):
		in, err := localdb.ParseCreateTable(tableDef, table)
		if err != nil {
			return false, fmt.Errorf("migrate: %w", err)
		}
		if err := CheckDefinition(in); err != nil {
			return false, fmt.Errorf("migrate: the table definition breaks the table rules: %w", err)
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
	if _, err := describe(ctx, client, table); err != nil {
		var te *TableError
		if errors.As(err, &te) {
			return created, err // one line naming the table or index: the caller prints it as is
		}
		return created, translate("migrate: describe table "+table, err)
	}
	return created, nil
}

// ensureTTL turns on DynamoDB's Time to Live on IdempotencyTTLAttribute,
// so that expired idempotency records are deleted; it reports whether it
// did now. A table whose TTL is on another attribute is an error: a table
// has one TTL attribute, and the records would never be deleted.
func ensureTTL(ctx context.Context, client Client, table string) (bool, error) {
	out, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		return false, translate("migrate: describe time to live of "+table, err)
	}
	if d := out.TimeToLiveDescription; d != nil && d.TimeToLiveStatus != types.TimeToLiveStatusDisabled && d.TimeToLiveStatus != "" {
		if attr := aws.ToString(d.AttributeName); attr != IdempotencyTTLAttribute {
			return false, &TableError{Table: table, Reason: fmt.Sprintf("Time to Live is on attribute %s; the idempotency records need it on %s", attr, IdempotencyTTLAttribute)}
		}
		return false, nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(IdempotencyTTLAttribute), Enabled: aws.Bool(true)}})
	if err != nil {
		return false, translate("migrate: enable time to live on "+table, err)
	}
	return true, nil
}
