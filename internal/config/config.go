// Package config reads the service's configuration from flags and environment
// variables. It is the only code that reads the environment: every setting has
// one environment name, one flag, and one default, listed in Load.
package config

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/apikey"
)

// DefaultPort is PORT's default: the port of `make run`, of the image and of
// the compose stack, so that `bond-registry healthcheck` finds a server
// started with no PORT set.
const DefaultPort = 5000

// Store names accepted by STORE / --store.
const (
	StoreBolt     = "bolt"
	StoreDynamoDB = "dynamodb"
)

// Config is the service's configuration. A flag overrides its environment
// variable, which overrides the default.
type Config struct {
	Host           string        // HOST: the address to listen on, an IP address or localhost
	Port           int           // PORT
	Store          string        // STORE: bolt or dynamodb
	BoltPath       string        // BOLT_PATH
	LogLevel       zerolog.Level // LOG_LEVEL
	LogFormat      string        // LOG_FORMAT: json or console
	RequestTimeout time.Duration // REQUEST_TIMEOUT
	// HistoryRetention is HISTORY_RETENTION: how long a superseded revision
	// is kept (0: forever).
	HistoryRetention time.Duration
	ShutdownTimeout  time.Duration // SHUTDOWN_TIMEOUT
	DynamoEndpoint   string        // DYNAMODB_ENDPOINT (empty: AWS's own)
	DynamoTable      string        // DYNAMODB_TABLE
	AWSRegion        string        // AWS_REGION; empty: the AWS SDK's chain decides
	PageTokenKey     []byte        // PAGE_TOKEN_KEY, hex; empty: random per process

	// APIKeys are the keys of API_KEYS_FILE and API_KEYS together (names and
	// hashes must be unique across both). Empty: no key is asked for, the
	// service answers local callers only, and Host must be a loopback
	// address unless AllowUnauthenticated.
	APIKeys              *apikey.Set
	AllowUnauthenticated bool // ALLOW_UNAUTHENTICATED: without keys, a HOST other than loopback is allowed
	PublicMetrics        bool // PUBLIC_METRICS: /metrics needs no key
	PublicDocs           bool // PUBLIC_DOCS: /docs, /openapi.json, /openapi.yaml need no key
	MaxInFlight          int  // MAX_IN_FLIGHT: requests served at once, probes excepted
	MaxHeaderBytes       int  // MAX_HEADER_BYTES: request line and header fields of a request

	IdempotencyTTL time.Duration // IDEMPOTENCY_TTL: how long the first answer to an Idempotency-Key answers its retries

	apiKeys    []apikey.Key // the keys read so far, for APIKeys
	keySources []string     // the settings they were read from, for errors
}

// setting is one configuration item: its environment name, flag, default and
// the parser that stores it into the Config.
type setting struct {
	env, flag, def, usage string
	set                   func(c *Config, v string) error
	// secret settings are never echoed: an error names the variable and
	// the rule only.
	secret bool
}

