package report_test

import "github.com/credtrail/credtrail/report"

func reportOptions() report.Options { return report.Options{Version: "test"} }
