package dynamostore_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/localdb"
)

// fixture is a store on a fresh table, with the raw client to look under it.
type fixture struct {
	client *dynamodb.Client
	table  string
	store  *dynamostore.Store
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	client := serviceClient(t)
	table := dynamotest.NewTable(t, client)
	return fixture{client: client, table: table, store: dynamostore.New(client, table)}
}

// scan returns every item of the table, bonds and guards alike.
func (f fixture) scan(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(f.client, &dynamodb.ScanInput{TableName: &f.table, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		require.NoError(t, err)
		items = append(items, out.Items...)
	}
	return items
}

// ids returns the bond_id of every item of the table, sorted.
func (f fixture) ids(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, it := range f.scan(t) {
		ids = append(ids, it["bond_id"].(*types.AttributeValueMemberS).Value)
	}
	slices.Sort(ids)
	return ids
}

// putRaw writes item as is, as the original service (or a bulk load) would.
func (f fixture) putRaw(t *testing.T, item map[string]any) {
	t.Helper()
	av, err := attributevalue.MarshalMap(item)
	require.NoError(t, err)
	_, err = f.client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &f.table, Item: av})
	require.NoError(t, err)
}

// legacy is a bond item in the original's layout: no version, no guard.
func legacy(id, host, sub string) map[string]any {
	return map[string]any{
		"bond_id": id, "host_account_id": host, "sub_account_id": sub,
		"host_cost_center": "teal", "sub_cost_center": "yellow",
		"subscribers": map[string]any{
			"rharper": map[string]any{"sid": "rharper", "name": "Richard Harper", "email": "richharper@example.com"},
		},
	}
}

func newBond(id, host, sub string) bond.Bond {
	return bond.Bond{BondID: id, HostAccountID: host, SubAccountID: sub,
		HostCostCenter: "teal", SubCostCenter: "yellow", Subscribers: map[string]bond.Subscriber{}}
}

func requireKind(t *testing.T, err error, want bond.Kind) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, bond.KindOf(err), "kind of %v", err)
}

func TestStore_PairTaken(t *testing.T) {
	t.Parallel()
	t.Run("create leaves no partial write", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := bond.Create(t.Context(), f.store, newBond("A", "H/1", "S.1"))
		require.NoError(t, err)
		before := f.ids(t)

		_, err = bond.Create(t.Context(), f.store, newBond("B", "H/1", "S.1"))
		requireKind(t, err, bond.KindPairTaken)
		assert.Contains(t, err.Error(), "bond_id=A")
		got, want := f.ids(t), before
		assert.Equal(t, want, got, "no item of B was written")
		assert.Equal(t, []string{"A", dynamostore.GuardKey("H/1", "S.1")}, got)
	})
	t.Run("update to a taken pair changes nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := bond.Create(t.Context(), f.store, newBond("A", "H", "S1"))
		require.NoError(t, err)
		c, err := bond.Create(t.Context(), f.store, newBond("C", "H", "S2"))
		require.NoError(t, err)
		before := f.ids(t)

		_, err = bond.UpdateBond(t.Context(), f.store, "C", bond.Update{SubAccountID: aws.String("S1")}, bond.IfVersion(bond.AnyVersion))
		requireKind(t, err, bond.KindPairTaken)
		assert.Contains(t, err.Error(), "bond_id=A")
		got, err := bond.Get(t.Context(), f.store, "C")
		require.NoError(t, err)
		assert.Equal(t, c, got)
		assert.Equal(t, before, f.ids(t))
	})
	t.Run("update moves the guard, delete removes it", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := bond.Create(t.Context(), f.store, newBond("A", "H", "S1"))
		require.NoError(t, err)
		_, err = bond.UpdateBond(t.Context(), f.store, "A", bond.Update{SubAccountID: aws.String("S2")}, bond.IfVersion(1))
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"A", dynamostore.GuardKey("H", "S2")}, f.ids(t))

		_, err = bond.Create(t.Context(), f.store, newBond("B", "H", "S1"))
		require.NoError(t, err, "the old pair is free again")
		require.NoError(t, bond.Delete(t.Context(), f.store, "A", bond.IfVersion(2)))
		require.NoError(t, bond.Delete(t.Context(), f.store, "B", bond.IfVersion(bond.AnyVersion)))
		assert.ElementsMatch(t, []string{"gone/A", "gone/B"}, f.ids(t), "no guard is left; each deleted id keeps its last version")

		again, err := bond.Create(t.Context(), f.store, newBond("A", "H", "S1"))
		require.NoError(t, err)
		assert.Equal(t, int64(3), again.Version, "A's second life starts after its first")
		assert.ElementsMatch(t, []string{"A", "gone/B", dynamostore.GuardKey("H", "S1")}, f.ids(t), "a re-created id has no gone item")
	})
}