func settings() []setting {
	return []setting{
		{"HOST", "host", "127.0.0.1", "address to listen on: an IP address (0.0.0.0 or :: for every interface) or localhost; without API keys it must be loopback, unless ALLOW_UNAUTHENTICATED", func(c *Config, v string) error {
			c.Host = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
			if !strings.EqualFold(c.Host, "localhost") {
				if _, err := netip.ParseAddr(c.Host); err != nil {
					return errors.New("must be an IP address (0.0.0.0 or :: for every interface) or localhost")
				}
			}
			return nil
		}, false},
		{"PORT", "port", strconv.Itoa(DefaultPort), "TCP port to listen on", func(c *Config, v string) (err error) {
			c.Port, err = strconv.Atoi(v)
			if err != nil || c.Port < 0 || c.Port > 65535 {
				return fmt.Errorf("must be a port number 0-65535")
			}
			return nil
		}, false},
		{"STORE", "store", StoreBolt, "bond store: bolt (embedded file) or dynamodb", func(c *Config, v string) error {
			c.Store = v
			if v != StoreBolt && v != StoreDynamoDB {
				return fmt.Errorf("must be %q or %q", StoreBolt, StoreDynamoDB)
			}
			return nil
		}, false},
		{"BOLT_PATH", "bolt-path", "data/bonds.db", "file of the embedded store", func(c *Config, v string) error {
			c.BoltPath = v
			return nonEmpty(v)
		}, false},
		{"LOG_LEVEL", "log-level", "info", "trace, debug, info, warn or error", func(c *Config, v string) (err error) {
			c.LogLevel, err = zerolog.ParseLevel(strings.ToLower(v))
			if err != nil || v == "" {
				return fmt.Errorf("must be one of trace, debug, info, warn, error")
			}
			return nil
		}, false},
		{"LOG_FORMAT", "log-format", "json", "json (one JSON object a line) or console (for people)", func(c *Config, v string) error {
			c.LogFormat = v
			if v != "json" && v != "console" {
				return fmt.Errorf(`must be "json" or "console"`)
			}
			return nil
		}, false},
		{"REQUEST_TIMEOUT", "request-timeout", "5s", "deadline of one request", func(c *Config, v string) (err error) {
			c.RequestTimeout, err = positiveDuration(v)
			return err
		}, false},
		{"HISTORY_RETENTION", "history-retention", "0", "how long a superseded revision is kept, e.g. 2160h (0: forever)", func(c *Config, v string) (err error) {
			if v == "0" {
				c.HistoryRetention = 0
				return nil
			}
			if c.HistoryRetention, err = positiveDuration(v); err != nil {
				return errors.New("must be 0 (keep every revision) or a positive duration such as 2160h")
			}
			return nil
		}, false},
		{"SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long in-flight requests may finish on SIGTERM", func(c *Config, v string) (err error) {
			c.ShutdownTimeout, err = positiveDuration(v)
			return err
		}, false},
		{"DYNAMODB_ENDPOINT", "dynamodb-endpoint", "", "DynamoDB endpoint URL, e.g. http://localhost:8000 (empty: AWS)", func(c *Config, v string) error {
			c.DynamoEndpoint = v
			if v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
				return fmt.Errorf("must be an http:// or https:// URL")
			}
			return nil
		}, false},
		{"DYNAMODB_TABLE", "dynamodb-table", "bond", "DynamoDB table name", func(c *Config, v string) error {
			c.DynamoTable = v
			if len(v) < 3 || len(v) > 255 {
				return fmt.Errorf("must be a DynamoDB table name of 3-255 characters")
			}
			return nil
		}, false},
		{"AWS_REGION", "aws-region", "", "AWS region (empty: the AWS SDK's chain, e.g. the shared config file's profile)", func(c *Config, v string) error {
			c.AWSRegion = v
			return nil
		}, false},
		{"PAGE_TOKEN_KEY", "", "", "", func(c *Config, v string) (err error) {
			// Env only: a secret has no place on a command line.
			c.PageTokenKey, err = hex.DecodeString(v)
			if err != nil || (v != "" && len(c.PageTokenKey) < 16) {
				return fmt.Errorf("must be at least 32 hex digits (16 bytes)")
			}
			return nil
		}, true},
		{"API_KEYS_FILE", "api-keys-file", "", "file of API keys, one 'NAME SCOPES SHA256' a line (bond-registry keygen makes them)", func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			text, err := readKeysFile(v)
			if err != nil {
				return err
			}
			return c.addKeys("API_KEYS_FILE", text)
		}, false},
		{"API_KEYS", "", "", "", func(c *Config, v string) error {
			// Env only, like every secret; ';' separates entries.
			if v == "" {
				return nil
			}
			return c.addKeys("API_KEYS", v)
		}, true},
		{"ALLOW_UNAUTHENTICATED", "allow-unauthenticated", "false", "with no API keys, allow a HOST other than loopback (anyone who reaches the port can read and write)", func(c *Config, v string) (err error) {
			c.AllowUnauthenticated, err = parseBool(v)
			return err
		}, false},
		{"PUBLIC_METRICS", "public-metrics", "false", "serve /metrics without a key (else it needs bonds:read when keys are set)", func(c *Config, v string) (err error) {
			c.PublicMetrics, err = parseBool(v)
			return err
		}, false},
		{"PUBLIC_DOCS", "public-docs", "true", "serve /docs and /openapi.* without a key (else they need bonds:read when keys are set)", func(c *Config, v string) (err error) {
			c.PublicDocs, err = parseBool(v)
			return err
		}, false},
		{"MAX_IN_FLIGHT", "max-in-flight", "128", "requests served at once, probes excepted; past it 503 (0: no limit)", func(c *Config, v string) (err error) {
			c.MaxInFlight, err = strconv.Atoi(v)
			if err != nil || c.MaxInFlight < 0 {
				return fmt.Errorf("must be a whole number, 0 or more (0: no limit)")
			}
			return nil
		}, false},
		{"IDEMPOTENCY_TTL", "idempotency-ttl", "24h", "how long the first answer to an Idempotency-Key answers its retries (at least 1m); after it the key is new again", func(c *Config, v string) (err error) {
			c.IdempotencyTTL, err = positiveDuration(v)
			if err == nil && c.IdempotencyTTL < time.Minute {
				return fmt.Errorf("must be at least 1m")
			}
			return err
		}, false},
		{"MAX_HEADER_BYTES", "max-header-bytes", "32768", "bytes of request line and header fields; past it 431", func(c *Config, v string) (err error) {
			c.MaxHeaderBytes, err = strconv.Atoi(v)
			if err != nil || c.MaxHeaderBytes < 1<<10 || c.MaxHeaderBytes > 1<<20 {
				return fmt.Errorf("must be a number of bytes from 1024 to 1048576")
			}
			return nil
		}, false},
	}
}

