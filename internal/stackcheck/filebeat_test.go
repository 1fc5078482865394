package stackcheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/metrics"
	"github.com/bondregistry/bond-registry/internal/seed"
)

// The container name whose lines Filebeat decodes (docker-compose.yml
// container_name, filebeat.yml when-condition, saved search query).
const serviceContainer = "bond-registry"

// ecsObjectFields are top-level ECS field sets that Filebeat's index template
// maps as objects. A service log key with one of these names, written as a
// string at the top level, would make Elasticsearch reject the document, so
// a decoded key must not be one of them (unless filebeat.yml renames it).
var ecsObjectFields = []string{
	"agent", "as", "client", "cloud", "container", "data_stream", "destination", "device",
	"dll", "dns", "ecs", "email", "error", "event", "faas", "file", "geo", "group", "hash",
	"host", "http", "input", "interface", "log", "network", "observer", "orchestrator",
	"organization", "os", "package", "process", "registry", "related", "rule", "server",
	"service", "source", "span", "threat", "tls", "trace", "transaction", "url", "user",
	"user_agent", "vlan", "vulnerability", "docker", "kubernetes", "fields", "labels",
}

// filebeatRules are the decoding settings read from elk/filebeat/filebeat.yml
// that decodeLikeFilebeat implements.
type filebeatRules struct {
	decodeWhenContainer string            // decode_json_fields when.equals container.name
	overwriteKeys       bool              // decode_json_fields.overwrite_keys
	addErrorKey         bool              // decode_json_fields.add_error_key
	renames             map[string]string // rename from -> to, for the service's lines
	fieldTypes          map[string]string // setup.template.append_fields name -> type
}

// loadFilebeatRules reads filebeat.yml and fails when it no longer has the
// shape that decodeLikeFilebeat emulates: so the emulation and the real
// configuration cannot drift apart silently.
func loadFilebeatRules(t *testing.T, root string) filebeatRules {
	t.Helper()
	var cfg struct {
		Inputs []struct {
			Type    string           `yaml:"type"`
			ID      string           `yaml:"id"`
			Paths   []string         `yaml:"paths"`
			Parsers []map[string]any `yaml:"parsers"`
		} `yaml:"filebeat.inputs"`
		Processors   []map[string]map[string]any `yaml:"processors"`
		AppendFields []struct {
			Name string `yaml:"name"`
			Type string `yaml:"type"`
		} `yaml:"setup.template.append_fields"`
		Output struct {
			Hosts []string `yaml:"hosts"`
		} `yaml:"output.elasticsearch"`
	}
	readYAML(t, root, "elk/filebeat/filebeat.yml", &cfg)

	require.Len(t, cfg.Inputs, 1)
	in := cfg.Inputs[0]
	require.Equal(t, "filestream", in.Type, "the input 8.x recommends for container logs")
	require.NotEmpty(t, in.ID, "every filestream input needs a unique id")
	require.Equal(t, []string{"/var/lib/docker/containers/*/*.log"}, in.Paths)
	require.Len(t, in.Parsers, 1, "only the container parser: JSON decoding is a conditional processor")
	container, ok := in.Parsers[0]["container"].(map[string]any)
	require.True(t, ok, "the first parser must be container")
	require.Equal(t, "docker", container["format"], "json-file logs are in Docker's format")
	require.Equal(t, []string{"elasticsearch:9200"}, cfg.Output.Hosts)

	var names []string
	rules := filebeatRules{renames: map[string]string{}, fieldTypes: map[string]string{}}
	for _, p := range cfg.Processors {
		require.Len(t, p, 1, "one processor per list item")
		for name, settings := range p {
			names = append(names, name)
			switch name {
			case "decode_json_fields":
				require.Equal(t, []any{"message"}, settings["fields"])
				require.Equal(t, "", settings["target"], "decoded keys go to the top level")
				rules.overwriteKeys, _ = settings["overwrite_keys"].(bool)
				rules.addErrorKey, _ = settings["add_error_key"].(bool)
				rules.decodeWhenContainer = whenContainer(t, settings)
			case "rename":
				require.Equal(t, serviceContainer, whenContainer(t, settings), "rename applies to the service's lines")
				for _, f := range settings["fields"].([]any) {
					m := f.(map[string]any)
					rules.renames[m["from"].(string)] = m["to"].(string)
				}
			}
		}
	}
	require.Equal(t, serviceContainer, rules.decodeWhenContainer)
	require.True(t, rules.overwriteKeys, "the line's message must replace the raw JSON")
	require.True(t, rules.addErrorKey)
	docker, decode, rename := slices.Index(names, "add_docker_metadata"), slices.Index(names, "decode_json_fields"), slices.Index(names, "rename")
	require.True(t, docker >= 0 && docker < decode && decode < rename,
		"order must be add_docker_metadata, decode_json_fields, rename; got %v", names)
	for _, f := range cfg.AppendFields {
		rules.fieldTypes[f.Name] = f.Type
	}
	return rules
}