func TestStore_GuardsNeverListed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 5 {
		b := newBond(fmt.Sprintf("B%d", i), "H", fmt.Sprintf("S%d", i))
		_, err := bond.Create(t.Context(), f.store, b)
		require.NoError(t, err)
	}
	require.Len(t, f.scan(t), 10, "5 bonds and 5 guards")
	for _, filter := range []bond.Filter{
		{},
		{ByHost: true},
		{CostCenter: "teal", ByHost: true},
		{CostCenter: "yellow"},
		{Account: "H", ByHost: true},
		{Account: "H", CostCenter: "teal", ByHost: true},
		{Account: "S3"},
	} {
		var got []string
		for cursor := ""; ; {
			page, err := bond.ListPage(t.Context(), f.store, filter, 2, cursor)
			require.NoError(t, err)
			for _, b := range page.Bonds {
				got = append(got, b.BondID)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		for _, id := range got {
			assert.NotContains(t, id, "/", "%+v lists a guard", filter)
		}
		want := 5
		if filter.Account == "S3" {
			want = 1
		}
		assert.Len(t, got, want, "%+v", filter)
	}
}

func TestStore_ListCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 3 {
		_, err := bond.Create(t.Context(), f.store, newBond(fmt.Sprintf("B%d", i), "H", fmt.Sprintf("S%d", i)))
		require.NoError(t, err)
	}
	byHost := bond.Filter{CostCenter: "teal", ByHost: true}
	page, err := bond.ListPage(t.Context(), f.store, byHost, 1, "")
	require.NoError(t, err)
	require.NotEmpty(t, page.Next)

	for name, tc := range map[string]struct {
		filter bond.Filter
		cursor string
	}{
		"garbage":            {byHost, "not a cursor!"},
		"not json":           {byHost, "bm90IGpzb24"},
		"other index":        {bond.Filter{CostCenter: "teal"}, page.Next},
		"other key value":    {bond.Filter{CostCenter: "red", ByHost: true}, page.Next},
		"index cursor, scan": {bond.Filter{}, page.Next},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bond.ListPage(t.Context(), f.store, tc.filter, 1, tc.cursor)
			requireKind(t, err, bond.KindInvalid)
		})
	}
}

// TestStore_ListFillsPages checks that a filter that drops items (the cost
// center on the account index) still gives full pages, and that the cursor
// taken in the middle of a DynamoDB page neither skips nor repeats.
func TestStore_ListFillsPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	want := map[string]bool{}
	for i := range 40 {
		b := newBond(fmt.Sprintf("B%02d", i), "H", fmt.Sprintf("S%02d", i))
		if i%3 == 0 {
			b.HostCostCenter = "red"
			want[b.BondID] = true
		}
		_, err := bond.Create(t.Context(), f.store, b)
		require.NoError(t, err)
	}
	got := map[string]bool{}
	filter := bond.Filter{Account: "H", CostCenter: "red", ByHost: true}
	pages := 0
	for cursor := ""; ; pages++ {
		page, err := bond.ListPage(t.Context(), f.store, filter, 4, cursor)
		require.NoError(t, err)
		if page.Next != "" {
			assert.Len(t, page.Bonds, 4, "a page before the last is full")
		}
		for _, b := range page.Bonds {
			assert.False(t, got[b.BondID], "%s listed twice", b.BondID)
			got[b.BondID] = true
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	assert.Equal(t, want, got)
	assert.LessOrEqual(t, pages, 4)
}

// TestAPI_List1500 lists 1,500 bonds of one cost center through the HTTP
// API, following Link rel="next", with limit 1000 and 7. The bonds are
// bulk-loaded (BatchWriteItem, no guards) and guarded by Migrate, as a table
// of the original service would be.
func TestAPI_List1500(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 1500
	var reqs []types.WriteRequest
	flush := func() {
		for len(reqs) > 0 {
			out, err := f.client.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{f.table: reqs}})
			require.NoError(t, err)
			reqs = out.UnprocessedItems[f.table]
		}
	}
	for i := range n {
		av, err := attributevalue.MarshalMap(legacy(fmt.Sprintf("B%04d", i), fmt.Sprintf("H%04d", i), "S"))
		require.NoError(t, err)
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		if len(reqs) == 25 {
			flush()
		}
	}
	flush()
	r, err := dynamostore.Migrate(t.Context(), f.client, f.table, localdb.TableDefinition, zerolog.Nop())
	require.NoError(t, err)
	assert.Equal(t, n, r.GuardsCreated)

	client := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), f.store, httpapi.Config{}))
	next := regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)
	for _, limit := range []int{1000, 7} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			seen := map[string]int{}
			path := fmt.Sprintf("/bonds?cost_center_id=teal&limit=%d", limit)
			for path != "" {
				res := client.Do(t, http.MethodGet, path, "", nil)
				require.Equal(t, http.StatusOK, res.Status, string(res.Body))
				for _, m := range regexp.MustCompile(`"bond_id":"([^"]+)"`).FindAllStringSubmatch(string(res.Body), -1) {
					seen[m[1]]++
				}
				path = ""
				if m := next.FindStringSubmatch(res.Header.Get("Link")); m != nil {
					path = m[1]
					if i := strings.Index(path, "/bonds"); i > 0 {
						path = path[i:]
					}
				}
			}
			assert.Len(t, seen, n)
			for id, times := range seen {
				if times != 1 {
					t.Errorf("%s listed %d times", id, times)
				}
			}
		})
	}
}

