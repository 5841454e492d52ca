package payments

import (
	"fmt"
	"regexp"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// The Stripe secrets in salon_settings and the form a plain value must have
// (the field itself accepts the longer ciphertext too).
var stripeSecretFields = []struct {
	name    string
	pattern *regexp.Regexp
	hint    string
}{
	{"stripe_secret_key", regexp.MustCompile(`^(sk|rk)_(test|live)_\S+$`), "sk_live_… or sk_test_… (or rk_…)"},
	{"stripe_webhook_secret", regexp.MustCompile(`^whsec_\S+$`), "whsec_…"},
}

// encryptStripeSecrets checks a plain secret written into salon_settings
// (dashboard, API or Go) and stores it encrypted when the app has a key. A
// value that is already ciphertext (the dashboard sends it back with every
// edit) is kept.
func encryptStripeSecrets(e *core.RecordEvent) error {
	for _, f := range stripeSecretFields {
		v := e.Record.GetString(f.name)
		if v == "" || salon.IsEncrypted(v) {
			continue
		}
		if len(v) > 255 || !f.pattern.MatchString(v) {
			return apis.NewBadRequestError(fmt.Sprintf("%s must look like %s.", f.name, f.hint), nil)
		}
		sealed, err := salon.EncryptSecret(e.App, v)
		if err != nil {
			return err
		}
		e.Record.Set(f.name, sealed)
	}
	return e.Next()
}

// sealPlainSecrets encrypts Stripe secrets stored in plain text before the
// key was set, when the server starts with a key.
func sealPlainSecrets(app core.App) error {
	if salon.EncryptionKey(app) == "" {
		return nil
	}
	s, err := salon.Settings(app)
	if err != nil {
		return err
	}
	for _, f := range stripeSecretFields {
		if v := s.GetString(f.name); v != "" && !salon.IsEncrypted(v) {
			return app.Save(s) // encryptStripeSecrets seals every plain secret
		}
	}
	return nil
}
