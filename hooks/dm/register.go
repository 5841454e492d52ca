package dm

import "github.com/pocketbase/pocketbase/core"

// Register binds direct messages.
func Register(app core.App) {
	bindDM(app)
}
