package salon_test

import (
	"path/filepath"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// DBConnect writes out PocketBase's pragmas to add one parameter. If a
// PocketBase upgrade changes its own, this says so, rather than the binary
// quietly running with the old ones.
func TestDBConnectSetsPocketBasesPragmas(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ours, err := salon.DBConnect(filepath.Join(dir, "ours.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	theirs, err := core.DefaultDBConnect(filepath.Join(dir, "theirs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	for _, p := range []string{"busy_timeout", "journal_mode", "journal_size_limit", "synchronous", "foreign_keys", "temp_store", "cache_size", "trusted_schema"} {
		var a, b string
		if err := ours.NewQuery("PRAGMA " + p).Row(&a); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := theirs.NewQuery("PRAGMA " + p).Row(&b); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if a != b {
			t.Errorf("PRAGMA %s: ours %q, PocketBase's %q", p, a, b)
		}
	}

	// and the one difference: a transaction takes the write lock at BEGIN,
	// so a second connection cannot write meanwhile
	if _, err := ours.NewQuery("CREATE TABLE t (x)").Execute(); err != nil {
		t.Fatal(err)
	}
	tx, err := ours.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other, err := dbx.Open("sqlite", filepath.Join(dir, "ours.db")+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.NewQuery("INSERT INTO t VALUES (1)").Execute(); err == nil {
		t.Fatal("another connection wrote while a transaction that has not written yet was open: it began deferred")
	}
}
