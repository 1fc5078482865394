package dynamostore

import (
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// EndpointError says that the endpoint does not serve DynamoDB's API:
// nothing answers there, or what answers is not DynamoDB (a body that is not
// DynamoDB's JSON, or an error without DynamoDB's error type). Migrate
// returns it for its first call, so that a wrong DYNAMODB_ENDPOINT reads as
// one line naming the URL rather than the SDK's error chain.
type EndpointError struct {
	URL     string // the URL called
	Problem string // what went wrong, in a few words
	Err     error  // the SDK's error
}

func (e *EndpointError) Error() string { return e.URL + " " + e.Problem }

func (e *EndpointError) Unwrap() error { return e.Err }

// endpointError returns err as an *EndpointError when it shows that op did
// not reach DynamoDB, or nil: a connection that failed (refused, unknown
// host), a response body the SDK could not decode as DynamoDB's JSON, or
// an API error without an error type (the SDK's "UnknownError": DynamoDB
// always names its errors).
func endpointError(op string, err error) *EndpointError {
	e := &EndpointError{URL: "the endpoint", Err: err}
	var ue *url.Error
	if errors.As(err, &ue) {
		e.URL = ue.URL
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Request != nil {
		e.URL = re.Response.Request.URL.String()
	}
	status := func() string {
		if re == nil || re.Response == nil {
			return "an answer"
		}
		s := fmt.Sprintf("HTTP %d", re.Response.StatusCode)
		if ct := re.Response.Header.Get("Content-Type"); ct != "" {
			s += " (" + ct + ")"
		}
		return s
	}
	var oe *net.OpError
	var de *smithy.DeserializationError
	var ae smithy.APIError
	switch {
	case errors.As(err, &oe) && oe.Op == "dial":
		e.Problem = "does not answer: " + oe.Err.Error()
	case errors.As(err, &de):
		e.Problem = "is not DynamoDB: " + op + " got " + status() + " that is not DynamoDB's JSON"
	case errors.As(err, &ae) && ae.ErrorCode() == "UnknownError":
		e.Problem = "is not DynamoDB: " + op + " got " + status() + " without a DynamoDB error type"
	default:
		return nil
	}
	return e
}
