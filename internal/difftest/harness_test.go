package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tb is what a step needs of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// target is one system under test: the service on one store, served by
// one or more instances (bases) that share the data.
type target struct {
	name  string
	bases []string
	// reset empties the store before a sequence (and may start fresh
	// servers, changing bases).
	reset func() error
}

var httpClient = &http.Client{
	Timeout: 60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// response is one HTTP exchange's observable answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// observed is a target's answer to one Op: one response, or for List the
// pages of the walk.
type observed struct {
	response
	Pages []response // List: every page, first included
	Err   error      // transport error or a walk that never ends
}

func (tg *target) base(route uint64, i int) string {
	if len(tg.bases) == 1 {
		return tg.bases[0]
	}
	return tg.bases[int((route>>(i%64))&1)%len(tg.bases)]
}

func send(req *http.Request) (response, error) {
	res, err := httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}

// maxPages bounds a page walk: more than this is a loop.
const maxPages = 2000

// exec sends op to tg; a List follows Link rel="next" to the end.
func (tg *target) exec(op Op) observed {
	req, err := op.Request(tg.base(op.Route, 0))
	if err != nil {
		return observed{Err: err}
	}
	res, err := send(req)
	if err != nil {
		return observed{Err: err}
	}
	obs := observed{response: res}
	if op.Kind != List && op.Kind != RevList {
		return obs
	}
	obs.Pages = append(obs.Pages, res)
	for i := 1; ; i++ {
		last := obs.Pages[len(obs.Pages)-1]
		next, ok := nextLink(last.Header)
		if last.Status != http.StatusOK || !ok {
			return obs
		}
		if i >= maxPages {
			obs.Err = fmt.Errorf("page walk did not end after %d pages", maxPages)
			return obs
		}
		if !strings.HasPrefix(next, "/bonds") {
			obs.Err = fmt.Errorf("Link target %q is not under /bonds", next)
			return obs
		}
		req, err := http.NewRequest(http.MethodGet, tg.base(op.Route, i)+next, nil)
		if err != nil {
			obs.Err = fmt.Errorf("Link target %q: %w", next, err)
			return obs
		}
		res, err := send(req)
		if err != nil {
			obs.Err = err
			return obs
		}
		obs.Pages = append(obs.Pages, res)
	}
}

// nextLink returns the target of Link: <...>; rel="next".
func nextLink(h http.Header) (string, bool) {
	for _, v := range h.Values("Link") {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if !strings.Contains(part, `rel="next"`) {
				continue
			}
			start, end := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
			if start >= 0 && end > start {
				return part[start+1 : end], true
			}
		}
	}
	return "", false
}

// step runs op on the model and on every target and fails t on any
// difference. ambiguous reports an op the model cannot judge (nothing was
// sent).
func step(t tb, m *Model, targets []*target, op Op) (ambiguous string, status int) {
	t.Helper()
	m.steps++
	op.RequestID = "difftest-" + strconv.Itoa(m.steps)
	exp := m.Do(op)
	if exp.Ambiguous != "" {
		return exp.Ambiguous, 0
	}
	t.Logf("step(%#v)", op)
	var first observed
	for i, tg := range targets {
		obs := tg.exec(op)
		if obs.Err != nil {
			t.Fatalf("%s: %s %s: %v", tg.name, op.Method(), op.Path(), obs.Err)
		}
		if problems := checkModel(op, exp, obs); len(problems) > 0 {
			t.Fatalf("%s differs from the model on %s %s:\n  %s\n  answer: %s", tg.name, op.Method(), op.Path(),
				strings.Join(problems, "\n  "), describe(obs))
		}
		if i == 0 {
			first = obs
			continue
		}
		if problems := checkSame(op, first, obs); len(problems) > 0 {
			t.Fatalf("%s and %s answer differently to %s %s:\n  %s\n  %s: %s\n  %s: %s", targets[0].name, tg.name,
				op.Method(), op.Path(), strings.Join(problems, "\n  "),
				targets[0].name, describe(first), tg.name, describe(obs))
		}
	}
	return "", exp.Status
}

