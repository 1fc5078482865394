package bench

import (
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var jsonHeader = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
var acceptJSON = http.Header{"Accept": {"application/json"}}

// Targets builds the vegeta targeters of the scenarios against one server.
// Targeters are called by many vegeta workers at once: they only use atomic
// counters and the goroutine-safe top-level functions of math/rand/v2.
type Targets struct {
	Base  string // http://127.0.0.1:PORT
	Bonds int    // ids BondID(0..Bonds-1) exist
	// CostCenters are the host cost centers the list scenario asks for.
	CostCenters []string
	// Prefix makes the ids of created bonds unique to one run and server.
	Prefix string

	seq atomic.Uint64
}

// rng returns a small generator for one request's random content.
func rng() *rand.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) }

// GetBond is GET /bonds/{id} of a random existing bond.
func (t *Targets) GetBond() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		*tgt = vegeta.Target{Method: http.MethodGet, URL: t.Base + "/bonds/" + BondID(rand.IntN(t.Bonds)), Header: acceptJSON}
		return nil
	}
}

// CreateBond is POST /bonds of a bond with a fresh id and account pair.
func (t *Targets) CreateBond() vegeta.Targeter { return t.createBond(false) }

// CreateBondKeyed is CreateBond with a fresh Idempotency-Key on every
// request (a Structured Field string, as the header's draft sends it), so
// that each request takes the keyed path once: the read of the record, the
// create and the record in its transaction.
func (t *Targets) CreateBondKeyed() vegeta.Targeter { return t.createBond(true) }

func (t *Targets) createBond(keyed bool) vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		n := t.seq.Add(1)
		b := NewBond(rng(), t.Prefix, n)
		body, err := json.Marshal(b)
		if err != nil {
			return err
		}
		header := jsonHeader
		if keyed {
			header = jsonHeader.Clone()
			header.Set("Idempotency-Key", `"`+t.Prefix+"key-"+strconv.FormatUint(n, 10)+`"`)
		}
		*tgt = vegeta.Target{Method: http.MethodPost, URL: t.Base + "/bonds", Body: body, Header: header}
		return nil
	}
}

// AddSubscriber is POST /bonds/{id}/subscribers of a new subscriber to a
// random existing bond.
func (t *Targets) AddSubscriber() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		s := NewSubscriber(rng(), t.Prefix, t.seq.Add(1))
		body, err := json.Marshal(s)
		if err != nil {
			return err
		}
		*tgt = vegeta.Target{Method: http.MethodPost, URL: t.Base + "/bonds/" + BondID(rand.IntN(t.Bonds)) + "/subscribers",
			Body: body, Header: jsonHeader}
		return nil
	}
}

// ListPage is GET /bonds?cost_center_id=X&limit=100, the first page of a
// random one of CostCenters.
func (t *Targets) ListPage() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		cc := t.CostCenters[rand.IntN(len(t.CostCenters))]
		*tgt = vegeta.Target{Method: http.MethodGet,
			URL: t.Base + "/bonds?cost_center_id=" + url.QueryEscape(cc) + "&limit=100", Header: acceptJSON}
		return nil
	}
}

// Mixed is 90% GetBond, 5% CreateBond, 5% AddSubscriber.
func (t *Targets) Mixed() vegeta.Targeter {
	get, create, add := t.GetBond(), t.CreateBond(), t.AddSubscriber()
	return func(tgt *vegeta.Target) error {
		switch n := rand.IntN(100); {
		case n < 90:
			return get(tgt)
		case n < 95:
			return create(tgt)
		default:
			return add(tgt)
		}
	}
}

// loadedETag is the entity tag of a bond the bench created and did not
// change: the service answers version 1 of it as "1" (docs/api.md, "Conditional requests").
const loadedETag = `"1"`

// bareFixedHeaders are the header fields the service sends on every
// GET /bonds/{id} besides Content-Type, ETag, Content-Length, Date and
// X-Request-Id, with its values (internal/httpapi headers.go), so that the
// bare server answers the same bytes.
var bareFixedHeaders = map[string][]string{
	"Cache-Control":           {"private, no-cache"},
	"Content-Security-Policy": {"default-src 'none'; frame-ancestors 'none'"},
	"X-Content-Type-Options":  {"nosniff"},
	"X-Frame-Options":         {"DENY"},
}

// BareHandler is the reference server for GET /bonds/{id}: net/http's own
// mux answering the pre-encoded JSON of the data set's bonds with the
// header fields the service sends (the same bytes the service answers: the
// body, Content-Type, ETag, the fixed fields of bareFixedHeaders and an
// X-Request-Id drawn as the service draws it), no store, no logging.
func BareHandler(d Dataset) http.Handler {
	bodies := make(map[string][]byte, len(d.Bonds))
	for _, b := range d.Bonds {
		body, err := json.Marshal(b)
		if err != nil {
			panic(err) // a bond of plain strings always encodes
		}
		bodies[b.BondID] = append(body, '\n')
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bonds/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.PathValue("id")]
		if !ok {
			http.Error(w, `{"detail":"not found"}`, http.StatusNotFound)
			return
		}
		h := w.Header()
		for name, v := range bareFixedHeaders {
			h[name] = v
		}
		h["X-Request-Id"] = []string{crand.Text()}
		h["Content-Type"] = []string{"application/json"}
		h["Etag"] = []string{loadedETag}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return mux
}

// SameAnswer returns nil when GET path answers with the same status and
// header fields on the servers at a and b, with Date, X-Request-Id,
// Content-Length and ETag compared by presence only (each answer has its
// own; the write scenarios may have changed the bond on one side). The
// bench checks with it that the bare server sends the header fields the
// service does; the bodies are the same by construction (the data set's
// bonds, encoded as the service encodes them).
func SameAnswer(a, b, path string) error {
	get := func(base string) (*http.Response, error) {
		res, err := http.Get(base + path)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return res, err
	}
	ra, err := get(a)
	if err != nil {
		return err
	}
	rb, err := get(b)
	if err != nil {
		return err
	}
	if ra.StatusCode != rb.StatusCode {
		return fmt.Errorf("GET %s: status %d at %s, %d at %s", path, ra.StatusCode, a, rb.StatusCode, b)
	}
	names := map[string]bool{}
	for name := range ra.Header {
		names[name] = true
	}
	for name := range rb.Header {
		names[name] = true
	}
	for name := range names {
		va, vb := ra.Header[name], rb.Header[name]
		switch name {
		case "Date", "X-Request-Id", "Content-Length", "Etag":
			if len(va) != len(vb) {
				return fmt.Errorf("GET %s: %s %q at %s, %q at %s", path, name, va, a, vb, b)
			}
		default:
			if !slices.Equal(va, vb) {
				return fmt.Errorf("GET %s: %s %q at %s, %q at %s", path, name, va, a, vb, b)
			}
		}
	}
	return nil
}
