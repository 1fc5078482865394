package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Load creates the bonds through the service's API (POST /bonds at base),
// from workers concurrent clients, and fails on the first answer that is not
// 201 Created. The service writes them as it writes any bond: on bolt, its
// writes coalesce into shared commits; on DynamoDB, one transaction per bond
// with its account-pair guard.
func Load(ctx context.Context, base string, bonds []Bond, workers int) error {
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 30 * time.Second, Transport: tr}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bonds) || ctx.Err() != nil {
					return
				}
				if err := create(ctx, client, base, bonds[i]); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// create is one POST /bonds.
func create(ctx context.Context, client *http.Client, base string, b Bond) error {
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("load bond %s: %w", b.BondID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/bonds", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("load bond %s: %w", b.BondID, err)
	}
	req.Header = jsonHeader.Clone()
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("load bond %s: %w", b.BondID, err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("load bond %s: POST /bonds answered %s: %s", b.BondID, res.Status, bytes.TrimSpace(answer))
	}
	return nil
}
