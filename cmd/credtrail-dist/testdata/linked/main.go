// Command linked links two of the modules credtrail ships (without DuckDB,
// whose static library takes minutes to link), for the SBOM test.
package main

import (
	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"
)

func main() {
	_ = cobra.Command{Use: excelize.NewFile().GetSheetName(0)}
}
