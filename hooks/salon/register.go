package salon

import "github.com/pocketbase/pocketbase/core"

// Register binds the kernel: the one salon_settings record.
func Register(app core.App) {
	bindSettings(app)
}
