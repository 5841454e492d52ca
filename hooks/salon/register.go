package salon

import "github.com/pocketbase/pocketbase/core"

// Register binds the kernel: the one salon_settings record, the jobs
// that requests leave to run after their answer, and the nightly database
// job, and backups that leave data.db to Litestream when it manages it.
func Register(app core.App) {
	bindConfigCache(app)
	bindWithInsert(app)
	bindSettings(app)
	bindJobs(app)
	bindDataDirCheck(app)
	bindIndexedBroadcasts(app)
	bindNightlyOptimize(app)
	bindBackups(app)
}
