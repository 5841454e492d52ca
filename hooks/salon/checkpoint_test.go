package salon_test

import (
	"testing"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// The nightly job tells a database Litestream manages (its _litestream_seq
// table) from one it does not, and runs on both without failing.
func TestUnderLitestream(t *testing.T) {
	app := testutil.NewApp(t)
	if under, err := salon.UnderLitestream(app); err != nil || under {
		t.Fatalf("a fresh data dir: under=%v err=%v", under, err)
	}
	salon.NightlyOptimize(app)
	if _, err := app.NonconcurrentDB().NewQuery("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)").Execute(); err != nil {
		t.Fatal(err)
	}
	if under, err := salon.UnderLitestream(app); err != nil || !under {
		t.Fatalf("with Litestream's table: under=%v err=%v", under, err)
	}
	salon.NightlyOptimize(app)
}
