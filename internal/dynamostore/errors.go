package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Codes of errors a retry may cure. After the SDK retryer gave up on them
// they are "unavailable" (503 with Retry-After), not internal errors.
var transientCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"RequestLimitExceeded":                   true,
	"TransactionConflictException":           true,
	"TransactionInProgressException":         true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
}

// Codes of errors a retry will not cure but that are no fault of the
// request nor a bug: the store cannot take the write as it is (an item
// collection over 10 GB, possible only on a table with a local secondary
// index, which a table that passes the table rules cannot have). They are
// "unavailable" too, and never retried by the SDK.
var storeLimitCodes = map[string]bool{
	"ItemCollectionSizeLimitExceededException": true,
}

// twinOf maps each cancellation reason code DynamoDB documents for
// TransactWriteItems to the error code its single-item twin (PutItem,
// UpdateItem, DeleteItem) returns for the same cause, so that a
// transactional write answers what the single-item write answers
// (reasonError). "None" (this item was fine) has no twin.
var twinOf = map[string]string{
	"ConditionalCheckFailed":          "ConditionalCheckFailedException",
	"ValidationError":                 "ValidationException",
	"TransactionConflict":             "TransactionConflictException",
	"ProvisionedThroughputExceeded":   "ProvisionedThroughputExceededException",
	"ThrottlingError":                 "ThrottlingException",
	"RequestLimitExceeded":            "RequestLimitExceeded",
	"ItemCollectionSizeLimitExceeded": "ItemCollectionSizeLimitExceededException",
}

// twin returns the single-item error code of a cancellation reason code
// (twinOf); a code that is not a documented reason is taken as it is.
func twin(reason string) string {
	if t, ok := twinOf[reason]; ok {
		return t
	}
	return reason
}

// translate turns an error of operation op into the error the store
// returns, whichever call met it: *bond.Error values pass through, an item
// over DynamoDB's 400 KB limit is bond.ErrTooLarge, transient failures
// (throttling, conflicts, deadlines, connections) and store limits are
// bond.Unavailable, a table not found is bond.ErrStoreNotReady, a
// cancelled transaction is what its reasons say (cancelled), and anything else is wrapped with op (an internal error,
// never shown to a client).
func translate(op string, err error) error {
	var be *bond.Error
	var tc *types.TransactionCanceledException
	var ae smithy.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &be):
		return err
	case errors.As(err, &tc):
		return cancelled(op, err, tc.CancellationReasons)
	case tooLarge(err):
		return bond.ErrTooLarge()
	case isTransient(err), errors.As(err, &ae) && storeLimitCodes[ae.ErrorCode()]:
		return bond.Unavailable(op, err)
	case errors.As(err, new(*types.ResourceNotFoundException)):
		// A table deleted under the service; Store.translate names it.
		return bond.ErrStoreNotReady("a table of the store does not exist; create it with bond-registry migrate", fmt.Errorf("%s: %w", op, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// cancelled is the one mapping of a cancelled transaction (err, with its
// reasons) that the caller did not take as a failed condition of its own:
// each reason gets the error its single-item twin gets (twinOf, through
// translate), and the transaction the first of those a retry cannot cure
// (a bond too large, an internal error), else bond.Unavailable when some
// reason is transient. A ConditionalCheckFailed the caller left, a reason
// DynamoDB does not document, or no reason at all is internal.
func cancelled(op string, err error, reasons []types.CancellationReason) error {
	var transient error
	for _, r := range reasons {
		code := aws.ToString(r.Code)
		if code == "" || code == "None" {
			continue
		}
		if id, n, ok := revisionTaken(r); ok {
			// The bond's revision counter is behind its history (the bond
			// table restored without the revisions table, say): the write
			// would have replaced a revision, which is never done.
			return bond.ErrRevisionKept(id, n)
		}
		e := translate(op, &smithy.GenericAPIError{Code: twin(code), Message: aws.ToString(r.Message)})
		switch bond.KindOf(e) {
		case bond.KindUnavailable:
			if transient == nil {
				transient = bond.Unavailable(op, err)
			}
		case bond.KindInternal:
			return fmt.Errorf("%s: %w", op, err)
		default:
			return e
		}
	}
	if transient != nil {
		return transient
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isTransient reports whether err is throttling, a conflict, a timeout or a
// connection failure: worth a retry, by the SDK now or by the client later.
func isTransient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && transientCodes[ae.ErrorCode()] {
		return true
	}
	if txConflict(err) {
		return true
	}
	var qe *ratelimit.QuotaExceededError // the retryer's token bucket is empty
	if errors.As(err, &qe) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var se *smithyhttp.RequestSendError // could not send: connection refused, reset, DNS
	if errors.As(err, &se) {
		return true
	}
	var ce *smithy.CanceledError
	return errors.As(err, &ce)
}

// txConflict reports whether err is a cancelled transaction whose only
// failures are transient (conflict with another transaction, throttling).
func txConflict(err error) bool {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return false
	}
	transient := false
	for _, r := range tc.CancellationReasons {
		code := aws.ToString(r.Code)
		switch {
		case code == "" || code == "None":
		case transientCodes[twin(code)]:
			transient = true
		default:
			return false // e.g. ConditionalCheckFailed: a retry cannot cure it
		}
	}
	return transient
}

// cancellation returns the reasons of a cancelled transaction, nil otherwise.
func cancellation(err error) []types.CancellationReason {
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		return tc.CancellationReasons
	}
	return nil
}

// failedCondition reports whether reason i of a cancelled transaction is a
// failed condition, and returns the item as it was (ALL_OLD).
func failedCondition(reasons []types.CancellationReason, i int) (map[string]types.AttributeValue, bool) {
	if i < 0 || i >= len(reasons) || aws.ToString(reasons[i].Code) != "ConditionalCheckFailed" {
		return nil, false
	}
	return reasons[i].Item, true
}

// condFailed reports whether err is a failed condition of a single-item
// write, and returns the item as it was (nil when it did not exist).
func condFailed(err error) (map[string]types.AttributeValue, bool) {
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return cf.Item, true
	}
	return nil, false
}

// tooLarge reports whether err says the item would exceed DynamoDB's item
// size limit.
func tooLarge(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		return false
	}
	msg := strings.ToLower(ae.ErrorMessage())
	return strings.Contains(msg, "item size") || strings.Contains(msg, "maximum allowed size")
}

// retryTxConflict makes the SDK retryer retry transactions cancelled by a
// conflict or throttling (guregu/dynamo's RetryTxConflicts). It never retries
// a failed condition.
type retryTxConflict struct{}

func (retryTxConflict) IsErrorRetryable(err error) aws.Ternary {
	if txConflict(err) {
		return aws.TrueTernary
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "TransactionConflictException" {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// revisionTaken reports whether reason r is the failed condition of a
// revision's put (attribute_not_exists, journalItems): the item it met, a
// kept revision, names the bond and the revision.
func revisionTaken(r types.CancellationReason) (id string, n int64, ok bool) {
	if aws.ToString(r.Code) != "ConditionalCheckFailed" || r.Item == nil {
		return "", 0, false
	}
	if _, data := r.Item[attrData]; !data {
		if _, chunks := r.Item[attrChunks]; !chunks {
			return "", 0, false
		}
	}
	id, _ = readString(r.Item, attrBondID)
	num, isN := r.Item[attrRevision].(*types.AttributeValueMemberN)
	if !isN {
		return id, 0, true
	}
	n, _ = strconv.ParseInt(num.Value, 10, 64)
	return id, n, true
}
