package report_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestWorkbookSmoke(t *testing.T) {
	c := newCase(t)
	b := workbook(t, load(t, c, reportOptions()))
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(f.GetSheetList())
}
