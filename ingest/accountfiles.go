package ingest

import (
	"context"
	"database/sql"
	"errors"
)

func loadPasswordPolicy(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("password policies are not loaded yet")
}

func loadAccountSummary(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("account summaries are not loaded yet")
}

func loadPublicKeys(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("public keys are not loaded yet")
}

func loadDigest(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("digest files are not loaded yet")
}
