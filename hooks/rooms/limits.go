package rooms

import (
	"net/http"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// The attachment limits of room messages, for the people who post them: the
// limit is the attachments field's max size and count in the collection's
// schema (set in the dashboard), which only superusers can read. A client
// checks a file against it before uploading it.

func roomLimitsRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/rooms/attachment-limits", roomAttachmentLimits).Bind(apis.RequireAuth("users", "guests", core.CollectionNameSuperusers))
}

func roomAttachmentLimits(e *core.RequestEvent) error {
	c, err := e.App.FindCachedCollectionByNameOrId("room_messages")
	if err != nil {
		return e.InternalServerError("", err)
	}
	f, ok := c.Fields.GetByName("attachments").(*core.FileField)
	if !ok {
		return e.InternalServerError("", nil)
	}
	maxSize := f.MaxSize
	if maxSize <= 0 {
		maxSize = core.DefaultFileFieldMaxSize
	}
	return e.JSON(http.StatusOK, map[string]any{
		"maxSize":   maxSize,
		"maxSelect": f.MaxSelect,
		"mimeTypes": append([]string{}, f.MimeTypes...),
	})
}
