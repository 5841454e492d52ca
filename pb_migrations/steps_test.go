package pb_migrations_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	_ "salonbase/pb_migrations"
)

// migratedApp is a test app on an empty temp dir with every migration
// applied; it is cleaned up when the test ends.
func migratedApp(t *testing.T) *tests.TestApp {
	t.Helper()
	app, err := tests.NewTestAppWithConfig(core.BaseAppConfig{DataDir: t.TempDir(), EncryptionEnv: "pb_test_env"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Cleanup)
	return app
}

// revertTo reverts app's migrations, newest first, up to and including
// name: the schema as it was before name.
func revertTo(t *testing.T, app core.App, name string) {
	t.Helper()
	runner := core.NewMigrationsRunner(app, core.AppMigrations)
	reverted, err := runner.Down(1)
	for err == nil && len(reverted) == 1 && reverted[0] != name {
		reverted, err = runner.Down(1)
	}
	if err != nil || len(reverted) != 1 {
		t.Fatalf("revert %s: %v %v", name, reverted, err)
	}
}

// upgrade applies every migration app lacks, as an upgraded salon's first
// start does.
func upgrade(t *testing.T, app core.App) {
	t.Helper()
	if _, err := core.NewMigrationsRunner(app, core.AppMigrations).Up(); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
}
