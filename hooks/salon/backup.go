package salon

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
	"github.com/pocketbase/pocketbase/tools/inflector"
	"github.com/pocketbase/pocketbase/tools/security"
)

// PocketBase's backup (POST /api/backups, the dashboard's button and the
// scheduled backups) copies both databases with VACUUM INTO, then runs
// PRAGMA wal_checkpoint(TRUNCATE) on them before zipping the rest of
// pb_data. Under Litestream that checkpoint of data.db holds every write for
// up to the busy timeout and then gives up (see checkpoint.go). So when
// Litestream manages data.db, salonbase makes the backup itself: the same
// zip, made the same way, without checkpointing data.db. One difference: a
// local storage file deleted while the backup runs may be missing from it
// (PocketBase copies such files first, through a hook it keeps to itself);
// files on S3 are not in a backup either way.

func bindBackups(app core.App) {
	app.OnBackupCreate().BindFunc(func(e *core.BackupEvent) error {
		managed, err := UnderLitestream(e.App)
		if err != nil {
			e.App.Logger().Warn("backup: cannot tell whether Litestream manages data.db", slog.String("error", err.Error()))
		}
		if !managed {
			return e.Next()
		}
		return backupUnderLitestream(e)
	})
}

// backupUnderLitestream makes PocketBase's backup zip of pb_data and stores
// it in the backups filesystem (local or S3), leaving data.db's WAL alone.
func backupUnderLitestream(e *core.BackupEvent) error {
	if e.Name == "" {
		appName := inflector.Snakecase(e.App.Settings().Meta.AppName)
		if len(appName) > 50 {
			appName = appName[:50]
		}
		e.Name = fmt.Sprintf("pb_backup_%s_%s.zip", appName, time.Now().UTC().Format("20060102150405"))
	}
	// in pb_data, as PocketBase does, so that nothing crosses devices
	tempDir := filepath.Join(e.App.DataDir(), core.LocalTempDirName)
	if err := os.MkdirAll(tempDir, 0o755); err != nil {
		return fmt.Errorf("backup %s: %w", e.Name, err)
	}
	zipPath := filepath.Join(tempDir, "pb_backup_"+security.PseudorandomString(6))
	defer os.Remove(zipPath)
	if err := writeBackupZip(e, tempDir, zipPath); err != nil {
		return fmt.Errorf("backup %s: %w", e.Name, err)
	}

	fsys, err := e.App.NewBackupsFilesystem()
	if err != nil {
		return fmt.Errorf("backup %s: %w", e.Name, err)
	}
	defer fsys.Close()
	fsys.SetContext(e.Context)
	file, err := filesystem.NewFileFromPath(zipPath)
	if err != nil {
		return fmt.Errorf("backup %s: %w", e.Name, err)
	}
	file.OriginalName = e.Name
	file.Name = e.Name
	if err := fsys.UploadFile(file, e.Name); err != nil {
		return fmt.Errorf("backup %s: upload: %w", e.Name, err)
	}
	return nil
}

func writeBackupZip(e *core.BackupEvent, tempDir, zipPath string) error {
	f, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})

	// consistent copies of the databases, made by SQLite within one read
	// transaction each: writers go on meanwhile
	skip := map[string]bool{}
	for _, name := range e.Exclude {
		skip[filepath.ToSlash(filepath.Clean(name))] = true
	}
	dbs := []struct {
		name string
		db   dbx.Builder
	}{{"data.db", e.App.ConcurrentDB()}, {"auxiliary.db", e.App.AuxConcurrentDB()}}
	for _, d := range dbs {
		tmp := filepath.Join(tempDir, d.name)
		os.Remove(tmp) // VACUUM INTO refuses an existing file
		if _, err := d.db.NewQuery("VACUUM INTO {:path}").Bind(dbx.Params{"path": tmp}).Execute(); err != nil {
			return fmt.Errorf("copy %s: %w", d.name, err)
		}
		err := addToZip(zw, tmp, d.name)
		os.Remove(tmp)
		if err != nil {
			return err
		}
		skip[d.name], skip[d.name+"-wal"], skip[d.name+"-shm"] = true, true, true
	}
	// auxiliary.db (logs) is not replicated: checkpoint it as PocketBase does
	if _, err := e.App.AuxNonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
		e.App.Logger().Warn("backup: checkpoint of the auxiliary DB", slog.String("error", err.Error()))
	}

	// the rest of pb_data (local storage files, hooks, migrations...)
	root := e.App.DataDir()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip[rel] {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if err := addToZip(zw, path, rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("zip %s: %w", root, err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func addToZip(zw *zip.Writer, path, name string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	header, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	header.Name = name
	header.Method = zip.Deflate
	dst, err := zw.CreateHeader(header)
	if err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	return nil
}
