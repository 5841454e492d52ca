package members

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Reports: a member reports something they can see (a message, a post, a
// member) to the operator. Admins are notified and handle it in the
// dashboard or through the API.
func bindReports(app core.App) {
	app.OnRecordCreateRequest("reports").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() {
			e.Record.Set("reporter", e.Auth.Id)
		}
		e.Record.Set("status", "open")

		target, err := findReportTarget(e)
		if err != nil {
			return err
		}
		n, err := e.App.CountRecords("reports", dbx.HashExp{
			"reporter":          e.Record.GetString("reporter"),
			"target_collection": target.Collection().Name,
			"target_id":         target.Id,
		})
		if err != nil {
			return err
		}
		if n > 0 {
			return e.BadRequestError("You have already reported this.", nil)
		}
		e.Record.Set("target_collection", target.Collection().Name)
		return e.Next()
	})

	// the admins' notices commit with the report: a crash between the two
	// cannot leave a report nobody hears of (a retry is "already reported")
	app.OnRecordCreate("reports").BindFunc(func(e *core.RecordEvent) error {
		return salon.ChainInTx(&e.App, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			admins, err := salon.AdminIDs(tx)
			if err != nil {
				return fmt.Errorf("admins to tell of report %s: %w", e.Record.Id, err)
			}
			return notify.Notify(tx, admins, notify.Notification{
				Kind:             "report",
				Title:            "New report: " + e.Record.GetString("target_collection"),
				Body:             e.Record.GetString("reason"),
				URL:              "/admin/reports",
				SourceCollection: "reports",
				SourceID:         e.Record.Id,
				Vars:             map[string]string{"TARGET": e.Record.GetString("target_collection")},
			})
		})
	})

	app.OnRecordUpdateRequest("reports").BindFunc(func(e *core.RecordRequestEvent) error {
		if e.Auth != nil && e.Auth.Collection().Name == "users" &&
			e.Record.GetString("status") != e.Record.Original().GetString("status") {
			e.Record.Set("handled_by", e.Auth.Id)
		}
		return e.Next()
	})
}

// findReportTarget loads the reported record and checks that the reporter
// can see it, so reports cannot probe for records they may not read.
func findReportTarget(e *core.RecordRequestEvent) (*core.Record, error) {
	notFound := e.BadRequestError("The reported item does not exist or is not visible to you.", nil)

	collection, err := e.App.FindCachedCollectionByNameOrId(e.Record.GetString("target_collection"))
	if err != nil || collection.IsView() || (collection.System && collection.Name != "users") {
		return nil, notFound
	}
	target, err := e.App.FindRecordById(collection, e.Record.GetString("target_id"))
	if err != nil {
		return nil, notFound
	}
	if e.HasSuperuserAuth() {
		return target, nil
	}
	info, err := e.RequestInfo()
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if ok, _ := e.App.CanAccessRecord(target, info, collection.ViewRule); !ok {
		return nil, notFound
	}
	return target, nil
}