// Load builds the Config from args (flags, without the program name or
// subcommand) and getenv. A bad value is an error naming the variable.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	c, _, err := LoadOperands(args, getenv, usage, 0)
	return c, err
}

// LoadOperands is Load for a command that takes up to max operands (a
// file name) among its flags: flags may come before or after them ("--"
// ends the flags). It returns the operands in order; one more than max is
// an error.
func LoadOperands(args []string, getenv func(string) string, usage io.Writer, max int) (Config, []string, error) {
	var c Config
	fs := flag.NewFlagSet("bond-registry", flag.ContinueOnError)
	fs.SetOutput(usage)
	all := settings()
	flags := make(map[string]*string)
	for _, s := range all {
		if s.flag != "" {
			flags[s.env] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
		}
	}
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return c, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		if len(operands) == max {
			return c, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		// fs.Parse stops at the first operand, or after "--": then every
		// argument left is an operand.
		dashes := len(args) > fs.NArg() && args[len(args)-fs.NArg()-1] == "--"
		operands, args = append(operands, fs.Arg(0)), fs.Args()[1:]
		if dashes {
			if len(operands)+len(args) > max {
				return c, nil, fmt.Errorf("unexpected argument %q", args[max-len(operands)])
			}
			operands = append(operands, args...)
			break
		}
	}
	for _, s := range all {
		v, from := s.def, s.env
		if e := getenv(s.env); e != "" {
			v = e
		}
		if p := flags[s.env]; p != nil && *p != "" {
			v, from = *p, "--"+s.flag
		}
		if err := s.set(&c, strings.TrimSpace(v)); err != nil {
			if s.secret {
				return c, nil, fmt.Errorf("config: %s: %w", from, err)
			}
			return c, nil, fmt.Errorf("config: %s=%q: %w", from, v, err)
		}
	}
	set, err := apikey.NewSet(c.apiKeys)
	if err != nil {
		return c, nil, fmt.Errorf("config: %s: %w", strings.Join(c.keySources, " and "), err)
	}
	c.APIKeys, c.apiKeys, c.keySources = set, nil, nil
	return c, operands, nil
}

