package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// listOf is a store that lists bonds, in order, whatever the filter: data
// from outside the process, which no validator has seen (a name may hold a
// control character or invalid UTF-8).
func listOf(bonds []bond.Bond) *bondfake.Repo {
	return &bondfake.Repo{ListFn: func(_ context.Context, _ bond.Filter, cursor string, _ int, yield func(bond.Bond, func() string) bool) error {
		start, _ := strconv.Atoi(cursor)
		for i := start; i < len(bonds); i++ {
			if !yield(bonds[i], func() string { return strconv.Itoa(i + 1) }) {
				return nil
			}
		}
		return nil
	}}
}

// anyText draws strings of runes from every Unicode category, the
// characters encoding/json escapes (C0 controls, '"', '\\', U+2028, U+2029,
// and '<', '>', '&' when HTML escaping is on), and bytes that are not UTF-8
// (encoded as U+FFFD, 3 bytes for 1).
func anyText() *rapid.Generator[string] {
	var tables []*unicode.RangeTable
	for _, cat := range []string{"Cc", "Cf", "Co", "Cs", "Ll", "Lm", "Lo", "Lt", "Lu", "Mc", "Me", "Mn",
		"Nd", "Nl", "No", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Sc", "Sk", "Sm", "So", "Zl", "Zp", "Zs"} {
		tables = append(tables, unicode.Categories[cat])
	}
	piece := rapid.OneOf(
		rapid.StringOfN(rapid.RuneFrom(nil, tables...), 1, 256, -1),
		rapid.StringOfN(rapid.RuneFrom([]rune{0, 1, 0x1f, 0x7f, 0x85, '"', '\\', '<', '>', '&', 0x2028, 0x2029, 0xfeff, 0xfffd}), 1, 256, -1),
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 1, 64), func(b []byte) string { return string(b) }),
	)
	return rapid.Custom(func(t *rapid.T) string {
		// Repeated to at least 1 KB, so that some tens of bonds reach a
		// page's bound.
		p := piece.Draw(t, "piece")
		return strings.Repeat(p, 1024/len(p)+rapid.IntRange(1, 8).Draw(t, "repeat"))
	})
}

// A list page is at most bond.MaxPageBytes on the wire, byte for byte, for
// bonds of any characters (a name of control characters once took 6 bytes a
// character, and a page cut at 1 MB of stored size was 5 MB sent); and the
// bound is exact: the page stops only when the next bond would not fit.
func TestBondList_PageBoundIsInBytesSent(t *testing.T) {
	cut := 0
	defer func() {
		t.Logf("%d of the pages were cut by size", cut)
		assert.Positive(t, cut, "no page was cut by size: the test draws too little")
	}()
	rapid.Check(t, func(t *rapid.T) {
		text := anyText()
		bonds := rapid.Custom(func(t *rapid.T) bond.Bond {
			subs := map[string]bond.Subscriber{}
			for i := range rapid.IntRange(20, 60).Draw(t, "subscribers") {
				sid := fmt.Sprintf("s%d", i)
				subs[sid] = bond.Subscriber{SID: sid, Name: text.Draw(t, "name"), Email: text.Draw(t, "email")}
			}
			id := text.Draw(t, "id")
			return bond.Bond{BondID: id, HostAccountID: text.Draw(t, "host"), SubAccountID: "S",
				HostCostCenter: "c", SubCostCenter: text.Draw(t, "cc"), Subscribers: subs}
		})
		all := rapid.SliceOfN(bonds, 20, 60).Draw(t, "bonds")
		srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), listOf(all), httpapi.Config{}))
		defer srv.Close()
		res, err := http.Get(srv.URL + "/bonds?limit=1000")
		require.NoError(t, err)
		defer res.Body.Close()
		var body bytes.Buffer
		_, err = body.ReadFrom(res.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode, "%.300s", body.Bytes())
		assert.Equal(t, strconv.Itoa(body.Len()), res.Header.Get("Content-Length"))

		var got []json.RawMessage
		require.NoError(t, json.Unmarshal(body.Bytes(), &got))
		require.NotEmpty(t, got)
		if len(got) < len(all) {
			cut++
		}
		if len(got) > 1 {
			assert.LessOrEqual(t, body.Len(), bond.MaxPageBytes, "a page of %d bonds", len(got))
		}
		if len(got) < len(all) {
			require.NotEmpty(t, res.Header.Get("Link"), "a cut page links to the next")
			// The bond left out would have taken the page past the bound:
			// its encoding and a ',' more.
			assert.Greater(t, body.Len()+1+len(encoded(t, all[len(got)])), bond.MaxPageBytes, "the page was cut early")
		} else {
			assert.Empty(t, res.Header.Get("Link"))
		}
	})
}

// encoded is b's JSON as the service sends it, with '<', '>' and '&' as
// they are (json.Marshal would escape them as \u003c, 6 bytes).
func encoded(t *rapid.T, b bond.Bond) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(b))
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// A list request reserves its page from the budget before it reads the
// store: while one page is being built (or sent) under a budget of one
// page, another list request waits, and past its deadline is a 503 with
// Retry-After; other routes are not held.
func TestBondList_PageBudget(t *testing.T) {
	listing := make(chan struct{}, 1)
	release := make(chan struct{})
	repo := &bondfake.Repo{
		ListFn: func(ctx context.Context, _ bond.Filter, _ string, _ int, yield func(bond.Bond, func() string) bool) error {
			select {
			case listing <- struct{}{}:
			default:
			}
			<-release
			return nil
		},
		ReadFn: func(context.Context, string) (bond.Bond, bool, error) {
			return bond.Bond{BondID: "A", Version: 1}, true, nil
		},
	}
	srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{
		PageBytesInFlight: bond.MaxPageBytes, RequestTimeout: 200 * time.Millisecond}))
	defer srv.Close()

	first := make(chan int)
	go func() {
		res, err := http.Get(srv.URL + "/bonds")
		if err != nil {
			first <- 0
			return
		}
		_ = res.Body.Close()
		first <- res.StatusCode
	}()
	<-listing // the first request holds the whole budget

	res, err := http.Get(srv.URL + "/bonds")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "1", res.Header.Get("Retry-After"))

	res, err = http.Get(srv.URL + "/bonds/A")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "a bond read needs no page budget")

	close(release)
	assert.Equal(t, http.StatusOK, <-first)
	res, err = http.Get(srv.URL + "/bonds")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "the budget is given back")
}
