// Package pb_migrations holds the Salonbase schema as Go migrations, one
// file per schema change, applied in file-name order.
//
// A landed migration is never edited: write a new one. The helpers in this
// file are used by landed migrations, so they never change either.
package pb_migrations

import "github.com/pocketbase/pocketbase/core"

// addTimestamps adds the created/updated autodate fields that
// core.NewBaseCollection does not add by itself.
func addTimestamps(c *core.Collection) {
	c.Fields.Add(
		&core.AutodateField{Name: "created", OnCreate: true},
		&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
	)
}
