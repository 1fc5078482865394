package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// The table rules: what the service needs of its table, checked by Migrate
// and by the store before it trusts the table (CheckTable).
//
//   - the table's key is the hash key bond_id of type S, with no range key;
//   - for each of indexedAttrs, a global secondary index whose hash key is
//     that attribute, of type S, with no range key or the range key bond_id,
//     that projects every attribute the service reads (itemAttrs): ALL, or
//     INCLUDE of every one that is not a key of the index. KEYS_ONLY never
//     does: a listing through it would read blank fields;
//   - its revisions table, RevisionsTable(table), has the hash key bond_id
//     of type S and the range key revision of type N (checkRevisionsTable).
var indexedAttrs = []string{attrHostCostCenter, attrHostAccountID, attrSubCostCenter, attrSubAccountID}

// itemAttrs are the attributes decodeBond reads: the bond's declared
// fields (bond.BondID, bond.BondFields, its subscribers) and version, so that
// a field added to the declaration is required of every index at once.
var itemAttrs = func() []string {
	names := []string{bond.BondID.Name}
	for _, f := range bond.BondFields {
		names = append(names, f.Name)
	}
	return append(names, attrSubscribers, attrVersion)
}()

// TableError says how a table breaks the table rules, in one line that names
// the table or index and what differs.
type TableError struct {
	Table  string
	Reason string
}

func (e *TableError) Error() string { return "table " + e.Table + ": " + e.Reason }

// layout is what the store learned from a table that passed the rules: the
// name of the index to query for each of indexedAttrs.
type layout struct {
	indexes map[string]string
}

// checkTable compares the description of a table with the table rules. It
// returns the index to use for each indexed attribute, or a *TableError.
// Several indexes on one hash key are fine as long as one of them passes;
// when none does, the first one's reason is given.
func checkTable(d *types.TableDescription) (layout, error) {
	table := aws.ToString(d.TableName)
	fail := func(format string, args ...any) (layout, error) {
		return layout{}, &TableError{Table: table, Reason: fmt.Sprintf(format, args...)}
	}
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, a := range d.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	hash, rng := keysOf(d.KeySchema)
	switch {
	case hash != attrBondID:
		return fail("hash key is %q; it must be %s (type S)", hash, attrBondID)
	case attrTypes[hash] != types.ScalarAttributeTypeS:
		return fail("hash key %s is of type %q; it must be S", hash, attrTypes[hash])
	case rng != "":
		return fail("has range key %s; the key must be %s alone", rng, attrBondID)
	}
	l := layout{indexes: map[string]string{}}
	for _, attr := range indexedAttrs {
		var first error
		for _, g := range d.GlobalSecondaryIndexes {
			if h, _ := keysOf(g.KeySchema); h != attr {
				continue
			}
			err := checkIndex(g, attrTypes)
			if err == nil {
				l.indexes[attr] = aws.ToString(g.IndexName)
				break
			}
			if first == nil {
				first = err
			}
		}
		switch {
		case l.indexes[attr] != "":
		case first != nil:
			return fail("%v", first)
		default:
			return fail("no global secondary index has the hash key %s (type S)", attr)
		}
	}
	return l, nil
}

