package idempotency_test

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/idempotency"
)

func TestPackBody_RoundTrip(t *testing.T) {
	random := make([]byte, 200_000)
	_, _ = rand.Read(random)
	for name, body := range map[string][]byte{
		"empty":                 {},
		"small":                 []byte(`{"bond_id":"FOO"}` + "\n"),
		"large, compressible":   []byte(strings.Repeat(`{"sid":"s","name":"\"\"\"\""}`, 30_000)),
		"largest answer":        bytes.Repeat([]byte("x"), idempotency.MaxAnswerBytes),
		"large, incompressible": random,
	} {
		packed, ok := idempotency.PackBody(body)
		require.True(t, ok, name)
		assert.LessOrEqual(t, len(packed), idempotency.MaxPackedBytes, name)
		got, err := idempotency.UnpackBody(packed)
		require.NoError(t, err, name)
		assert.Equal(t, body, got, name)
	}
}

func TestPackBody_TooLarge(t *testing.T) {
	random := make([]byte, idempotency.MaxPackedBytes+1)
	_, _ = rand.Read(random)
	_, ok := idempotency.PackBody(random)
	assert.False(t, ok, "incompressible and over the stored bound: not kept")
}

func TestUnpackBody_Refuses(t *testing.T) {
	var bomb bytes.Buffer
	bomb.WriteByte(1)
	w, _ := flate.NewWriter(&bomb, flate.BestCompression)
	_, _ = w.Write(make([]byte, idempotency.MaxAnswerBytes+1))
	_ = w.Close()
	for name, packed := range map[string][]byte{
		"empty":            nil,
		"unknown packing":  {9, 'x'},
		"not deflate":      {1, 0xff, 0xff, 0xff},
		"inflates too far": bomb.Bytes(),
	} {
		_, err := idempotency.UnpackBody(packed)
		assert.ErrorIs(t, err, idempotency.ErrUnreadable, name)
	}
}

func TestRecord_Live(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	rec := idempotency.Record{Token: "t", LeaseEnd: now.Add(time.Second), Expires: now.Add(time.Hour)}
	assert.True(t, rec.Live(now), "in flight within its lease")
	assert.False(t, rec.Live(rec.LeaseEnd), "in flight, lease ended")
	rec.Done = true
	assert.True(t, rec.Live(rec.LeaseEnd), "completed, past the lease")
	assert.False(t, rec.Live(rec.Expires), "completed, expired")
}

func TestKeyAndFingerprint_AreApart(t *testing.T) {
	assert.NotEqual(t, idempotency.Key{Scope: "ab", Value: "c"}.StorageKey(), idempotency.Key{Scope: "a", Value: "bc"}.StorageKey())
	assert.Len(t, idempotency.Key{Scope: "a", Value: strings.Repeat("k", 255)}.StorageKey(), 64)
	assert.NotEqual(t, idempotency.FingerprintOf("POST", "/bonds", []byte("x")), idempotency.FingerprintOf("POST", "/bonds/", []byte("x")))
	assert.NotEqual(t, idempotency.FingerprintOf("POST", "/bonds", []byte("x")), idempotency.FingerprintOf("POST", "/bonds", []byte("y")))
	assert.Equal(t, idempotency.FingerprintOf("POST", "/bonds", []byte("x")), idempotency.FingerprintOf("POST", "/bonds", []byte("x")))
}

// A kept answer's headers are sent again as they are, so a record is
// unreadable when one is not of the service's own form (the attacker's
// review replayed a Location with a CR LF and a Set-Cookie).
func TestRecord_CheckHeaders(t *testing.T) {
	ok := idempotency.Record{Token: "t", Done: true, Answer: idempotency.Answer{Status: 201,
		Location: "/bonds/ID%2F100~x", ETag: `"12"`, ContentType: "application/json"}}
	require.NoError(t, ok.Check())
	for name, edit := range map[string]func(a *idempotency.Answer){
		"a Location elsewhere":       func(a *idempotency.Answer) { a.Location = "http://evil.example/" },
		"a Location with CR LF":      func(a *idempotency.Answer) { a.Location = "/bonds/X\r\nSet-Cookie: a=b" },
		"an ETag that is no version": func(a *idempotency.Answer) { a.ETag = `W/"1"` },
		"an ETag with a space":       func(a *idempotency.Answer) { a.ETag = `"1" ` },
		"another Content-Type":       func(a *idempotency.Answer) { a.ContentType = "text/html" },
	} {
		rec := ok
		edit(&rec.Answer)
		require.ErrorIs(t, rec.Check(), idempotency.ErrUnreadable, name)
	}
}
