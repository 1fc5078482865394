// Package bench is the library of `make bench` (cmd/bondbench): the data set,
// the load scenarios driven by vegeta, the bare reference server, the server
// processes it measures, and the report (table, ratios, JSON, PNG). It knows
// the service only by its HTTP API (api/openapi.yaml) and its command line.
package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Bond is a bond as the API represents it (api/openapi.yaml, schema Bond):
// the body of POST /bonds and of a GET /bonds/{id} answer.
type Bond struct {
	BondID         string                `json:"bond_id"`
	HostAccountID  string                `json:"host_account_id"`
	SubAccountID   string                `json:"sub_account_id"`
	HostCostCenter string                `json:"host_cost_center"`
	SubCostCenter  string                `json:"sub_cost_center"`
	Subscribers    map[string]Subscriber `json:"subscribers"`
}

// Subscriber is a subscriber as the API represents it (schema Subscriber).
type Subscriber struct {
	SID   string `json:"sid"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// CostCenters is the number of cost centers of the data set. Their sizes
// follow a Zipf law: a few large cost centers hold most bonds, a long tail
// holds a handful each (at 10,000 bonds the largest has about 1,800 bonds,
// the median about 12).
const CostCenters = 300

// zipfS is the Zipf exponent of the cost center sizes.
const zipfS = 1.07

// Dataset is a deterministic set of bonds: the same (n, seed) always gives
// the same bonds, so that the bare reference server serves the very bytes
// the service answers for the bonds the bench created through its API.
type Dataset struct {
	Bonds []Bond
	// ByHostCostCenter is the number of bonds per host cost center.
	ByHostCostCenter map[string]int
}

// costCenterName is the name of the cost center of rank i (0: the largest).
func costCenterName(i int) string {
	colors := [...]string{"olive", "blue", "teal", "yellow", "maroon", "navy", "silver", "lime",
		"aqua", "fuchsia", "purple", "green", "red", "gray", "black"}
	return fmt.Sprintf("%s-%03d", colors[i%len(colors)], i)
}

// BondID is the id of the i-th bond of a data set.
func BondID(i int) string { return fmt.Sprintf("B%07d", i) }

// Generate returns n bonds with ids BondID(0..n-1). Host and subscriber cost
// centers are drawn from the Zipf law, each bond has 1-4 subscribers, and
// the (host, subscriber) account pairs are unique.
func Generate(n int, seed uint64) Dataset {
	r := rand.New(rand.NewPCG(seed, 0x626f6e64))
	zipf := newZipf(r)
	d := Dataset{Bonds: make([]Bond, n), ByHostCostCenter: map[string]int{}}
	for i := range n {
		host := zipf()
		b := Bond{
			BondID:         BondID(i),
			HostAccountID:  account(r, "H", host),
			SubAccountID:   fmt.Sprintf("S%s%012d", letters(r, 3), i),
			HostCostCenter: costCenterName(host),
			SubCostCenter:  costCenterName(zipf()),
			Subscribers:    map[string]Subscriber{},
		}
		for range 1 + r.IntN(4) {
			s := subscriber(r, fmt.Sprintf("u%d", r.IntN(1_000_000)))
			b.Subscribers[s.SID] = s
		}
		d.Bonds[i] = b
		d.ByHostCostCenter[b.HostCostCenter]++
	}
	return d
}

// FullCostCenters returns the host cost centers holding at least min bonds,
// largest first; when none does, the largest one alone.
func (d Dataset) FullCostCenters(min int) []string {
	type cc struct {
		name string
		n    int
	}
	all := make([]cc, 0, len(d.ByHostCostCenter))
	for name, n := range d.ByHostCostCenter {
		all = append(all, cc{name, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].name < all[j].name
	})
	var out []string
	for _, c := range all {
		if c.n >= min {
			out = append(out, c.name)
		}
	}
	if len(out) == 0 && len(all) > 0 {
		out = append(out, all[0].name)
	}
	return out
}

// NewBond returns a bond that no data set contains: its id and subscriber
// account carry the prefix and the sequence number, so concurrent creates
// never collide on the id or the account pair.
func NewBond(r *rand.Rand, prefix string, seq uint64) Bond {
	cc := r.IntN(CostCenters)
	b := Bond{
		BondID:         fmt.Sprintf("%s%d", prefix, seq),
		HostAccountID:  account(r, "H", cc),
		SubAccountID:   fmt.Sprintf("S%s%d", prefix, seq),
		HostCostCenter: costCenterName(cc),
		SubCostCenter:  costCenterName(r.IntN(CostCenters)),
		Subscribers:    map[string]Subscriber{},
	}
	s := subscriber(r, fmt.Sprintf("n%s%d", prefix, seq))
	b.Subscribers[s.SID] = s
	return b
}

// NewSubscriber returns a subscriber with a fresh sid.
func NewSubscriber(r *rand.Rand, prefix string, seq uint64) Subscriber {
	return subscriber(r, fmt.Sprintf("%s%d", prefix, seq))
}

func subscriber(r *rand.Rand, sid string) Subscriber {
	first := [...]string{"Lori", "David", "Emily", "Richard", "Maria", "James", "Aisha", "Kenji"}
	last := [...]string{"Rodriguez", "Watkins", "Garrett", "Harper", "Nguyen", "Okafor", "Schmidt"}
	domains := [...]string{"yahoo.com", "hotmail.com", "gmail.com", "example.org"}
	return Subscriber{
		SID:   sid,
		Name:  first[r.IntN(len(first))] + " " + last[r.IntN(len(last))],
		Email: fmt.Sprintf("%s%d@%s", letters(r, 6), r.IntN(100), domains[r.IntN(len(domains))]),
	}
}

// account returns an account id of cost center cc: an account belongs to
// one cost center, and each cost center has a few dozen accounts.
func account(r *rand.Rand, side string, cc int) string {
	return fmt.Sprintf("%s%03d%014d", side, cc, r.IntN(40))
}

func letters(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + r.IntN(26))
	}
	return string(b)
}

// newZipf returns a generator of cost center ranks 0..CostCenters-1 with
// P(k) proportional to 1/(k+1)^zipfS.
func newZipf(r *rand.Rand) func() int {
	cdf := make([]float64, CostCenters)
	sum := 0.0
	for k := range cdf {
		sum += 1 / math.Pow(float64(k+1), zipfS)
		cdf[k] = sum
	}
	return func() int {
		u := r.Float64() * sum
		return sort.SearchFloat64s(cdf, u)
	}
}
