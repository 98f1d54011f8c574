package ingest

import (
	"context"
	"database/sql"
	"time"
)

// fileStats is what a loader reports about one file it loaded.
type fileStats struct {
	Records     int64     // records (report rows, entities, events) in the file
	Duplicates  int64     // records not kept because an identical copy is in the case
	AccountID   string    // the account the file is about, when one
	First, Last time.Time // time span the file covers, when known
	Note        string    // something the user should know, kept in evidence_files.error
}

// bodyLoader loads one whole, decompressed file into the case inside tx. An
// error rejects the file (the transaction is rolled back); its message names
// the position in the file ("line 3: …", "UserDetailList[2].Arn: …") but not
// the file itself, which the caller adds.
type bodyLoader func(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error)

// bodyLoaders are the loaders of the kinds that are small enough to read whole.
var bodyLoaders = map[string]bodyLoader{
	KindCredentialRpt:  loadCredentialReport,
	KindAuthorization:  loadAuthorizationDetails,
	KindPasswordPolicy: loadPasswordPolicy,
	KindAccountSummary: loadAccountSummary,
	KindPublicKeys:     loadPublicKeys,
	KindObjectMetadata: loadObjectMetadata,
	KindDigest:         loadDigest,
	KindActionCatalog:  loadActionCatalog,
}
