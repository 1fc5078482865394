package main

import (
	"context"

	"errors"
	"fmt"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/config"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/localdb"
)

// startCheckTimeout bounds the table check at start, so that a DynamoDB
// that does not answer delays the start by no more than this.
const startCheckTimeout = 5 * time.Second

// openDynamo opens the DynamoDB store on the configured table and checks
// the table against the table rules. A table that is missing or breaks them
// is one warning line, not a failure: the service starts, answers 503 with
// the reason (and /readyz too) and picks up the fixed table by itself.
func openDynamo(ctx context.Context, cfg config.Config, log zerolog.Logger) (bond.Repository, error) {
	client, err := dynamostore.NewClient(ctx, cfg.DynamoEndpoint, cfg.AWSRegion, sdkLogger(log))
	if err != nil {
		return nil, fmt.Errorf("dynamodb client: %w", err)
	}
	store := dynamostore.New(client, cfg.DynamoTable, dynamostore.WithRetention(cfg.HistoryRetention))
	checkCtx, cancel := context.WithTimeout(ctx, startCheckTimeout)
	defer cancel()
	if err := store.CheckTable(checkCtx); err != nil {
		log.Warn().Err(err).Str("table", cfg.DynamoTable).Msg("dynamodb table not usable yet: every request answers 503 until it is")
	}
	return store, nil
}

// migrate creates the DynamoDB table when it is missing and backfills the
// guard items of bonds written without them (see dynamostore.Migrate).
func migrate(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	if cfg.Store != config.StoreDynamoDB {
		return errors.New("migrate: only for STORE=dynamodb (the embedded store needs no migration)")
	}
	client, err := dynamostore.NewClient(ctx, cfg.DynamoEndpoint, cfg.AWSRegion, sdkLogger(log))
	if err != nil {
		return fmt.Errorf("dynamodb client: %w", err)
	}
	report, err := dynamostore.Migrate(ctx, client, cfg.DynamoTable, localdb.TableDefinition, log)
	var ee *dynamostore.EndpointError
	if errors.As(err, &ee) {
		where := "DYNAMODB_ENDPOINT=" + cfg.DynamoEndpoint
		if cfg.DynamoEndpoint == "" {
			where = "DYNAMODB_ENDPOINT is unset: AWS's endpoint of the region"
		}
		return fmt.Errorf("migrate: %s (%s)", ee, where)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	log.Info().Str("table", cfg.DynamoTable).Bool("table_created", report.TableCreated).Bool("ttl_enabled", report.TTLEnabled).Int("bonds", report.Bonds).
		Int("guards_created", report.GuardsCreated).Int("guards_converted", report.GuardsConverted).
		Int("duplicate_pairs", len(report.Duplicates)).Int("skipped", len(report.Skipped)).Msg("migrated")
	for _, d := range report.Duplicates {
		log.Warn().Str("host_account_id", d.HostAccountID).Str("sub_account_id", d.SubAccountID).
			Str("guard_holder", d.Holder).Str("bond_id", d.BondID).Msg("account pair held by several bonds: resolve by hand")
	}
	for _, sk := range report.Skipped {
		log.Warn().Str("bond_id", sk.Key).Str("reason", sk.Reason).Msg("item left as it is: fix it by hand")
	}
	return nil
}

// sdkLogger makes the AWS SDK write its own lines (retries, a response body
// it could not discard) through log, as JSON like every other line, instead
// of its default plain-text logger on stderr.
func sdkLogger(log zerolog.Logger) func(*awsconfig.LoadOptions) error {
	return awsconfig.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		e := log.Info()
		if c == logging.Warn {
			e = log.Warn()
		}
		e.Str("log.logger", "aws-sdk-go-v2").Msgf(format, v...)
	}))
}
