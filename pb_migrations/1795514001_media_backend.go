package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// media_backend: live streams and calls run on the embedded media server
// (builtin) or on a LiveKit deployment. The LiveKit secret is Hidden and
// encrypted at rest like the Stripe secrets; LIVEKIT_URL, LIVEKIT_API_KEY and
// LIVEKIT_API_SECRET in the environment win over these fields.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.SelectField{Name: "media_backend", MaxSelect: 1, Values: []string{"builtin", "livekit"},
				Help: "Where live streams and calls run: builtin (the embedded media server; empty means builtin) or livekit (the fields below)."},
			&core.URLField{Name: "livekit_url",
				Help: "LiveKit server URL as members' browsers reach it (wss://livekit.example.com). LIVEKIT_URL wins over this field."},
			&core.TextField{Name: "livekit_api_key", Max: 255,
				Help: "LiveKit API key. LIVEKIT_API_KEY wins over this field."},
			&core.TextField{Name: "livekit_api_secret", Hidden: true, Max: 1000,
				Help: "LiveKit API secret (signs our access tokens, verifies LiveKit's webhooks). LIVEKIT_API_SECRET wins over this field." +
					" Encrypted at rest when the server runs with --encryptionEnv (the dashboard then shows enc:v1:…; type a new value over it to change it)."},
		)
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		for _, name := range []string{"media_backend", "livekit_url", "livekit_api_key", "livekit_api_secret"} {
			c.Fields.RemoveByName(name)
		}
		return app.Save(c)
	})
}