// describe prints an answer briefly, for failure messages.
func describe(o observed) string {
	d := func(r response) string {
		body := string(r.Body)
		if len(body) > 600 {
			body = body[:600] + fmt.Sprintf("... (%d bytes)", len(r.Body))
		}
		var hs []string
		for _, h := range []string{"ETag", "Link", "Location", "Allow", "Content-Type"} {
			if v := r.Header.Get(h); v != "" {
				hs = append(hs, h+": "+v)
			}
		}
		return fmt.Sprintf("%d [%s] %s", r.Status, strings.Join(hs, "; "), body)
	}
	if len(o.Pages) > 1 {
		var ps []string
		for i, p := range o.Pages {
			ps = append(ps, fmt.Sprintf("page %d: %s", i+1, d(p)))
		}
		return strings.Join(ps, "\n    ")
	}
	return d(o.response)
}

// checkModel compares one answer with the model's expectation.
func checkModel(op Op, exp Expect, obs observed) []string {
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	switch op.Kind {
	case List:
		return checkWalk(exp, obs)
	case RevList:
		return checkRevisionWalk(exp, obs)
	}
	r := obs.response
	if r.Status != exp.Status {
		bad("status %d, want %d", r.Status, exp.Status)
		return ps
	}
	_, head := op.Kind.Head()
	if head || r.Status == http.StatusNotModified || r.Status == http.StatusNoContent {
		if len(r.Body) > 0 {
			bad("a body on a %s %d: %q", op.Method(), r.Status, r.Body)
		}
	}
	if exp.ETag != "" && r.Header.Get("ETag") != exp.ETag {
		bad("ETag %q, want %q", r.Header.Get("ETag"), exp.ETag)
	}
	if op.Kind == HeadList {
		_, link := nextLink(r.Header)
		if want := len(exp.Bonds) > exp.Limit; link != want {
			bad("Link present: %v, want %v", link, want)
		}
	}
	if head || len(ps) > 0 {
		return ps
	}
	if r.Status >= 400 {
		return append(ps, checkError(exp, r)...)
	}
	if exp.Location != "" {
		loc, err := url.PathUnescape(r.Header.Get("Location"))
		if err != nil || loc != exp.Location {
			bad("Location %q (unescaped %q), want %q", r.Header.Get("Location"), loc, exp.Location)
		}
	}
	switch {
	case exp.Bond != nil:
		var got Bond
		if err := strictDecode(r.Body, &got); err != nil {
			bad("body is not a bond: %v", err)
		} else if msg := diffBond(got, *exp.Bond); msg != "" {
			bad("bond: %s", msg)
		}
	case exp.Subs != nil:
		var got map[string]Sub
		if err := strictDecode(r.Body, &got); err != nil || got == nil {
			bad("body is not a subscribers map: %v", err)
		} else if !maps.Equal(got, exp.Subs) {
			bad("subscribers %v, want %v", got, exp.Subs)
		}
	case exp.Rev != nil:
		var got Rev
		if err := strictDecode(r.Body, &got); err != nil {
			bad("body is not a revision: %v", err)
		} else if msg := diffRev(got, *exp.Rev); msg != "" {
			bad("revision: %s", msg)
		}
	case exp.Sub != nil:
		var got Sub
		if err := strictDecode(r.Body, &got); err != nil {
			bad("body is not a subscriber: %v", err)
		} else if got != *exp.Sub {
			bad("subscriber %+v, want %+v", got, *exp.Sub)
		}
	}
	return ps
}

