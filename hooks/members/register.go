package members

import "github.com/pocketbase/pocketbase/core"

// Register binds users, invite codes, blocks, reports and follows.
func Register(app core.App) {
	bindUsers(app)
	bindSignupPurge(app)
	bindInvites(app)
	bindBlocks(app)
	bindReports(app)
	bindFollows(app)
}
