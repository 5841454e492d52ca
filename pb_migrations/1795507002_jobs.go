package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// jobs: work a request promises but finishes after its answer (the notices
// of a room message, an event's announcement, a forum topic's followers).
// The request writes the job in the same transaction as the record it
// acknowledges; the server runs it after the commit, and again at start
// when a crash came first (hooks/salon/jobs.go). A job's work and the
// deletion of its row commit together, so it is done exactly once.
// Superusers only (nil rules): the dashboard shows failed jobs.
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("jobs")
		c.Fields.Add(
			&core.TextField{Name: "kind", Required: true, Max: 100, Presentable: true},
			&core.JSONField{Name: "payload", MaxSize: 1 << 20},
			&core.SelectField{Name: "status", Values: []string{"pending", "failed"}, MaxSelect: 1, Required: true,
				Help: "pending: waiting to run (again at run_at after a failure); failed: gave up after the last attempt."},
			&core.NumberField{Name: "attempts", OnlyInt: true},
			&core.DateField{Name: "run_at"},
			&core.TextField{Name: "last_error", Max: 1000},
		)
		addTimestamps(c)
		c.AddIndex("idx_jobs_due", false, "status, run_at", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("jobs")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
