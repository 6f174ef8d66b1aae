package reports

import (
	"os"
	"testing"
)

func TestZZSmoke(t *testing.T) {
	dir := os.Getenv("REPORTS_OUT")
	if dir == "" {
		t.Skip()
	}
	synthRun(t, dir, 1, 1)
	rep, err := Render(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteTable(os.Stdout)
}
