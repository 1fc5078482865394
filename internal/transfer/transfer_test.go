package transfer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/transfer"
)

const sampleFile = "../../localdb/02-load-data.json"

// newStore opens an empty bolt store in a temporary directory.
func newStore(t testing.TB, dir string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(dir, "bonds.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func importString(t *testing.T, repo bond.Repository, in string) transfer.Report {
	t.Helper()
	rep, err := transfer.Import(t.Context(), repo, strings.NewReader(in))
	require.NoError(t, err)
	return rep
}

func refusals(rep transfer.Report) []string {
	var out []string
	for _, e := range rep.Refused {
		out = append(out, e.Error())
	}
	return out
}

func TestImport_SampleData(t *testing.T) {
	repo := newStore(t, t.TempDir())
	f, err := os.Open(sampleFile)
	require.NoError(t, err)
	defer f.Close()
	rep, err := transfer.Import(t.Context(), repo, f)
	require.NoError(t, err)
	assert.Equal(t, transfer.FormatBatchWriteItem, rep.Format)
	assert.Equal(t, 25, rep.Created)
	assert.Empty(t, rep.Skipped)
	assert.Empty(t, rep.Refused)

	foo, err := bond.Get(t.Context(), repo, "FOO")
	require.NoError(t, err)
	want := bond.Bond{
		BondID: "FOO", HostAccountID: "TAPV54703350425479", SubAccountID: "IMII87361536320662",
		HostCostCenter: "olive", SubCostCenter: "blue",
		Subscribers: map[string]bond.Subscriber{
			"aaronorr":              {SID: "aaronorr", Name: "Lori Rodriguez", Email: "mistymoore@yahoo.com"},
			"christopherwashington": {SID: "christopherwashington", Name: "David Watkins", Email: "patrickbaker@hotmail.com"},
			"jessicadavis":          {SID: "jessicadavis", Name: "Emily Garrett", Email: "walter59@yahoo.com"},
		},
	}
	assert.True(t, want.SameContent(foo), "FOO as in the file: %+v", foo)

	// Seeding twice is harmless: every bond is reported as skipped.
	data, err := os.ReadFile(sampleFile)
	require.NoError(t, err)
	rep = importString(t, repo, string(data))
	assert.Equal(t, 0, rep.Created)
	require.Len(t, rep.Skipped, 25)
	assert.Equal(t, transfer.Skip{Line: 3, BondID: "FOO", Reason: "exists with the same content"}, rep.Skipped[0])
}

const okLine = `{"bond_id":"%s","host_account_id":"H%[1]s","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d","subscribers":{}}`

func TestImport_NDJSONRefusedLines(t *testing.T) {
	repo := newStore(t, t.TempDir())
	lines := []string{
		fmt.Sprintf(okLine, "A"),
		"",
		fmt.Sprintf(okLine, "B"),
		`{"bond_id":"C","host_account_id":"HC","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d",` +
			`"subscribers":{"bob":{"sid":"bob","name":"Bob","email":"not-an-email"}}}`,
		`{"bond_id":"D","host_account_id":7}`,
		`{"bond_id":`,
		fmt.Sprintf(okLine, "A"),
		`{"bond_id":"E","host_account_id":"HA","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`, // A's pair
		`[1]`,
		`{"bond_id":"A","host_account_id":"HA","sub_account_id":"S","host_cost_center":"other","sub_cost_center":"d"}`,
	}
	rep := importString(t, repo, strings.Join(lines, "\n")+"\n")
	assert.Equal(t, transfer.FormatNDJSON, rep.Format)
	assert.Equal(t, 2, rep.Created)
	assert.Equal(t, []transfer.Skip{
		{Line: 7, BondID: "A", Reason: "exists with the same content"},
		{Line: 10, BondID: "A", Reason: "exists with other content, kept as stored"},
	}, rep.Skipped)
	assert.Equal(t, []string{
		"line 4: body.subscribers.bob.email: value is not a valid email address",
		"line 5: body.host_account_id: str type expected; body.sub_account_id: field required; " +
			"body.host_cost_center: field required; body.sub_cost_center: field required",
		"line 6: body: malformed JSON at byte 11: unexpected end of JSON input",
		"line 8: A bond already exists for host account HA and subscriber account S: bond_id=A",
		"line 9: body: value is not a valid dict",
	}, refusals(rep))
	_, err := bond.Get(t.Context(), repo, "C")
	assert.Equal(t, bond.KindNotFound, bond.KindOf(err), "a refused line creates nothing")
}

// A UTF-8 byte order mark at the start (Windows editors write one) refused
// the first line: "invalid character 'ï'". It is skipped, in both formats;
// one anywhere else is still refused.
func TestImport_ByteOrderMark(t *testing.T) {
	const bom = "\uFEFF"
	repo := newStore(t, t.TempDir())
	rep := importString(t, repo, bom+fmt.Sprintf(okLine, "A")+"\n"+bom+fmt.Sprintf(okLine, "B")+"\n")
	assert.Equal(t, transfer.FormatNDJSON, rep.Format)
	assert.Equal(t, 1, rep.Created)
	require.Len(t, rep.Refused, 1)
	assert.Equal(t, 2, rep.Refused[0].Line, "a mark past the start is not skipped")

	data, err := os.ReadFile(sampleFile)
	require.NoError(t, err)
	rep = importString(t, newStore(t, t.TempDir()), bom+string(data))
	assert.Equal(t, transfer.FormatBatchWriteItem, rep.Format)
	assert.Equal(t, 25, rep.Created)
	assert.Empty(t, rep.Refused)
}

// A line is bounded as a POST /bonds body is; the lines around it still go in.
func TestImport_LineTooLong(t *testing.T) {
	repo := newStore(t, t.TempDir())
	long := `{"bond_id":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	rep := importString(t, repo, fmt.Sprintf(okLine, "A")+"\n"+long+"\n"+fmt.Sprintf(okLine, "B"))
	assert.Equal(t, 2, rep.Created)
	assert.Equal(t, []string{fmt.Sprintf("line 2: body: a line holds at most %d bytes, as a POST /bonds body", httpapi.MaxBodyBytes)}, refusals(rep))
}

func TestImport_BatchWriteItemRefusals(t *testing.T) {
	repo := newStore(t, t.TempDir())
	in := `{"bond": [
  {"PutRequest": {"Item": {"bond_id": {"S": "A"}, "host_account_id": {"S": "H"}, "sub_account_id": {"S": "S"},
     "host_cost_center": {"S": "c"}, "sub_cost_center": {"S": "d"}, "subscribers": {"M": {}}}}},
  {"DeleteRequest": {"Key": {"bond_id": {"S": "A"}}}},
  {"PutRequest": {"Item": {"bond_id": {"N": "5"}, "host_account_id": {"S": "H2"}, "sub_account_id": {"S": "S"},
     "host_cost_center": {"BOOL": true}, "sub_cost_center": {"NULL": true},
     "subscribers": {"M": {"bob": {"M": {"sid": {"S": "bob"}, "name": {"S": "Bob"}, "email": {"S": "bob"}}}}}}}},
  {"PutRequest": {"Item": {"bond_id": "B"}}}
]}`
	rep := importString(t, repo, in)
	assert.Equal(t, transfer.FormatBatchWriteItem, rep.Format)
	assert.Equal(t, 1, rep.Created)
	assert.Equal(t, []string{
		"line 4 (bond[1]): PutRequest.Item: only a PutRequest with an Item is imported",
		"line 5 (bond[2]): body.bond_id: str type expected; body.host_cost_center: str type expected; " +
			"body.sub_cost_center: none is not an allowed value; body.subscribers.bob.email: value is not a valid email address",
		"line 8 (bond[3]): body.bond_id: str type expected; body.host_account_id: field required; body.sub_account_id: field required; " +
			"body.host_cost_center: field required; body.sub_cost_center: field required",
	}, refusals(rep))

	for in, want := range map[string]string{
		"{\n\"bond\": [\n{\"PutRequest\": }]}": "line 3: a BatchWriteItem request is an object mapping each table name to an array of requests: invalid character '}' looking for beginning of value",
		`{"bond": [], "x": [1]}`:               "line 1: a BatchWriteItem request is an object mapping each table name to an array of requests",
	} {
		_, err := transfer.Import(t.Context(), repo, strings.NewReader(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), "\n")
	}
}

// genBond draws a valid bond whose strings hold what JSON escapes (quotes,
// backslashes, <, >, &, U+2028, non-ASCII).
func genBond(t *rapid.T, i int) bond.Bond {
	text := rapid.StringOfN(rapid.SampledFrom([]rune("aZ9 -_\"\\<>&é\u2028😀")), 1, 12, -1)
	id := func(label string) string {
		return "x" + strings.ReplaceAll(text.Draw(t, label), "/", "") + "x"
	}
	b := bond.Bond{BondID: fmt.Sprintf("%d-%s", i, id("bond_id")), HostAccountID: fmt.Sprintf("h%d", i), SubAccountID: id("sub_account_id"),
		HostCostCenter: id("host_cost_center"), SubCostCenter: id("sub_cost_center"), Subscribers: map[string]bond.Subscriber{}}
	for j := range rapid.IntRange(0, 3).Draw(t, "subscribers") {
		sid := fmt.Sprintf("s%d%s", j, id("sid"))
		b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: id("name"), Email: fmt.Sprintf("u%d@example.com", j)}
	}
	return b
}

// exportString exports repo and returns the file.
func exportString(t require.TestingT, repo bond.Repository) string {
	var buf bytes.Buffer
	_, err := transfer.Export(context.Background(), repo, &buf)
	require.NoError(t, err)
	return buf.String()
}

// Export then import into an empty store gives the same representations, and
// each exported line is exactly the body GET /bonds/{id} answers.
func TestExportImport_RoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "transfer")
		require.NoError(rt, err)
		defer os.RemoveAll(dir)
		src, err := boltstore.Open(filepath.Join(dir, "src.db"))
		require.NoError(rt, err)
		defer src.Close()
		n := rapid.IntRange(0, 8).Draw(rt, "bonds")
		for i := range n {
			_, err := bond.Create(context.Background(), src, genBond(rt, i))
			require.NoError(rt, err)
		}
		exported := exportString(rt, src)
		assert.Equal(rt, n, strings.Count(exported, "\n"))

		dst, err := boltstore.Open(filepath.Join(dir, "dst.db"))
		require.NoError(rt, err)
		defer dst.Close()
		rep, err := transfer.Import(context.Background(), dst, strings.NewReader(exported))
		require.NoError(rt, err)
		assert.Equal(rt, n, rep.Created)
		assert.Empty(rt, rep.Refused)
		assert.Equal(rt, exported, exportString(rt, dst))

		srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), dst, httpapi.Config{}))
		defer srv.Close()
		for line := range strings.Lines(exported) {
			b, err := httpapi.DecodeBond([]byte(line))
			require.NoError(rt, err)
			res, err := http.Get(srv.URL + "/bonds/" + url.PathEscape(b.BondID))
			require.NoError(rt, err)
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			require.NoError(rt, err)
			assert.Equal(rt, http.StatusOK, res.StatusCode)
			assert.Equal(rt, line, string(body), "the exported line is the representation")
		}
	})
}
