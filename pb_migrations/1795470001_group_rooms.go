package pb_migrations

import (
	"fmt"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// A group gets its own chat room: rooms.group says which group a room
// belongs to (only the group's active members, and admins, read and write
// it), groups.room points back at it. Existing groups get their room here;
// new ones in hooks/groups.go. The rules below say the same as
// hooks/access.go canEnterRoom and RoomReaders.
func init() {
	// roomPath is "" for rooms and "room." for room_messages
	groupGate := func(roomPath string) string {
		return "(@request.auth.collectionName = 'guests' || @request.auth.role = 'admin' || " + roomPath + "group = '' || (" +
			roomPath + "group.group_members_via_group.user ?= @request.auth.id && " +
			roomPath + "group.group_members_via_group.status ?= 'active'))"
	}

	m.Register(func(app core.App) error {
		rooms, err := app.FindCollectionByNameOrId("rooms")
		if err != nil {
			return err
		}
		groups, err := app.FindCollectionByNameOrId("groups")
		if err != nil {
			return err
		}

		rooms.Fields.Add(&core.RelationField{Name: "group", CollectionId: groups.Id, MaxSelect: 1, CascadeDelete: true,
			Help: "Set for a group's chat room: only the group's active members read and write it."})
		rooms.AddIndex("idx_rooms_group", false, "`group`", "")
		rooms.ListRule = types.Pointer("(" + *rooms.ListRule + ") && " + groupGate(""))
		rooms.ViewRule = rooms.ListRule
		if err := app.Save(rooms); err != nil {
			return err
		}

		messages, err := app.FindCollectionByNameOrId("room_messages")
		if err != nil {
			return err
		}
		for _, rule := range []**string{&messages.ListRule, &messages.ViewRule, &messages.DeleteRule} {
			if *rule != nil {
				*rule = types.Pointer("(" + **rule + ") && " + groupGate("room."))
			}
		}
		if err := app.Save(messages); err != nil {
			return err
		}

		groups.Fields.Add(&core.RelationField{Name: "room", CollectionId: rooms.Id, MaxSelect: 1,
			Help: "The group's chat room (created with the group)."})
		if err := app.Save(groups); err != nil {
			return err
		}

		existing, err := app.FindAllRecords("groups")
		if err != nil {
			return err
		}
		for _, g := range existing {
			room := core.NewRecord(rooms)
			room.Set("name", g.GetString("name"))
			room.Set("description", "Chat of the group "+g.GetString("name"))
			room.Set("group", g.Id)
			room.Set("members_can_delete_own", true)
			if err := app.Save(room); err != nil {
				return fmt.Errorf("room of group %s: %w", g.Id, err)
			}
			g.Set("room", room.Id)
			if err := app.Save(g); err != nil {
				return fmt.Errorf("link room of group %s: %w", g.Id, err)
			}
		}
		return nil
	}, func(app core.App) error {
		ungate := func(rule *string, roomPath string) *string {
			if rule == nil {
				return nil
			}
			r := strings.TrimSuffix(*rule, ") && "+groupGate(roomPath))
			return types.Pointer(strings.TrimPrefix(r, "("))
		}
		messages, err := app.FindCollectionByNameOrId("room_messages")
		if err != nil {
			return err
		}
		messages.ListRule = ungate(messages.ListRule, "room.")
		messages.ViewRule = ungate(messages.ViewRule, "room.")
		messages.DeleteRule = ungate(messages.DeleteRule, "room.")
		if err := app.Save(messages); err != nil {
			return err
		}

		groups, err := app.FindCollectionByNameOrId("groups")
		if err != nil {
			return err
		}
		groups.Fields.RemoveByName("room")
		if err := app.Save(groups); err != nil {
			return err
		}
		rooms, err := app.FindCollectionByNameOrId("rooms")
		if err != nil {
			return err
		}
		if _, err := app.DB().NewQuery("DELETE FROM rooms WHERE [[group]] != ''").Execute(); err != nil {
			return err
		}
		rooms.ListRule = ungate(rooms.ListRule, "")
		rooms.ViewRule = rooms.ListRule
		rooms.Fields.RemoveByName("group")
		rooms.RemoveIndex("idx_rooms_group")
		return app.Save(rooms)
	})
}
