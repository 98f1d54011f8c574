package ingest

import (
	"fmt"
	"regexp"
)

var (
	accountIDPattern  = regexp.MustCompile(`^[0-9]{12}$`)
	scientificPattern = regexp.MustCompile(`^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$`)
	shortIDPattern    = regexp.MustCompile(`^[0-9]{1,11}$`)
)

// checkAccountID accepts a 12-digit AWS account id. A spreadsheet that
// re-saves a CSV turns 528758312345 into 5.28758E+11 and drops the leading
// zeros of 012345678901: such a file is damaged evidence, never a new account.
func checkAccountID(id string) error {
	switch {
	case accountIDPattern.MatchString(id):
		return nil
	case scientificPattern.MatchString(id):
		return fmt.Errorf("account id %q is a number in scientific notation, not 12 digits: the file was re-saved by a spreadsheet, which destroyed the id; use the file as AWS exported it", id)
	case shortIDPattern.MatchString(id):
		return fmt.Errorf("account id %q has %d digits, not 12: a spreadsheet that re-saved the file may have dropped its leading zeros; use the file as AWS exported it", id, len(id))
	default:
		return fmt.Errorf("account id %q is not 12 digits", id)
	}
}
