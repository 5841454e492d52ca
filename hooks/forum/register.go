package forum

import "github.com/pocketbase/pocketbase/core"

// Register binds the forum, groups and profiles.
func Register(app core.App) {
	bindForum(app)
	bindGroups(app)
	bindProfiles(app)
}
