package search

import "github.com/pocketbase/pocketbase/core"

// Register binds the site search.
func Register(app core.App) {
	bindSearch(app)
}
