package salon

import (
	"log/slog"

	"github.com/pocketbase/pocketbase/core"
)

// PocketBase runs a nightly job (__pbDBOptimize__, midnight) that checkpoints
// both databases with PRAGMA wal_checkpoint(TRUNCATE) and runs PRAGMA
// optimize. Under Litestream that checkpoint of data.db fights Litestream:
// Litestream keeps a read transaction open on data.db so that nothing is
// checkpointed before it has copied it, and a TRUNCATE checkpoint waits for
// every reader to leave the WAL while it blocks new writers (SQLite's
// documented behaviour of RESTART and TRUNCATE). So the nightly job could hold
// every write for up to PocketBase's busy timeout (10 s) and then give up with
// SQLITE_BUSY, having truncated nothing. Litestream checkpoints data.db
// itself, so when it manages the database we leave data.db to it and keep
// the rest of the job.

// nightlyOptimizeJob is the id PocketBase gives its job; adding a job with
// the same id replaces it.
const nightlyOptimizeJob = "__pbDBOptimize__"

func bindNightlyOptimize(app core.App) {
	app.Cron().Add(nightlyOptimizeJob, "0 0 * * *", func() { NightlyOptimize(app) })
}

// NightlyOptimize is PocketBase's nightly database job, without the
// checkpoint of data.db when Litestream replicates it.
func NightlyOptimize(app core.App) {
	managed, err := UnderLitestream(app)
	if err != nil {
		app.Logger().Warn("nightly optimize: cannot tell whether Litestream manages data.db", slog.String("error", err.Error()))
	}
	if !managed {
		if _, err := app.NonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
			app.Logger().Warn("Failed to run periodic PRAGMA wal_checkpoint for the main DB", slog.String("error", err.Error()))
		}
	}
	// auxiliary.db (logs) is not replicated: checkpoint it as PocketBase does
	if _, err := app.AuxNonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
		app.Logger().Warn("Failed to run periodic PRAGMA wal_checkpoint for the auxiliary DB", slog.String("error", err.Error()))
	}
	if _, err := app.NonconcurrentDB().NewQuery("PRAGMA optimize").Execute(); err != nil {
		app.Logger().Warn("Failed to run periodic PRAGMA optimize", slog.String("error", err.Error()))
	}
}

// UnderLitestream reports whether Litestream manages data.db: it creates its
// _litestream_seq table there when it starts replicating. A database
// restored from a Litestream replica has the table too; leaving its
// checkpoints to SQLite's automatic ones then costs only disk space (the WAL
// is reused, and cut back to PocketBase's journal_size_limit).
func UnderLitestream(app core.App) (bool, error) {
	var n int
	err := app.NonconcurrentDB().
		NewQuery("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_litestream_seq'").
		Row(&n)
	return n > 0, err
}