// checkError checks an error answer: JSON {"detail": ...}; for a 422 the
// problems, else the message when the contract gives it.
func checkError(exp Expect, r response) []string {
	var ps []string
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		ps = append(ps, fmt.Sprintf("error Content-Type %q", ct))
	}
	if exp.Status == http.StatusUnprocessableEntity {
		var body struct {
			Detail []Problem `json:"detail"`
		}
		if err := strictDecode(r.Body, &body); err != nil || body.Detail == nil {
			return append(ps, fmt.Sprintf("422 body is not {\"detail\": [problems]}: %v", err))
		}
		if msg := diffProblems(body.Detail, exp.Problems); msg != "" {
			ps = append(ps, msg)
		}
		return ps
	}
	var body struct {
		Detail string `json:"detail"`
	}
	if err := strictDecode(r.Body, &body); err != nil || body.Detail == "" {
		return append(ps, fmt.Sprintf("error body is not {\"detail\": \"...\"}: %v", err))
	}
	if exp.Detail != "" && body.Detail != exp.Detail {
		ps = append(ps, fmt.Sprintf("detail %q, want %q", body.Detail, exp.Detail))
	}
	return ps
}

// diffProblems matches the answer's problems with the model's, one to one:
// same loc (when the model gives one) and type (when the model names it).
func diffProblems(got, want []Problem) string {
	used := make([]bool, len(got))
	var missing []string
	// Most specific expectations first, so a loose one does not take the
	// problem a precise one needs.
	order := slices.Clone(want)
	slices.SortStableFunc(order, func(a, b Problem) int { return specificity(b) - specificity(a) })
	for _, w := range order {
		found := false
		for i, g := range got {
			if !used[i] && problemMatches(g, w) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%v %s", w.Loc, w.Type))
		}
	}
	var extra []string
	for i, g := range got {
		if !used[i] {
			extra = append(extra, fmt.Sprintf("%v %s (%s)", g.Loc, g.Type, g.Msg))
		}
	}
	if missing == nil && extra == nil {
		return ""
	}
	return fmt.Sprintf("422 problems: missing %v; unexpected %v", missing, extra)
}

func specificity(p Problem) int {
	n := 0
	if p.Loc != nil {
		n += 2
	}
	if p.Type != "" {
		n++
	}
	return n
}

func problemMatches(got, want Problem) bool {
	if want.Loc != nil && !slices.EqualFunc(got.Loc, want.Loc, locElemMatches) {
		return false
	}
	switch {
	case want.Type == "":
		return true
	case strings.HasSuffix(want.Type, ".*"):
		return strings.HasPrefix(got.Type, strings.TrimSuffix(want.Type, "*"))
	}
	return got.Type == want.Type
}

// truncatedMarker ends a loc element the service cut: docs/api.md, "Errors", a
// loc element over maxEchoBytes bytes is cut on a character boundary.
const (
	truncatedMarker = "…[truncated]"
	maxEchoBytes    = 256
)

func locElemMatches(got, want string) bool {
	if got == want {
		return true
	}
	prefix, cut := strings.CutSuffix(got, truncatedMarker)
	return cut && len(want) > maxEchoBytes && len(prefix) <= maxEchoBytes && strings.HasPrefix(want, prefix)
}

func strictDecode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

func diffBond(got, want Bond) string {
	if got.Subscribers == nil {
		return "no subscribers member (it must always be present)"
	}
	if !sameData(got, want) {
		g, w := got, want
		if len(g.Subscribers) > 5 || len(w.Subscribers) > 5 {
			return fmt.Sprintf("bond %q differs: got %d subscribers, host %q sub %q cc %q/%q; want %d, %q %q %q/%q",
				want.BondID, len(g.Subscribers), g.HostAccountID, g.SubAccountID, g.HostCostCenter, g.SubCostCenter,
				len(w.Subscribers), w.HostAccountID, w.SubAccountID, w.HostCostCenter, w.SubCostCenter)
		}
		return fmt.Sprintf("got %+v, want %+v", g, w)
	}
	return ""
}

