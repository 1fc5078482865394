package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Client tuning. A request to the service is bounded by its context (the
// HTTP request deadline, 5 s by default), which bounds every attempt and the
// backoff between them. Timeouts that fire before anything is sent (dial,
// TLS) are short so a retry still fits in the budget. Once a request is sent
// the client waits for its context: timing out an attempt the server may
// have applied and sending it again would apply it twice (a version bumped
// twice by one subscriber add). responseTimeout is only a backstop for
// callers without a deadline (migrate).
const (
	maxAttempts     = 3                      // first try + 2 retries
	maxBackoff      = 200 * time.Millisecond // cap of the jittered exponential backoff
	dialTimeout     = 1 * time.Second
	tlsTimeout      = 2 * time.Second
	responseTimeout = 30 * time.Second
	maxIdlePerHost  = 64 // keep-alive connections; the default 2 serialises a busy service
	idleConnTimeout = 90 * time.Second
)

// NewClient returns a DynamoDB client for the service. It loads the standard
// AWS configuration chain (env, shared files, SSO, IMDS/ECS roles); endpoint,
// when not empty, overrides the service endpoint (DynamoDB Local), and region,
// when not empty, overrides the configured region. Without an endpoint it
// fails when no region results: AWS's endpoint is the region's (DynamoDB
// Local accepts any region, none included). Retries are the SDK's
// standard retryer with bounded attempts and capped, jittered backoff, also
// retrying transactions cancelled by a conflict. optFns come last, so they
// can override any of this (tests pass static dummy credentials).
func NewClient(ctx context.Context, endpoint, region string, optFns ...func(*config.LoadOptions) error) (*dynamodb.Client, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(newHTTPClient()),
		config.WithRetryer(newRetryer),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	opts = append(opts, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" && endpoint == "" {
		return nil, errors.New("load aws config: no AWS region: set AWS_REGION (--aws-region) or a region in the shared config file's profile")
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.DisableValidateResponseChecksum = !isAWSHost(endpoint)
		}
	}), nil
}

// isAWSHost reports whether endpoint is an AWS endpoint. DynamoDB Local sends
// no X-Amz-Crc32 header with its error responses, which the SDK reports as a
// checksum mismatch (a warning on stderr, and the connection is not reused)
// on every failed condition; elsewhere than AWS the check is turned off.
func isAWSHost(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn") || strings.HasSuffix(h, ".api.aws")
}

func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.Retryables = append(o.Retryables, retryTxConflict{})
	})
}

func newHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithTimeout(0). // no whole-attempt timeout: the context bounds it
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = 2 * maxIdlePerHost
			t.MaxIdleConnsPerHost = maxIdlePerHost
			t.IdleConnTimeout = idleConnTimeout
			t.TLSHandshakeTimeout = tlsTimeout
			t.ResponseHeaderTimeout = responseTimeout
		})
}
