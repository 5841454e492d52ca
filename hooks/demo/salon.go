package demo

import (
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"salonbase/hooks/forum"
)

// RoomPassword opens the demo's password room.
const RoomPassword = "salon-room-2026"

// seedLife gives the demo salon something to look at: rooms (one for Gold
// and above, one with a password), forum categories with topics, a group,
// an upcoming event, a product and a scheduled live stream.
func seedLife(tx core.App, ranks, ids map[string]string) error {
	save := func(collection string, values map[string]any) (*core.Record, error) {
		c, err := tx.FindCollectionByNameOrId(collection)
		if err != nil {
			return nil, err
		}
		r := core.NewRecord(c)
		for k, v := range values {
			r.Set(k, v)
		}
		if err := tx.Save(r); err != nil {
			return nil, fmt.Errorf("demo %s %v: %w", collection, values["name"], err)
		}
		return r, nil
	}
	aiko, ken, mika := ids["aiko@example.com"], ids["ken@example.com"], ids["mika@example.com"]

	for _, room := range []map[string]any{
		{"name": "Lounge", "description": "Say hello! Everyone is welcome.", "notify_members": true, "members_can_delete_own": true},
		{"name": "Gold lounge", "description": "For Gold members and above.", "min_rank": ranks["Gold"]},
		{"name": "Study room", "description": "Ask Ken for the password.", "password": RoomPassword, "moderators": []string{ken}},
	} {
		if _, err := save("rooms", room); err != nil {
			return err
		}
	}
	lounge, err := tx.FindFirstRecordByData("rooms", "name", "Lounge")
	if err != nil {
		return err
	}
	for _, msg := range [][2]string{{aiko, "ようこそ！Welcome to the demo salon."}, {ken, "Marketing Q&A every Friday here."}} {
		if _, err := save("room_messages", map[string]any{"room": lounge.Id, "author": msg[0], "body": msg[1]}); err != nil {
			return err
		}
	}

	news, err := save("forum_categories", map[string]any{"name": "Announcements", "description": "News from the operators.", "admin_topics_only": true, "sort": 1})
	if err != nil {
		return err
	}
	talk, err := save("forum_categories", map[string]any{"name": "General", "description": "Anything about the salon.", "sort": 2})
	if err != nil {
		return err
	}
	for _, topic := range []map[string]any{
		{"category": news.Id, "author": aiko, "title": "Welcome to the salon", "body": "Read the rules, then introduce yourself in General.", "pinned": true},
		{"category": talk.Id, "author": ids["olivia@example.com"], "title": "Introduce yourself", "body": "I'm Olivia, a product manager in Osaka."},
		{"category": talk.Id, "author": ids["ren@example.com"], "title": "Which language to learn first?", "body": "Go or TypeScript?", "question": true},
	} {
		if _, err := save("forum_topics", topic); err != nil {
			return err
		}
	}

	group, err := save("groups", map[string]any{"name": "Design club", "theme": "design", "description": "Critique and portfolio reviews.", "owner": mika, "visibility": "open"})
	if err != nil {
		return err
	}
	if err := forum.SetUpGroup(tx, group); err != nil {
		return fmt.Errorf("demo group: %w", err)
	}

	in := func(days int) time.Time {
		return time.Now().UTC().Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Hour)
	}
	if _, err := save("events", map[string]any{"title": "Spring meetup", "kind": "offline", "starts_at": in(14), "ends_at": in(14).Add(2 * time.Hour),
		"timezone": "Asia/Tokyo", "location": "Shibuya", "capacity": 30, "published": true, "organizer": ken}); err != nil {
		return err
	}
	if _, err := save("products", map[string]any{"name": "Salon notebook", "description": "A notebook with the salon's logo.", "price": 1500, "currency": "jpy",
		"unlimited": true, "active": true, "rank_prices": map[string]any{"Gold": 1200}}); err != nil {
		return err
	}
	if _, err := save("live_streams", map[string]any{"host": ken, "title": "Marketing Q&A", "status": "scheduled", "scheduled_at": in(3),
		"stream_key": "sk_" + security.RandomString(32)}); err != nil {
		return err
	}
	return nil
}