// checkWalk checks a page walk: every page a 200 JSON array of at most
// limit bonds; Link present after a page exactly when bonds remain unseen;
// every matching bond seen exactly once.
func checkWalk(exp Expect, obs observed) []string {
	if ps, done := checkWalkStart(exp, obs); done {
		return ps
	}
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	want := map[string]Bond{}
	for _, b := range exp.Bonds {
		want[b.BondID] = b
	}
	seen := map[string]bool{}
	seenWanted := 0
	for i, p := range obs.Pages {
		if p.Status != http.StatusOK {
			bad("page %d: status %d: %s", i+1, p.Status, p.Body)
			return ps
		}
		var page []Bond
		if err := strictDecode(p.Body, &page); err != nil || page == nil {
			bad("page %d is not a JSON array of bonds: %v", i+1, err)
			return ps
		}
		if len(page) > exp.Limit {
			bad("page %d has %d bonds, limit %d", i+1, len(page), exp.Limit)
		}
		for _, b := range page {
			w, ok := want[b.BondID]
			switch {
			case seen[b.BondID]:
				bad("page %d: bond %q seen twice", i+1, b.BondID)
			case !ok:
				bad("page %d: bond %q does not match the query (or does not exist)", i+1, b.BondID)
			default:
				seenWanted++
				if msg := diffBond(b, w); msg != "" {
					bad("page %d: %s", i+1, msg)
				}
			}
			seen[b.BondID] = true
		}
		_, link := nextLink(p.Header)
		if more := seenWanted < len(want); link != more {
			bad("page %d (limit %d, %d of %d matching bonds seen): Link present %v, want %v", i+1, exp.Limit,
				seenWanted, len(want), link, more)
		}
	}
	for id := range want {
		if !seen[id] {
			bad("bond %q never listed", id)
		}
	}
	return ps
}

// checkWalkStart checks a walk's first page against the model's status,
// and an error answer whole; done when nothing more is to check.
func checkWalkStart(exp Expect, obs observed) (ps []string, done bool) {
	first := obs.Pages[0]
	if first.Status != exp.Status {
		return []string{fmt.Sprintf("status %d, want %d", first.Status, exp.Status)}, true
	}
	if exp.Status != http.StatusOK {
		return checkError(exp, first), true
	}
	return nil, false
}

// checkSame compares two stores' answers exactly: status, the headers that
// carry meaning, the body byte for byte (a walk: the sorted set of bonds).
func checkSame(op Op, a, b observed) []string {
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	if op.Kind == RevList || op.Kind == RevGet {
		return checkSameRevisions(a, b)
	}
	if len(a.Pages) > 0 || len(b.Pages) > 0 {
		ea, eb := walkElements(a), walkElements(b)
		if !slices.Equal(ea, eb) {
			bad("page walks return different bonds (%d vs %d)", len(ea), len(eb))
		}
		la, lb := a.Pages[len(a.Pages)-1], b.Pages[len(b.Pages)-1]
		if la.Status != lb.Status {
			bad("walk ends with status %d vs %d", la.Status, lb.Status)
		}
		if a.Pages[0].Status != http.StatusOK && !bytes.Equal(a.Pages[0].Body, b.Pages[0].Body) {
			bad("bodies differ")
		}
		return ps
	}
	if a.Status != b.Status {
		bad("status %d vs %d", a.Status, b.Status)
	}
	for _, h := range []string{"ETag", "Location", "Content-Type", "Allow", "Retry-After"} {
		if a.Header.Get(h) != b.Header.Get(h) {
			bad("%s %q vs %q", h, a.Header.Get(h), b.Header.Get(h))
		}
	}
	_, la := nextLink(a.Header)
	_, lb := nextLink(b.Header)
	if la != lb {
		bad("Link present %v vs %v", la, lb)
	}
	if !bytes.Equal(a.Body, b.Body) {
		bad("bodies differ")
	}
	return ps
}

// walkElements returns the raw JSON of every bond of a walk, sorted.
func walkElements(o observed) []string {
	var out []string
	for _, p := range o.Pages {
		var page []json.RawMessage
		if p.Status == http.StatusOK && json.Unmarshal(p.Body, &page) == nil {
			for _, e := range page {
				out = append(out, string(e))
			}
		}
	}
	slices.Sort(out)
	return out
}