// whenContainer returns the container.name a processor's when-condition
// requires: when.equals, or the equals inside when.and.
func whenContainer(t *testing.T, settings map[string]any) string {
	t.Helper()
	when, ok := settings["when"].(map[string]any)
	require.True(t, ok, "processor without a when-condition")
	conds := []any{when}
	if and, ok := when["and"].([]any); ok {
		conds = and
	}
	for _, c := range conds {
		if eq, ok := c.(map[string]any)["equals"].(map[string]any); ok {
			if name, ok := eq["container.name"].(string); ok {
				return name
			}
		}
	}
	t.Fatalf("no equals container.name in %v", when)
	return ""
}

// dockerEnvelope wraps one line as Docker's json-file log driver writes it.
func dockerEnvelope(t *testing.T, line, stream string, at time.Time) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{"log": line + "\n", "stream": stream, "time": at.UTC().Format(time.RFC3339Nano)})
	require.NoError(t, err)
	return b
}

// decodeLikeFilebeat applies filebeat.yml's rules to one json-file log line
// of container name: the container parser (unwrap the envelope, strip the
// newline), add_docker_metadata (container.name), decode_json_fields (keys to
// the top level, numbers as int64 when whole, else float64), then rename.
func decodeLikeFilebeat(t *testing.T, rules filebeatRules, name string, raw []byte) (event map[string]any, decoded []string) {
	t.Helper()
	var env struct{ Log, Stream, Time string }
	require.NoError(t, json.Unmarshal(raw, &env), "container parser: not a Docker json-file line")
	ts, err := time.Parse(time.RFC3339Nano, env.Time)
	require.NoError(t, err)
	event = map[string]any{
		"@timestamp": ts,
		"message":    strings.TrimSuffix(env.Log, "\n"),
		"stream":     env.Stream,
		"container":  map[string]any{"name": name},
	}
	if name != rules.decodeWhenContainer {
		return event, nil
	}
	dec := json.NewDecoder(strings.NewReader(event["message"].(string)))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		if rules.addErrorKey {
			event["error"] = map[string]any{"message": fmt.Sprintf("Error decoding JSON: %v", err), "type": "json"}
		}
		return event, nil
	}
	for k, v := range obj {
		if _, exists := event[k]; exists && !rules.overwriteKeys {
			continue
		}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v = i
			} else {
				v, _ = n.Float64()
			}
		}
		event[k] = v
		decoded = append(decoded, k)
	}
	for from, to := range rules.renames {
		v, ok := event[from]
		if !ok {
			continue
		}
		if _, isObject := v.(map[string]any); isObject {
			continue // has_fields error.message: already an ECS error object
		}
		delete(event, from)
		parent, child, _ := strings.Cut(to, ".")
		event[parent] = map[string]any{child: v}
	}
	return event, decoded
}