// TestStore_Legacy serves items written in the original's layout: no
// version, no guard item, sometimes no subscribers map.
func TestStore_Legacy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.putRaw(t, legacy("OLD", "H", "S"))
	noSubs := legacy("NOSUBS", "H", "S2")
	delete(noSubs, "subscribers")
	f.putRaw(t, noSubs)

	got, err := bond.Get(t.Context(), f.store, "OLD")
	require.NoError(t, err)
	assert.Equal(t, int64(0), got.Version)
	assert.Len(t, got.Subscribers, 1)

	t.Run("subscriber add and remove on a bond without a version", func(t *testing.T) {
		s := bond.Subscriber{SID: "k.hill", Name: "Kathryn Hill", Email: "khill@example.com"}
		got, err := bond.PutSubscriber(t.Context(), f.store, "OLD", s, bond.IfVersion(0))
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Version)
		assert.Equal(t, s, got.Subscribers["k.hill"], "a sid with a dot is one map key")
		got, err = bond.RemoveSubscriber(t.Context(), f.store, "OLD", "rharper", bond.IfVersion(1))
		require.NoError(t, err)
		assert.Equal(t, int64(2), got.Version)
		assert.Equal(t, []string{"k.hill"}, keys(got.Subscribers))
	})
	t.Run("subscriber add on a bond without a subscribers map", func(t *testing.T) {
		got, err := bond.Get(t.Context(), f.store, "NOSUBS")
		require.NoError(t, err)
		assert.Empty(t, got.Subscribers)
		got, err = bond.RemoveSubscriber(t.Context(), f.store, "NOSUBS", "nobody", bond.IfVersion(0))
		require.NoError(t, err, "removing from no map is a no-op")
		assert.Equal(t, int64(0), got.Version)

		s := bond.Subscriber{SID: "bob", Name: "Bob", Email: "bob@example.com"}
		got, err = bond.PutSubscriber(t.Context(), f.store, "NOSUBS", s, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.Equal(t, map[string]bond.Subscriber{"bob": s}, got.Subscribers)
		assert.Equal(t, int64(1), got.Version)
	})
	t.Run("subscribers written as a list are served and never lost", func(t *testing.T) {
		item := legacy("LIST", "H", "S4")
		item["subscribers"] = []map[string]string{
			{"sid": "ann", "name": "Ann", "email": "ann@example.com"},
			{"sid": "team[1]", "name": "Team", "email": "team@example.com"},
		}
		item["note"] = "kept by another writer"
		f.putRaw(t, item)
		got, err := bond.Get(t.Context(), f.store, "LIST")
		require.NoError(t, err)
		assert.Equal(t, []string{"ann", "team[1]"}, keys(got.Subscribers))

		s := bond.Subscriber{SID: "ops[eu]", Name: "Ops", Email: "ops@example.com"}
		got, err = bond.PutSubscriber(t.Context(), f.store, "LIST", s, bond.Precondition{})
		require.NoError(t, err)
		assert.Equal(t, []string{"ann", "ops[eu]", "team[1]"}, keys(got.Subscribers), "the listed subscribers are kept")
		got, err = bond.RemoveSubscriber(t.Context(), f.store, "LIST", "team[1]", bond.Precondition{})
		require.NoError(t, err)
		assert.Equal(t, []string{"ann", "ops[eu]"}, keys(got.Subscribers))
		stored, err := bond.Get(t.Context(), f.store, "LIST")
		require.NoError(t, err)
		assert.Equal(t, got, stored)
		raw := f.scan(t)
		for _, it := range raw {
			if it["bond_id"].(*types.AttributeValueMemberS).Value == "LIST" {
				assert.Contains(t, it, "note", "an attribute the service does not know is kept")
			}
		}
	})
	t.Run("subscribers the service cannot read are refused, never overwritten", func(t *testing.T) {
		item := legacy("BAD", "H", "S5")
		item["subscribers"] = []string{"ann", "bob"}
		f.putRaw(t, item)
		_, err := bond.Get(t.Context(), f.store, "BAD")
		requireKind(t, err, bond.KindUnreadable)
		_, err = bond.PutSubscriber(t.Context(), f.store, "BAD", bond.Subscriber{SID: "c", Name: "C", Email: "c@example.com"}, bond.Precondition{})
		requireKind(t, err, bond.KindUnreadable)
		_, err = bond.UpdateBond(t.Context(), f.store, "BAD", bond.Update{SubCostCenter: aws.String("red")}, bond.Precondition{})
		requireKind(t, err, bond.KindUnreadable)
		for _, it := range f.scan(t) {
			if it["bond_id"].(*types.AttributeValueMemberS).Value == "BAD" {
				assert.IsType(t, &types.AttributeValueMemberL{}, it["subscribers"], "left as it was")
			}
		}
	})
	t.Run("update with If-Match 0", func(t *testing.T) {
		f.putRaw(t, legacy("OLD2", "H", "S3"))
		_, err := bond.UpdateBond(t.Context(), f.store, "OLD2", bond.Update{SubCostCenter: aws.String("red")}, bond.IfVersion(1))
		requireKind(t, err, bond.KindVersionMismatch)
		got, err := bond.UpdateBond(t.Context(), f.store, "OLD2", bond.Update{SubCostCenter: aws.String("red")}, bond.IfVersion(0))
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Version)
		assert.Equal(t, "red", got.SubCostCenter)
	})
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	t.Run("creates a missing table", func(t *testing.T) {
		t.Parallel()
		client := serviceClient(t)
		table := fmt.Sprintf("migrate-%d", time.Now().UnixNano()) // Migrate creates it
		t.Cleanup(func() {
			_, _ = client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: &table})
		})
		r, err := dynamostore.Migrate(t.Context(), client, table, localdb.TableDefinition, zerolog.Nop())
		require.NoError(t, err)
		assert.True(t, r.TableCreated)
		assert.True(t, r.TTLEnabled, "Time to Live turned on for the idempotency records")
		ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: &table})
		require.NoError(t, err)
		assert.Equal(t, dynamostore.IdempotencyTTLAttribute, aws.ToString(ttl.TimeToLiveDescription.AttributeName))
		out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &table})
		require.NoError(t, err)
		assert.Equal(t, types.TableStatusActive, out.Table.TableStatus)
		assert.Len(t, out.Table.GlobalSecondaryIndexes, 4)

		r, err = dynamostore.Migrate(t.Context(), client, table, localdb.TableDefinition, zerolog.Nop())
		require.NoError(t, err)
		assert.Equal(t, dynamostore.MigrateReport{}, r, "second run: nothing to do")
	})
	t.Run("leaves idempotency records alone", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := bond.Create(t.Context(), f.store, newBond("A", "H", "S"))
		require.NoError(t, err)
		now := time.Now()
		require.NoError(t, f.store.Idempotency().Complete(t.Context(), idempotency.Record{Key: idempotency.Key{Scope: "anonymous", Value: "k"},
			Token: "t", Done: true, Expires: now.Add(time.Hour), Answer: idempotency.Answer{Status: 201, Body: []byte{0}}}, now))
		r, err := dynamostore.Migrate(t.Context(), f.client, f.table, localdb.TableDefinition, zerolog.Nop())
		require.NoError(t, err)
		assert.Equal(t, 1, r.Bonds, "the record is no bond")
		assert.Empty(t, r.Skipped)
	})
	t.Run("converts old guard keys and reports what it cannot handle", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		host, sub := strings.Repeat("帳", 100), "S/1"
		f.putRaw(t, legacy("A", host, sub))
		old := "pair/" + url.PathEscape(host) + "/" + url.PathEscape(sub) // the form written before
		f.putRaw(t, map[string]any{"bond_id": old, "guard_owner": "A", "guard_host": host, "guard_sub": sub})
		f.putRaw(t, map[string]any{"bond_id": "NOPAIR", "host_cost_center": "teal"})
		f.putRaw(t, map[string]any{"bond_id": "WRONGTYPE", "guard_owner": 7})

		r, err := dynamostore.Migrate(t.Context(), f.client, f.table, localdb.TableDefinition, zerolog.Nop())
		require.NoError(t, err)
		assert.Equal(t, 1, r.GuardsConverted)
		assert.Equal(t, 0, r.GuardsCreated, "A's guard existed, in the old form")
		assert.ElementsMatch(t, []string{"NOPAIR", "WRONGTYPE"}, []string{r.Skipped[0].Key, r.Skipped[1].Key})
		for _, sk := range r.Skipped {
			if sk.Key == "NOPAIR" {
				assert.Contains(t, sk.Reason, "(host_account_id: missing)", "the reads' own reason: one decoding path")
			}
		}
		assert.Equal(t, []string{"A", "NOPAIR", "WRONGTYPE", dynamostore.GuardKey(host, sub)}, f.ids(t))

		_, err = bond.Create(t.Context(), f.store, newBond("B", host, sub))
		requireKind(t, err, bond.KindPairTaken)
		again, err := dynamostore.Migrate(t.Context(), f.client, f.table, localdb.TableDefinition, zerolog.Nop())
		require.NoError(t, err)
		assert.Zero(t, again.GuardsConverted+again.GuardsCreated, "idempotent")
	})
	t.Run("backfills guards and reports duplicates", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.putRaw(t, legacy("OLD1", "H", "S1"))
		f.putRaw(t, legacy("OLD2", "H", "S2"))
		f.putRaw(t, legacy("DUP1", "H", "SD"))
		f.putRaw(t, legacy("DUP2", "H", "SD"))
		_, err := bond.Create(t.Context(), f.store, newBond("NEW", "H", "S3"))
		require.NoError(t, err)

		r, err := dynamostore.Migrate(t.Context(), f.client, f.table, localdb.TableDefinition, zerolog.Nop())
		require.NoError(t, err)
		assert.False(t, r.TableCreated)
		assert.Equal(t, 5, r.Bonds)
		assert.Equal(t, 3, r.GuardsCreated, "OLD1, OLD2 and one of DUP1/DUP2")
		require.Len(t, r.Duplicates, 1)
		d := r.Duplicates[0]
		assert.Equal(t, []string{"DUP1", "DUP2"}, sorted(d.Holder, d.BondID))
		assert.Equal(t, "H", d.HostAccountID)
		assert.Equal(t, "SD", d.SubAccountID)

		r2, err := dynamostore.Migrate(t.Context(), f.client, f.table, localdb.TableDefinition, zerolog.Nop())
		require.NoError(t, err)
		assert.Equal(t, 0, r2.GuardsCreated, "idempotent")
		assert.Equal(t, r.Duplicates, r2.Duplicates)

		for _, id := range []string{"DUP1", "DUP2", "OLD1"} {
			got, err := bond.Get(t.Context(), f.store, id)
			require.NoError(t, err, "nothing deleted")
			assert.Equal(t, int64(0), got.Version, "versions left alone")
		}
		_, err = bond.Create(t.Context(), f.store, newBond("X", "H", "S1"))
		requireKind(t, err, bond.KindPairTaken)
		assert.Contains(t, err.Error(), "bond_id=OLD1")

		// The bond without the guard of its duplicate pair can move away
		// and be deleted without taking the holder's guard along.
		_, err = bond.UpdateBond(t.Context(), f.store, d.BondID, bond.Update{SubAccountID: aws.String("SE")}, bond.IfVersion(0))
		require.NoError(t, err)
		require.NoError(t, bond.Delete(t.Context(), f.store, d.BondID, bond.IfVersion(1)))
		_, err = bond.Create(t.Context(), f.store, newBond("Y", "H", "SD"))
		requireKind(t, err, bond.KindPairTaken)
		assert.Contains(t, err.Error(), "bond_id="+d.Holder)
	})
}

func sorted(s ...string) []string { slices.Sort(s); return s }
