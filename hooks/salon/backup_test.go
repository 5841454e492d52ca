package salon_test

import (
	"archive/zip"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"salonbase/testutil"
)

// A backup of a database Litestream manages (its _litestream_seq table)
// holds the same as PocketBase's own and leaves data.db's WAL to Litestream;
// without Litestream the backup is PocketBase's, which truncates the WAL.
func TestBackupUnderLitestream(t *testing.T) {
	for _, litestream := range []bool{false, true} {
		app := testutil.NewApp(t)
		exec := func(q string) {
			t.Helper()
			if _, err := app.NonconcurrentDB().NewQuery(q).Execute(); err != nil {
				t.Fatal(err)
			}
		}
		if litestream {
			exec("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)")
		}
		exec("CREATE TABLE backup_probe (note TEXT)")
		exec("INSERT INTO backup_probe VALUES ('written before the backup')")
		stored := filepath.Join(app.DataDir(), "storage", "c1", "r1", "photo.png")
		if err := os.MkdirAll(filepath.Dir(stored), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stored, []byte("picture"), 0o644); err != nil {
			t.Fatal(err)
		}

		if err := app.CreateBackup(context.Background(), "drill.zip"); err != nil {
			t.Fatalf("litestream=%v: CreateBackup: %v", litestream, err)
		}

		wal, err := os.Stat(filepath.Join(app.DataDir(), "data.db-wal"))
		if err != nil {
			t.Fatal(err)
		}
		if litestream && wal.Size() == 0 {
			t.Errorf("under Litestream the backup truncated data.db's WAL (a TRUNCATE checkpoint, which blocks writers while Litestream reads)")
		}
		if !litestream && wal.Size() != 0 {
			t.Errorf("without Litestream PocketBase's backup left data.db's WAL at %d bytes, want it truncated", wal.Size())
		}

		files := unzipBackup(t, filepath.Join(app.DataDir(), "backups", "drill.zip"))
		for _, name := range []string{"data.db-wal", "data.db-shm", "auxiliary.db-wal", "backups/drill.zip"} {
			if _, ok := files[name]; ok {
				t.Errorf("litestream=%v: the backup holds %s", litestream, name)
			}
		}
		if string(files["storage/c1/r1/photo.png"]) != "picture" {
			t.Errorf("litestream=%v: the backup lacks the stored file", litestream)
		}
		if _, ok := files["auxiliary.db"]; !ok {
			t.Errorf("litestream=%v: the backup lacks auxiliary.db", litestream)
		}
		db := filepath.Join(t.TempDir(), "data.db")
		if err := os.WriteFile(db, files["data.db"], 0o600); err != nil {
			t.Fatal(err)
		}
		conn, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		var note string
		err = conn.QueryRow("SELECT note FROM backup_probe").Scan(&note)
		conn.Close()
		if err != nil || note != "written before the backup" {
			t.Errorf("litestream=%v: the backup's data.db: %q %v, want the row written before it", litestream, note, err)
		}
	}
}

func unzipBackup(t *testing.T, path string) map[string][]byte {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer r.Close()
	files := map[string][]byte{}
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}
