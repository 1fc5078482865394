package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// deleteTable deletes the bench's own table at endpoint. The service has no
// command for that (nor should it); the credentials and region come from the
// SDK's default chain, as the service's do (scripts/bench.sh sets DynamoDB
// Local's dummy ones).
func deleteTable(ctx context.Context, endpoint, table string) error {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("bench: delete table %s: %w", table, err)
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		return fmt.Errorf("bench: delete table %s: %w", table, err)
	}
	return nil
}
