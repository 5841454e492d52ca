package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	_ "salonbase/pb_migrations"
)

// The template: a data dir with every migration applied, which NewApp
// clones for each test, the way PocketBase's own tests copy their
// test_pb_data. Migrating takes seconds (minutes under the race detector on
// a busy machine), so one template is shared by every test binary of a
// `go test ./...` run and by the runs after it: it lives in the user's cache
// dir under a key of the migrations and the PocketBase version, and a file
// lock makes the test binaries that start together build it once.
var template struct {
	once    sync.Once
	dir     string
	err     error
	private bool // made for this binary alone: Main removes it
}

func templateDir() (string, error) {
	template.once.Do(func() {
		if key, ok := templateKey(); ok {
			dir, err := sharedTemplate(key)
			if err == nil {
				template.dir = dir
				return
			}
			// an unwritable cache dir costs time, not the run
			fmt.Fprintf(os.Stderr, "testutil: shared test data template: %v; migrating a private one\n", err)
		}
		template.dir, template.err = migrateTemplate()
		template.private = true
	})
	return template.dir, template.err
}

// templateKey names the template after what goes into it: our migrations
// (their names in order, and their source, so that a migration edited
// before it lands makes a new template), PocketBase and SQLite (their
// system migrations and file format) and the settings encryption key.
// Without the migrations' source (a -trimpath build) there is no key and
// each binary migrates its own template.
func templateKey() (string, bool) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", false
	}
	files, err := filepath.Glob(filepath.Join(filepath.Dir(self), "..", "pb_migrations", "*.go"))
	if err != nil || len(files) == 0 {
		return "", false
	}
	h := sha256.New()
	for _, m := range core.AppMigrations.Items() {
		fmt.Fprintln(h, m.File)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return "", false
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(src))
		h.Write(src)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/pocketbase/pocketbase" || d.Path == "modernc.org/sqlite" {
			if d.Replace != nil {
				d = d.Replace
			}
			fmt.Fprintln(h, d.Path, d.Version, d.Sum)
		}
	}
	fmt.Fprintln(h, os.Getenv("pb_test_env"))
	return hex.EncodeToString(h.Sum(nil))[:20], true
}

// sharedTemplate returns the template dir for key, building it first if no
// test binary did yet.
func sharedTemplate(key string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root := filepath.Join(cache, "salonbase-test-data")
	dir := filepath.Join(root, key)
	if isTemplate(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(root, key+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close() // releases the lock
	if err := lockFile(lock); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if isTemplate(dir) {
		return dir, nil // another binary built it while this one waited
	}

	migrated, err := migrateTemplate()
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(migrated)
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		return "", err
	}
	if err := copyDir(migrated, tmp); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("copy the template: %w", err)
	}
	// the rename publishes the template whole: a binary that does not wait
	// for the lock (see lockFile) sees either nothing or all of it
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if isTemplate(dir) {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

func isTemplate(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "data.db"))
	return err == nil
}

// migrateTemplate applies every migration to an empty data dir and returns
// the migrated copy (in the temp dir), closed but kept.
func migrateTemplate() (string, error) {
	empty, err := os.MkdirTemp("", "salonbase_template_")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(empty)
	app, err := tests.NewTestAppWithConfig(core.BaseAppConfig{DataDir: empty, EncryptionEnv: "pb_test_env"})
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	// close it without deleting it (app.Cleanup would)
	if err := app.ClearBootstrap(); err != nil {
		os.RemoveAll(app.DataDir())
		return "", err
	}
	return app.DataDir(), nil
}

// copyDir copies the regular files and dirs under src into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return errors.New("not a regular file: " + path)
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