// savedSearchColumns reads the columns of the Kibana saved search, so that
// this test follows the saved search when its columns change.
func savedSearchColumns(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "elk/kibana/saved-search.json"))
	require.NoError(t, err)
	var s struct {
		Attributes struct {
			Title   string   `json:"title"`
			Columns []string `json:"columns"`
		} `json:"attributes"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	require.Equal(t, "Bond Registry logs", s.Attributes.Title)
	require.NotEmpty(t, s.Attributes.Columns)
	return s.Attributes.Columns
}

// failingGet makes Get of one id fail with an internal error, so that the
// service writes an error line (with zerolog's "error" key) too.
type failingGet struct {
	bond.Repository
	id string
}

func (f failingGet) Get(ctx context.Context, id string) (bond.Bond, error) {
	if id == f.id {
		return bond.Bond{}, errors.New("disk on fire")
	}
	return f.Repository.Get(ctx, id)
}

// serviceLines runs requests through the real service handler and returns
// the log lines it wrote, and the X-Request-ID of each response.
func serviceLines(t *testing.T, root string) (lines []string, requestIDs []string) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "bonds.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	f, err := os.Open(filepath.Join(root, "localdb/02-load-data.json"))
	require.NoError(t, err)
	defer f.Close()
	bonds, err := seed.Parse(f)
	require.NoError(t, err)
	require.NotEmpty(t, bonds)
	body, err := json.Marshal(bonds[0])
	require.NoError(t, err)

	var buf bytes.Buffer
	log := zerolog.New(&buf).With().Timestamp().Logger() // as cmd/bond-registry builds it
	h := httpapi.NewServer(log, failingGet{store, "BROKEN"}, httpapi.Config{Metrics: metrics.New("test")})
	for _, rq := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPost, "/bonds", string(body), http.StatusCreated},
		{http.MethodGet, "/bonds/" + bonds[0].BondID, "", http.StatusOK},
		{http.MethodGet, "/bonds/NOPE", "", http.StatusNotFound},
		{http.MethodGet, "/bonds/BROKEN", "", http.StatusInternalServerError},
		{http.MethodGet, "/no/such/route", "", http.StatusNotFound},
		{http.MethodGet, "/healthz", "", http.StatusOK},
	} {
		req := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.body))
		if rq.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, rq.want, rec.Code, "%s %s: %s", rq.method, rq.path, rec.Body)
		requestIDs = append(requestIDs, rec.Header().Get(httpapi.RequestIDHeader))
	}
	return strings.Split(strings.TrimSpace(buf.String()), "\n"), requestIDs
}

func TestFilebeatDecoding(t *testing.T) {
	root := repoRoot(t)
	rules := loadFilebeatRules(t, root)
	columns := savedSearchColumns(t, root)
	lines, requestIDs := serviceLines(t, root)
	now := time.Now()

	t.Run("AccessLinesHaveTheSavedSearchColumns", func(t *testing.T) {
		var access []map[string]any
		for _, l := range lines {
			ev, decoded := decodeLikeFilebeat(t, rules, serviceContainer, dockerEnvelope(t, l, "stdout", now))
			require.NotEmpty(t, decoded, "line did not decode: %s", l)
			if ev["message"] == "request" {
				access = append(access, ev)
			}
		}
		require.Len(t, access, len(requestIDs), "one access line per request")
		for i, ev := range access {
			for _, col := range columns {
				assert.Contains(t, ev, col, "access line %d lacks column %q: %v", i, col, ev)
			}
			assert.IsType(t, "", ev["level"])
			assert.IsType(t, "", ev["method"])
			assert.IsType(t, "", ev["route"])
			assert.IsType(t, int64(0), ev["status"], "status must be an integer")
			assert.True(t, isNumber(ev["duration_ms"]), "duration_ms must be a number, got %T", ev["duration_ms"])
			assert.Equal(t, requestIDs[i], ev["request_id"], "request_id matches X-Request-ID")
			assert.Equal(t, "stdout", ev["stream"])
		}
		assert.Equal(t, "/bonds/{bond_id}", access[1]["route"], "route is the chi pattern, not the path")
		assert.Equal(t, int64(http.StatusNotFound), access[2]["status"])
		assert.Equal(t, int64(http.StatusInternalServerError), access[3]["status"])
		assert.Equal(t, "", access[4]["route"], "an unmatched path is not logged as a route")
	})

	t.Run("TemplateTypesMatchTheLines", func(t *testing.T) {
		assert.Equal(t, "long", rules.fieldTypes["status"])
		assert.Contains(t, []string{"float", "double", "scaled_float"}, rules.fieldTypes["duration_ms"])
	})

	t.Run("NoKeyClashesWithECSObjects", func(t *testing.T) {
		seenError := false
		for _, l := range lines {
			ev, decoded := decodeLikeFilebeat(t, rules, serviceContainer, dockerEnvelope(t, l, "stdout", now))
			for _, k := range decoded {
				if _, renamed := rules.renames[k]; renamed {
					continue
				}
				assert.NotContains(t, ecsObjectFields, k, "key %q of %s would clash with the ECS object %q", k, l, k)
			}
			for name := range ev {
				if v, ok := ev[name].(string); ok && slices.Contains(ecsObjectFields, name) {
					t.Errorf("field %q is the string %q after decoding, but ECS maps it as an object", name, v)
				}
			}
			if e, ok := ev["error"].(map[string]any); ok {
				seenError = true
				assert.Equal(t, "disk on fire", e["message"], "zerolog's error string moved to error.message")
			}
		}
		assert.True(t, seenError, "the failing request wrote no error line: the rename is untested")
	})

	t.Run("PlainTextLineKeepsMessageAndGetsErrorKey", func(t *testing.T) {
		ev, decoded := decodeLikeFilebeat(t, rules, serviceContainer, dockerEnvelope(t, "panic: boom", "stderr", now))
		assert.Empty(t, decoded)
		assert.Equal(t, "panic: boom", ev["message"])
		assert.Equal(t, "stderr", ev["stream"])
		assert.Contains(t, ev["error"], "message")
	})

	t.Run("OtherContainersAreNotDecoded", func(t *testing.T) {
		line := lines[0]
		ev, decoded := decodeLikeFilebeat(t, rules, "elasticsearch", dockerEnvelope(t, line, "stdout", now))
		assert.Empty(t, decoded)
		assert.Equal(t, line, ev["message"])
	})
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}
