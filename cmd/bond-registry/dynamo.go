package main

import (
	"context"
	"errors"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/config"
)

// openDynamo opens the DynamoDB store. (Wired when internal/dynamostore lands.)
func openDynamo(ctx context.Context, cfg config.Config) (bond.Repository, error) {
	return nil, errors.New("dynamodb store: not wired yet")
}

// migrate creates the DynamoDB table and backfills guard items.
func migrate(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	return errors.New("migrate: not wired yet")
}
