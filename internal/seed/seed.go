// Package seed loads bonds from a DynamoDB BatchWriteItem request file (the
// format of localdb/02-load-data.json, which the AWS CLI also reads) into any
// bond.Repository, so the embedded store and DynamoDB start from the same data.
package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// attr is one DynamoDB JSON attribute value; only the types a bond uses.
type attr struct {
	S *string         `json:"S"`
	M map[string]attr `json:"M"`
}

// Parse reads a BatchWriteItem request file: {"<table>": [{"PutRequest":
// {"Item": {...}}}, ...]}. Every item must be a valid bond; the error names
// the first item that is not, and all of its problems.
func Parse(r io.Reader) ([]bond.Bond, error) {
	var req map[string][]struct {
		PutRequest *struct {
			Item map[string]attr `json:"Item"`
		} `json:"PutRequest"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("parse seed file: %w", err)
	}
	tables := make([]string, 0, len(req))
	for t := range req {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	var bonds []bond.Bond
	for _, t := range tables {
		for i, w := range req[t] {
			if w.PutRequest == nil {
				return nil, fmt.Errorf("parse seed file: %s[%d]: only PutRequest is supported", t, i)
			}
			b := toBond(w.PutRequest.Item)
			if ps := b.Validate(); len(ps) > 0 {
				return nil, fmt.Errorf("parse seed file: %s[%d]: %w", t, i, bond.Invalid(ps...))
			}
			bonds = append(bonds, b)
		}
	}
	return bonds, nil
}

func toBond(item map[string]attr) bond.Bond {
	b := bond.Bond{Subscribers: map[string]bond.Subscriber{}}
	for name, dst := range map[string]*string{
		"bond_id":          &b.BondID,
		"host_account_id":  &b.HostAccountID,
		"sub_account_id":   &b.SubAccountID,
		"host_cost_center": &b.HostCostCenter,
		"sub_cost_center":  &b.SubCostCenter,
	} {
		if a, ok := item[name]; ok && a.S != nil {
			*dst = *a.S
		}
	}
	for sid, a := range item["subscribers"].M {
		var s bond.Subscriber
		for name, dst := range map[string]*string{"sid": &s.SID, "name": &s.Name, "email": &s.Email} {
			if v, ok := a.M[name]; ok && v.S != nil {
				*dst = *v.S
			}
		}
		b.Subscribers[sid] = s
	}
	return b
}

// Load creates each bond in repo. Bonds whose id or account pair already exist
// are skipped, so seeding twice is harmless.
func Load(ctx context.Context, repo bond.Repository, bonds []bond.Bond) (created, skipped int, err error) {
	for _, b := range bonds {
		_, err := bond.Create(ctx, repo, b)
		switch bond.KindOf(err) {
		case bond.KindExists, bond.KindPairTaken:
			skipped++
			continue
		}
		if err != nil {
			return created, skipped, fmt.Errorf("seed bond %s: %w", b.BondID, err)
		}
		created++
	}
	return created, skipped, nil
}
