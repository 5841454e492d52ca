package pb_migrations

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// stripe_secret_ciphertext: the Stripe secrets in salon_settings are stored
// encrypted when the server has an --encryptionEnv key, so the fields accept
// ciphertext; hooks/payments checks the form of a plain value instead.
const encryptedHelp = " Encrypted at rest when the server runs with --encryptionEnv (the dashboard then shows enc:v1:…; type a new value over it to change it)."

func init() {
	set := func(app core.App, secretPattern, webhookPattern string, max int) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		for name, pattern := range map[string]string{"stripe_secret_key": secretPattern, "stripe_webhook_secret": webhookPattern} {
			f, ok := c.Fields.GetByName(name).(*core.TextField)
			if !ok {
				continue
			}
			f.Pattern = pattern
			f.Max = max
			if pattern == "" {
				f.Help = strings.TrimSuffix(f.Help, encryptedHelp) + encryptedHelp
			} else {
				f.Help = strings.TrimSuffix(f.Help, encryptedHelp)
			}
		}
		return app.Save(c)
	}
	m.Register(func(app core.App) error {
		return set(app, "", "", 1000)
	}, func(app core.App) error {
		return set(app, `^(sk|rk)_(test|live)_\S+$`, `^whsec_\S+$`, 255)
	})
}
