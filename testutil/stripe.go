package testutil

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"salonbase/hooks/payments"
)

// StartStripeMock runs a real stripe-mock on a free port for this test and
// points app's Stripe client at it (payments.Config's APIBase). stripe-mock
// is a Go tool dependency pinned in go.mod, so the go command builds it
// (once, cached) and the tests need nothing installed. sessionFields, when
// given, change stripe-mock's Checkout Session fixture (e.g. a paid
// session), using stripe-mock's own -fixtures option on a copy of its
// bundled fixtures.
func StartStripeMock(t testing.TB, app core.App, sessionFields map[string]any) string {
	t.Helper()
	// both listeners on free loopback ports: parallel test runs on one
	// machine must not fight over stripe-mock's default HTTPS port 12112
	args := []string{"-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"}
	if sessionFields != nil {
		args = append(args, "-fixtures", patchedFixtures(t, sessionFields))
	}
	// `go tool -n` builds the pinned tool if needed and prints its path, so
	// the test can start (and kill) stripe-mock itself, not a go process.
	out, err := exec.Command("go", "tool", "-n", "stripe-mock").Output()
	if err != nil {
		t.Fatalf("build stripe-mock (go tool -n stripe-mock): %v", err)
	}
	cmd := exec.Command(strings.TrimSpace(string(out)), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}

	addr := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok {
				addr <- a
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // keep draining after an overlong line
		exited <- cmd.Wait()
	}()
	var stopped atomic.Bool
	t.Cleanup(func() {
		stopped.Store(true)
		_ = cmd.Process.Kill()
		<-exited
	})
	// if stripe-mock dies under a test, say so instead of leaving only
	// "connection refused" behind
	died := make(chan struct{})
	go func() {
		err := <-exited
		close(died)
		exited <- err
		if !stopped.Load() {
			fmt.Fprintf(os.Stderr, "stripe-mock exited early: %v\n%s\n", err, stderr.String())
		}
	}()
	// It is up when it says where it listens, however long a loaded
	// machine takes for that (a fixed wait failed under the race detector
	// on a busy machine); the test's own -timeout bounds it.
	select {
	case a := <-addr:
		url := "http://" + a
		c := payments.ConfigOf(app)
		c.APIBase = url
		payments.Configure(app, c)
		return url
	case <-died:
		t.Fatal("stripe-mock exited before it listened")
		return ""
	}
}

// StripeDown points app's Stripe client at a closed loopback port: from now
// on every call to Stripe fails to connect, as when Stripe is unreachable.
func StripeDown(t testing.TB, app core.App) {
	t.Helper()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connections are refused from now on
	c := payments.ConfigOf(app)
	c.APIBase = down.URL
	payments.Configure(app, c)
}

// patchedFixtures writes stripe-mock's bundled fixtures (from the pinned
// module's source) with the checkout.session fixture changed.
func patchedFixtures(t testing.TB, sessionFields map[string]any) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/stripe/stripe-mock").Output()
	if err != nil {
		t.Fatalf("locate stripe-mock's module: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "embedded/openapi/fixtures3.json")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("stripe-mock fixtures: %v", err)
	}
	var fixtures struct {
		Resources map[string]map[string]any `json:"resources"`
	}
	if err := json.Unmarshal(raw, &fixtures); err != nil {
		t.Fatal(err)
	}
	for k, v := range sessionFields {
		fixtures.Resources["checkout.session"][k] = v
	}
	raw, _ = json.Marshal(fixtures)
	dst := filepath.Join(t.TempDir(), "fixtures.json")
	if err := os.WriteFile(dst, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

const (
	TestSecretKey     = "sk_test_salonbase"
	TestWebhookSecret = "whsec_salonbase_test"
)

// EnablePayments starts stripe-mock for app and stores test keys in
// salon_settings, as an operator would in the dashboard.
func EnablePayments(t testing.TB, app core.App) {
	t.Helper()
	StartStripeMock(t, app, nil)
	UpdateSettings(t, app, map[string]any{
		"stripe_secret_key":     TestSecretKey,
		"stripe_webhook_secret": TestWebhookSecret,
	})
}

// NewProduct saves a product as an admin would in the dashboard.
func NewProduct(t testing.TB, app core.App, values map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId("products")
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]any{"name": "Salon mug", "price": 1500, "currency": "jpy", "stock": 10, "active": true}
	for k, v := range values {
		base[k] = v
	}
	r := NewRecord(c, base)
	if err := app.Save(r); err != nil {
		t.Fatalf("save product: %v", err)
	}
	return r
}

func Reload(t *testing.T, app core.App, r *core.Record) *core.Record {
	t.Helper()
	fresh, err := app.FindRecordById(r.Collection().Name, r.Id)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}

var eventSeq atomic.Int64

// StripeEvent builds a webhook event as Stripe sends it.
func StripeEvent(typ string, object map[string]any) []byte {
	raw, _ := json.Marshal(map[string]any{
		"id":          fmt.Sprintf("evt_test_%d_%d", time.Now().UnixNano(), eventSeq.Add(1)),
		"object":      "event",
		"api_version": stripe.APIVersion,
		"created":     time.Now().Unix(),
		"type":        typ,
		"livemode":    false,
		"data":        map[string]any{"object": object},
	})
	return raw
}

// PostWebhook signs payload with secret at time at and posts it.
func PostWebhook(t testing.TB, srv *Server, payload []byte, secret string, at time.Time) (int, []byte) {
	t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return PostRaw(t, srv, payload, signed.Header)
}

// PostWebhookHeader is a valid Stripe-Signature header for payload.
func PostWebhookHeader(t *testing.T, payload []byte) string {
	t.Helper()
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: TestWebhookSecret}).Header
}

// PostRaw posts body to the webhook with the given Stripe-Signature header.
func PostRaw(t testing.TB, srv *Server, body []byte, signature string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/salon/stripe/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signature)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}
