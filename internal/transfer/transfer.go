// Package transfer moves bonds between a store and a file. Export writes
// NDJSON: one bond per line, in its representation (the body GET
// /bonds/{id} answers). Import reads that format or a DynamoDB BatchWriteItem
// request file (localdb/02-load-data.json, which the AWS CLI also reads),
// told apart by content, holds every bond to the rules of a POST /bonds body
// (httpapi.DecodeBond), and creates what the store lacks (bond.Create).
package transfer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// Formats of an input, as Report.Format names them.
const (
	FormatNDJSON         = "ndjson"
	FormatBatchWriteItem = "batchwriteitem"
)

// exportBatch is the number of bonds Export asks the store for at a time.
const exportBatch = 100

// Export writes every bond of repo to w, one line each, in its
// representation (httpapi.WriteRepresentation). It streams: the store is
// read a batch at a time (Repository.List), so memory does not grow with the
// number of bonds. It returns how many bonds it wrote.
func Export(ctx context.Context, repo bond.Repository, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	var werr error
	err := repo.List(ctx, bond.Filter{}, "", exportBatch, func(b bond.Bond, _ func() string) bool {
		if werr = httpapi.WriteRepresentation(bw, b); werr != nil {
			return false
		}
		n++
		return true
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// Skip is a bond of the input that Import did not create because the store
// already holds its id.
type Skip struct {
	Line   int
	BondID string
	Reason string
}

// LineError is a line of the input that Import refused: one line of text
// naming the line and each rule it breaks, as a 422 would list them.
type LineError struct {
	Line int
	// Where names the item within the file (BatchWriteItem: "bond[3]").
	Where string
	Err   error
}

func (e *LineError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.Where != "" {
		where += " (" + e.Where + ")"
	}
	return where + ": " + describe(e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// describe says what is wrong in one line: each problem of a KindInvalid
// error as "loc: msg", else the domain error's message.
func describe(err error) string {
	be, ok := errors.AsType[*bond.Error](err)
	if !ok {
		return err.Error()
	}
	if len(be.Problems) == 0 {
		return be.Message
	}
	parts := make([]string, 0, len(be.Problems)+1)
	for _, p := range be.Problems {
		loc := strings.Join(p.Loc, ".")
		if loc == "" {
			loc = "body"
		}
		parts = append(parts, loc+": "+p.Msg)
	}
	if be.Omitted > 0 {
		parts = append(parts, fmt.Sprintf("and %d more problems", be.Omitted))
	}
	return strings.Join(parts, "; ")
}

// Report is what Import did.
type Report struct {
	Format  string
	Created int
	Skipped []Skip
	Refused []*LineError
}

// utf8BOM is the byte order mark some editors write at the start of a
// UTF-8 file; Import skips it.
const utf8BOM = "\uFEFF"

// Import reads the bonds of r (after a UTF-8 byte order mark, if any), NDJSON or a BatchWriteItem request file
// (told apart by content: a BatchWriteItem file's first member is an array),
// and creates each one repo lacks. A bond whose id the store holds is
// skipped (Report.Skipped, with whether its content differs); a line that
// breaks a rule of a POST /bonds body, or whose account pair another bond
// holds, is refused (Report.Refused) and the other lines still go in. The
// error is for what stops the whole import: the input cannot be read, or
// the store fails.
func Import(ctx context.Context, repo bond.Repository, r io.Reader) (Report, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if p, _ := br.Peek(len(utf8BOM)); string(p) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM)) // editors on Windows start a UTF-8 file with it
	}
	peek, _ := br.Peek(br.Size())
	if isBatchWriteItem(peek) {
		rep := Report{Format: FormatBatchWriteItem}
		err := readBatchWriteItem(br, func(line int, where string, body []byte, problem error) error {
			return rep.add(ctx, repo, line, where, body, problem)
		})
		return rep, err
	}
	rep := Report{Format: FormatNDJSON}
	err := readNDJSON(br, func(line int, body []byte, problem error) error {
		return rep.add(ctx, repo, line, "", body, problem)
	})
	return rep, err
}

// add decodes one bond body and creates it, recording the outcome; a
// problem the reader found refuses the line before decoding. Only a store
// failure is returned.
func (rep *Report) add(ctx context.Context, repo bond.Repository, line int, where string, body []byte, problem error) error {
	refuse := func(err error) { rep.Refused = append(rep.Refused, &LineError{Line: line, Where: where, Err: err}) }
	if problem != nil {
		refuse(problem)
		return nil
	}
	b, err := httpapi.DecodeBond(body)
	if err != nil {
		refuse(err)
		return nil
	}
	_, err = bond.Create(ctx, repo, b)
	switch bond.KindOf(err) {
	case bond.KindExists:
		reason := "exists with the same content"
		if cur, gerr := bond.Get(ctx, repo, b.BondID); gerr == nil && !cur.SameContent(b) {
			reason = "exists with other content, kept as stored"
		}
		rep.Skipped = append(rep.Skipped, Skip{Line: line, BondID: b.BondID, Reason: reason})
		return nil
	case bond.KindPairTaken, bond.KindInvalid:
		refuse(err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("line %d: create bond %s: %w", line, b.BondID, err)
	}
	rep.Created++
	return nil
}

// errLineTooLong is the problem of an NDJSON line longer than a POST /bonds
// body may be.
var errLineTooLong = bond.Invalid(bond.Problem{Loc: []string{"body"}, Type: "value_error.too_large",
	Msg: fmt.Sprintf("a line holds at most %d bytes, as a POST /bonds body", httpapi.MaxBodyBytes)})

// readNDJSON calls fn with each non-blank line of r and its number; a line
// longer than httpapi.MaxBodyBytes comes with errLineTooLong.
func readNDJSON(br *bufio.Reader, fn func(line int, body []byte, problem error) error) error {
	for n := 1; ; n++ {
		var line []byte
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			if len(line)+len(chunk) > httpapi.MaxBodyBytes+2 { // the line's \r\n
				tooLong, line = true, line[:0]
			} else if !tooLong {
				line = append(line, chunk...)
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", n, err)
		}
		switch {
		case tooLong:
			if ferr := fn(n, nil, errLineTooLong); ferr != nil {
				return ferr
			}
		case len(bytes.TrimSpace(line)) > 0:
			if ferr := fn(n, bytes.TrimRight(line, "\r\n"), nil); ferr != nil {
				return ferr
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// isBatchWriteItem reports whether data starts a JSON object whose first
// member is an array: a BatchWriteItem request ({"table": [...]}), which no
// bond is (a bond's members are strings and one object).
func isBatchWriteItem(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	if t, err := dec.Token(); err != nil {
		return false
	} else if _, ok := t.(string); !ok {
		return false
	}
	t, err := dec.Token()
	return err == nil && t == json.Delim('[')
}