// CheckBind is the rule of the listen address, for the command that listens
// (serve; migrate, seed and the others listen on nothing, so an image's
// HOST=0.0.0.0 does not stop them): without API keys the service serves
// local callers only, so HOST must be loopback unless ALLOW_UNAUTHENTICATED.
func (c Config) CheckBind() error {
	if c.APIKeys.Len() == 0 && !c.AllowUnauthenticated && !c.LoopbackHost() {
		return fmt.Errorf("config: HOST=%q: without API keys the service serves local callers only, so HOST must be "+
			"a loopback address (127.0.0.1, ::1, localhost); set API_KEYS_FILE or API_KEYS, or ALLOW_UNAUTHENTICATED=true", c.Host)
	}
	return nil
}

// LoopbackHost reports whether c.Host is a loopback address or localhost:
// only local programs can reach the service.
func (c Config) LoopbackHost() bool {
	if strings.EqualFold(c.Host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(c.Host)
	return err == nil && addr.IsLoopback()
}

// String lists the effective configuration for the start-up log, with the
// secret masked.
func (c Config) String() string {
	key := "random per process"
	if len(c.PageTokenKey) > 0 {
		key = "set (masked)"
	}
	region := c.AWSRegion
	if region == "" {
		region = "from the AWS SDK's chain"
	}
	return fmt.Sprintf("host=%s port=%d store=%s bolt_path=%s log_level=%s log_format=%s request_timeout=%s "+
		"shutdown_timeout=%s dynamodb_endpoint=%q dynamodb_table=%s aws_region=%q page_token_key=%s "+
		"api_keys=%d allow_unauthenticated=%t public_metrics=%t public_docs=%t max_in_flight=%d max_header_bytes=%d idempotency_ttl=%s history_retention=%s",
		c.Host, c.Port, c.Store, c.BoltPath, c.LogLevel, c.LogFormat, c.RequestTimeout,
		c.ShutdownTimeout, c.DynamoEndpoint, c.DynamoTable, region, key,
		c.APIKeys.Len(), c.AllowUnauthenticated, c.PublicMetrics, c.PublicDocs, c.MaxInFlight, c.MaxHeaderBytes, c.IdempotencyTTL, c.HistoryRetention)
}

// maxKeysFileBytes bounds API_KEYS_FILE: a few thousand key lines.
const maxKeysFileBytes = 1 << 20

// readKeysFile reads the API keys file at path. As ssh refuses a key file
// that others can change (StrictModes), it refuses a file whose mode lets
// the group or other users write it: whoever can write it can give
// themselves a key. It must be a regular file (after symbolic links) of at
// most maxKeysFileBytes.
func readKeysFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("must be a readable file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("must be a readable file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", errors.New("must be a regular file")
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return "", fmt.Errorf("must not be writable by group or other users (mode %04o): chmod go-w it", perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeysFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("must be a readable file: %w", err)
	}
	if len(data) > maxKeysFileBytes {
		return "", fmt.Errorf("must be at most %d bytes", maxKeysFileBytes)
	}
	return string(data), nil
}

// addKeys parses the key lines of text, from source, into c. A source that
// is set but holds no key is an error: the operator asked for keys, and the
// service would otherwise run without any.
func (c *Config) addKeys(source, text string) error {
	keys, err := apikey.Parse(source, text)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("holds no key (want lines NAME SCOPES SHA256; bond-registry keygen makes them)")
	}
	c.apiKeys = append(c.apiKeys, keys...)
	c.keySources = append(c.keySources, source)
	return nil
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New("must be true or false")
	}
	return b, nil
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("must be a positive duration such as 5s or 500ms")
	}
	return d, nil
}
