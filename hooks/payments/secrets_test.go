package payments_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"salonbase/hooks/payments"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// TestStripeSecretsEncryptedAtRest: with an --encryptionEnv key, the Stripe
// secrets an operator saves in salon_settings are encrypted in data.db with
// PocketBase's key, payments keep working with them, and plain values saved
// before the key was set keep working and are sealed when the server starts.
// Sequential: PocketBase reads an app's encryption key from the process
// environment (the variable its --encryptionEnv names).
func TestStripeSecretsEncryptedAtRest(t *testing.T) {
	app := testutil.NewApp(t)
	t.Setenv(app.EncryptionEnv(), "0123456789abcdef0123456789abcdef")
	raw := func(field string) string {
		var v string
		if err := app.DB().NewQuery("SELECT " + field + " FROM salon_settings").Row(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	// a value saved before the key existed (written straight into the table)
	if _, err := app.DB().NewQuery("UPDATE salon_settings SET stripe_webhook_secret = {:v}").
		Bind(map[string]any{"v": testutil.TestWebhookSecret}).Execute(); err != nil {
		t.Fatal(err)
	}
	srv := testutil.Serve(t, app) // starting seals it
	if v := raw("stripe_webhook_secret"); strings.Contains(v, testutil.TestWebhookSecret) || !salon.IsEncrypted(v) {
		t.Fatalf("a plain secret from before the key must be encrypted when the server starts: %q", v)
	}

	// the operator sets the secret key in the dashboard
	s, _ := salon.Settings(app)
	root := testutil.SuperuserToken(t, app)
	url := "/api/collections/salon_settings/records/" + s.Id
	testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"stripe_secret_key": testutil.TestSecretKey}, http.StatusOK, "")
	if v := raw("stripe_secret_key"); strings.Contains(v, testutil.TestSecretKey) || !salon.IsEncrypted(v) {
		t.Fatalf("the secret key is stored in plain text: %q", v)
	}
	// the dashboard sends the ciphertext back with the next edit: kept as is
	sealed := raw("stripe_secret_key")
	testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"stripe_secret_key": sealed, "tip_min": 200}, http.StatusOK, "")
	if raw("stripe_secret_key") != sealed {
		t.Fatal("re-sending the stored ciphertext must keep it")
	}
	// a malformed plain key is refused with a clear message
	testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"stripe_secret_key": "pk_test_public"}, http.StatusBadRequest, "sk_live_")

	// payments work with the encrypted secrets: a signed webhook is verified
	ev := testutil.StripeEvent("customer.created", map[string]any{"id": "cus_1", "object": "customer"})
	if status, body := testutil.PostWebhook(t, srv, ev, testutil.TestWebhookSecret, time.Now()); status != http.StatusOK {
		t.Fatalf("webhook signed with the encrypted secret: %d %s", status, body)
	}
	if status, _ := testutil.PostWebhook(t, srv, ev, "whsec_forged", time.Now()); status != http.StatusBadRequest {
		t.Fatalf("a forged webhook must still be refused: %d", status)
	}
	// and the environment still wins
	payments.Configure(app, payments.Config{WebhookSecret: "whsec_from_env"})
	if status, _ := testutil.PostWebhook(t, srv, ev, testutil.TestWebhookSecret, time.Now()); status != http.StatusBadRequest {
		t.Fatalf("the environment must win over the encrypted field: %d", status)
	}
}