// checkIndex checks one index whose hash key is one of indexedAttrs.
func checkIndex(g types.GlobalSecondaryIndexDescription, attrTypes map[string]types.ScalarAttributeType) error {
	name := aws.ToString(g.IndexName)
	hash, rng := keysOf(g.KeySchema)
	switch {
	case attrTypes[hash] != types.ScalarAttributeTypeS:
		return fmt.Errorf("index %s: hash key %s is of type %q; it must be S", name, hash, attrTypes[hash])
	case rng != "" && rng != attrBondID:
		return fmt.Errorf("index %s has range key %s; it must have none or %s", name, rng, attrBondID)
	case g.IndexStatus == types.IndexStatusCreating || g.IndexStatus == types.IndexStatusDeleting:
		return fmt.Errorf("index %s is %s; wait until it is ACTIVE", name, g.IndexStatus)
	}
	var projected []string
	var kind types.ProjectionType
	if g.Projection != nil {
		kind, projected = g.Projection.ProjectionType, g.Projection.NonKeyAttributes
	}
	if kind == types.ProjectionTypeAll {
		return nil
	}
	var missing []string
	for _, a := range itemAttrs {
		if a == attrBondID || a == hash || a == rng {
			continue // keys are always projected
		}
		if kind != types.ProjectionTypeInclude || !slices.Contains(projected, a) {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	what := string(kind)
	if what == "" {
		what = "nothing"
	}
	return fmt.Errorf("index %s projects %s; the service reads %s: it must project ALL", name, what, strings.Join(missing, ", "))
}

// keysOf returns the hash and range key attributes of a key schema.
func keysOf(ks []types.KeySchemaElement) (hash, rng string) {
	for _, k := range ks {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	return hash, rng
}

// recheckEvery is how long a store whose table broke the rules (or did not
// exist) answers with that reason before it describes the table again, so
// a fixed table is picked up without a restart while a broken one costs at
// most one DescribeTable every few seconds.
const recheckEvery = 5 * time.Second

// tableCheck is the store's knowledge of its table: the layout once the
// table passed the rules (it is not described again), else the reason it
// was refused and when.
type tableCheck struct {
	passed atomic.Pointer[layout]

	mu      sync.Mutex // guards what follows, and serialises DescribeTable
	refused error
	at      time.Time
	every   time.Duration
}

// ready returns the layout of the store's table, describing and checking
// the table until it passes the rules (and again once a call found a table
// gone: Store.translate). A table that breaks them, or does
// not exist, is bond.ErrStoreNotReady with the *TableError's line, for
// recheckEvery; a failed DescribeTable is translated and not remembered.
func (s *Store) ready(ctx context.Context) (layout, error) {
	if l := s.check.passed.Load(); l != nil {
		return *l, nil
	}
	c := &s.check
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.passed.Load(); l != nil {
		return *l, nil
	}
	if c.refused != nil && time.Since(c.at) < c.every {
		return layout{}, c.refused
	}
	l, err := describe(ctx, s.client, s.table)
	if err == nil {
		err = describeRevisions(ctx, s.client, s.revTable)
	}
	var te *TableError
	switch {
	case errors.As(err, &te):
		c.refused, c.at = bond.ErrStoreNotReady(te.Error(), te), time.Now()
		return layout{}, c.refused
	case err != nil:
		return layout{}, translate("describe table "+s.table, err)
	}
	c.passed.Store(&l)
	return l, nil
}

// forget drops the passed table check, so that the next call describes the
// tables again. A refusal already recorded (by a concurrent call that met
// the same missing table) is kept, so that they describe once.
func (c *tableCheck) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.passed.Load() != nil {
		c.passed.Store(nil)
		c.refused = nil
	}
}

// translate is the package's translate for a call on the store's tables. A
// ResourceNotFoundException says a table was deleted after it passed the
// check: the check is forgotten and run again (ready), so that this call,
// and every call until bond-registry migrate re-created the table, gets
// bond.ErrStoreNotReady naming the table that does not exist (503), as
// /readyz does.
func (s *Store) translate(ctx context.Context, op string, err error) error {
	if errors.As(err, new(*types.ResourceNotFoundException)) {
		s.check.forget()
		if _, rerr := s.ready(ctx); rerr != nil {
			return rerr
		}
	}
	return translate(op, err)
}

// CheckTable describes the store's table and compares it with the table
// rules (see indexedAttrs). nil when the table passed; else the error every
// request gets until it does: bond.ErrStoreNotReady naming what differs, or
// the failure of DescribeTable.
func (s *Store) CheckTable(ctx context.Context) error {
	_, err := s.ready(ctx)
	return err
}

// describe reads table's description and checks it (checkTable). A table
// that does not exist is a *TableError too.
func describe(ctx context.Context, client Client, table string) (layout, error) {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return layout{}, &TableError{Table: table, Reason: "does not exist; create it with bond-registry migrate"}
	}
	if err != nil {
		return layout{}, err
	}
	if out.Table == nil {
		return layout{}, &TableError{Table: table, Reason: "DescribeTable returned no description"}
	}
	return checkTable(out.Table)
}

// checkRevisionsTable compares the description of a revisions table with
// the table rules: nil, or a *TableError.
func checkRevisionsTable(d *types.TableDescription) error {
	table := aws.ToString(d.TableName)
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, a := range d.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	hash, rng := keysOf(d.KeySchema)
	switch {
	case hash != attrBondID || attrTypes[hash] != types.ScalarAttributeTypeS:
		return &TableError{Table: table, Reason: fmt.Sprintf("hash key is %q (type %q); it must be %s (type S)", hash, attrTypes[hash], attrBondID)}
	case rng != attrRevision || attrTypes[rng] != types.ScalarAttributeTypeN:
		return &TableError{Table: table, Reason: fmt.Sprintf("range key is %q (type %q); it must be %s (type N)", rng, attrTypes[rng], attrRevision)}
	}
	return nil
}

// describeRevisions reads the revisions table's description and checks it.
// A table that does not exist is a *TableError too.
func describeRevisions(ctx context.Context, client Client, table string) error {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return &TableError{Table: table, Reason: "does not exist; create it with bond-registry migrate"}
	case err != nil:
		return err
	case out.Table == nil:
		return &TableError{Table: table, Reason: "DescribeTable returned no description"}
	}
	return checkRevisionsTable(out.Table)
}

// indexFor returns the name of the checked GSI whose hash key is attr (""
// for "", a Scan of the table).
func (s *Store) indexFor(ctx context.Context, attr string) (string, error) {
	l, err := s.ready(ctx)
	if err != nil || attr == "" {
		return "", err
	}
	return l.indexes[attr], nil
}

// CheckDefinition compares a CreateTable input (localdb.ParseCreateTable's)
// with the table rules, so that Migrate never creates a table the store
// would refuse. nil, or a *TableError.
func CheckDefinition(in *dynamodb.CreateTableInput) error {
	_, err := checkTable(Description(in))
	return err
}

// Description is the description DynamoDB gives of a table created by in,
// once it and its indexes are ACTIVE.
func Description(in *dynamodb.CreateTableInput) *types.TableDescription {
	d := &types.TableDescription{
		TableName: in.TableName, TableStatus: types.TableStatusActive,
		AttributeDefinitions: in.AttributeDefinitions, KeySchema: in.KeySchema,
	}
	for _, g := range in.GlobalSecondaryIndexes {
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, types.GlobalSecondaryIndexDescription{
			IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection, IndexStatus: types.IndexStatusActive,
		})
	}
	return d
}
