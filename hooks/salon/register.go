package salon

import "github.com/pocketbase/pocketbase/core"

// Register binds the kernel: the one salon_settings record, the jobs
// that requests leave to run after their answer, and the nightly database
// job.
func Register(app core.App) {
	bindSettings(app)
	bindJobs(app)
	bindDataDirCheck(app)
	bindSuperuserOnlyBroadcasts(app)
	bindNightlyOptimize(app)
}
