package salon

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// ReplayCreate answers a retried create: when the new record carries a
// client_id that owner (the author columns, e.g. {"author": id}) already
// used in the collection, it answers the first record (200), or 409
// client_id_reused when that record belongs to another parent (the value
// of parentField differs: another room, another topic). replay reports
// whether it answered. The collection has a unique index on the owner
// columns and client_id among the non-empty ids.
func ReplayCreate(e *core.RecordRequestEvent, owner dbx.HashExp, parentField string) (replay bool, err error) {
	clientID := e.Record.GetString("client_id")
	if clientID == "" {
		return false, nil
	}
	where := dbx.HashExp{"client_id": clientID}
	for k, v := range owner {
		where[k] = v
	}
	var id string
	// the "client_id != ''" term matches the partial unique index exactly,
	// so SQLite uses it
	err = e.App.DB().Select("id").From(e.Collection.Name).
		Where(where).AndWhere(dbx.NewExp("client_id != ''")).Limit(1).Row(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("%s client_id lookup: %w", e.Collection.Name, err)
	}
	existing, err := e.App.FindRecordById(e.Collection, id)
	if err != nil {
		return true, fmt.Errorf("%s client_id lookup: %w", e.Collection.Name, err)
	}
	if existing.GetString(parentField) != e.Record.GetString(parentField) {
		return true, Refuse(http.StatusConflict, "client_id_reused",
			"This client_id was already used for another %s: send a new one.", parentField)
	}
	if err := apis.EnrichRecord(e.RequestEvent, existing); err != nil {
		return true, err
	}
	return true, e.JSON(http.StatusOK, existing)
}
