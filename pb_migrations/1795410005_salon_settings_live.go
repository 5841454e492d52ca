package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Settings of live streams, calls and the media server (README "Live
// streams and calls"). Network fields apply when the server starts.
func init() {
	m.Register(func(app core.App) error {
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.RelationField{Name: "live_min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Members of this rank and above may broadcast live (empty: only admins and tutors)."},
			&core.NumberField{Name: "call_ring_seconds", OnlyInt: true,
				Help: "A call nobody answers becomes missed after this many seconds (0: 45)."},
			&core.TextField{Name: "rtc_stun_urls", Max: 1000,
				Help: "STUN servers for clients, space separated (stun:stun.example.com:3478)."},
			&core.TextField{Name: "rtc_turn_urls", Max: 1000,
				Help: "TURN servers for clients, space separated (turn:turn.example.com:3478?transport=udp)."},
			&core.TextField{Name: "rtc_turn_secret", Max: 200, Hidden: true,
				Help: "coturn static-auth-secret: clients get credentials valid for one hour."},
			&core.TextField{Name: "rtc_public_ip", Max: 200,
				Help: "Public IP(s) of a server behind 1:1 NAT, space separated (applies at restart)."},
			&core.NumberField{Name: "rtc_udp_port", OnlyInt: true,
				Help: "One UDP port for all media (open it in the firewall; applies at restart). 0: a random port per connection."},
			&core.NumberField{Name: "rtc_max_streams", OnlyInt: true, Help: "Concurrent live streams (0: 20)."},
			&core.NumberField{Name: "rtc_max_viewers", OnlyInt: true, Help: "Viewers per stream (0: 500)."},
			&core.NumberField{Name: "rtc_max_calls", OnlyInt: true, Help: "Concurrent calls (0: 100)."},
		)
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		for _, f := range []string{"live_min_rank", "call_ring_seconds", "rtc_stun_urls", "rtc_turn_urls",
			"rtc_turn_secret", "rtc_public_ip", "rtc_udp_port", "rtc_max_streams", "rtc_max_viewers", "rtc_max_calls"} {
			c.Fields.RemoveByName(f)
		}
		return app.Save(c)
	})
}
