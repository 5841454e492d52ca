package notify

import (
	"fmt"
	"net/mail"
	"net/url"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/security"

	"salonbase/hooks/salon"
)

// The e-mail outbox worker. Notify writes email_outbox rows; this worker
// claims due rows in a transaction (status pending → sending), sends them
// over SMTP (the settings of the dashboard, see mailconfig.go) and marks
// them sent, or pending again with an exponential backoff, or failed after
// the last attempt. A graceful stop finishes the message in flight and puts
// the other claimed rows back, so a restart neither loses nor repeats mail.
// Each claim names the process that made it (a random id per start). A
// crash leaves its claimed rows "sending": the next server to start takes
// over every claim made by another process before it started, at once, so
// a crash delays mail by the restart only (at least once: the one message
// that was in flight at the crash may arrive twice; its Message-ID stays
// the same so mail clients can tell). A worker confirms its claim before
// each send, so a claim taken over from a process that is still alive is
// not sent twice by it. A claim older than outboxLease is taken over by
// any worker.

const (
	outboxBatch       = 50
	outboxMaxAttempts = 8
	outboxLease       = 10 * time.Minute
	outboxPoll        = 5 * time.Second
	outboxStoreKey    = "salon.outbox"
	// a send that gets no answer within this fails (its connection is
	// closed, so it cannot still deliver) and is retried, so a hung SMTP
	// server cannot stall the queue nor have a mail sent twice
	outboxSendTimeout = time.Minute
	// how long Stop waits for the message in flight
	outboxStopGrace = 15 * time.Second
)

// outboxBackoff is the wait before attempt n+1 after n failed attempts:
// 1, 2, 4 … minutes, at most 6 hours.
func outboxBackoff(attempts int) time.Duration {
	d := time.Minute << max(attempts-1, 0)
	if d > 6*time.Hour || d <= 0 {
		d = 6 * time.Hour
	}
	return d
}

// OutboxWorker delivers email_outbox rows in the background.
type OutboxWorker struct {
	app      core.App
	instance string    // names this worker's claims
	started  time.Time // claims of other processes before it are orphans
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// StartOutbox starts the worker for app and registers it, so Notify's new
// rows wake it at once. bindOutbox calls it when the app serves.
func StartOutbox(app core.App) *OutboxWorker {
	w := &OutboxWorker{
		app:      app,
		instance: security.RandomString(20),
		started:  time.Now(),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	app.Store().Set(outboxStoreKey, w)
	go w.run()
	return w
}

// Stop stops claiming, lets the message in flight finish, releases the
// other claimed rows and returns when the worker has exited.
func (w *OutboxWorker) Stop() {
	w.once.Do(func() { close(w.stop) })
	select {
	case <-w.done:
	case <-time.After(outboxStopGrace):
		// the row in flight stays "sending" and is retried after the lease
		w.app.Logger().Warn("email outbox: stopped while a send was still in flight")
	}
	if cur, _ := w.app.Store().Get(outboxStoreKey).(*OutboxWorker); cur == w {
		w.app.Store().Remove(outboxStoreKey)
	}
}

// Nudge wakes the worker without blocking.
func (w *OutboxWorker) Nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *OutboxWorker) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

func (w *OutboxWorker) run() {
	defer close(w.done)
	ticker := time.NewTicker(outboxPoll)
	defer ticker.Stop()
	for {
		n, err := w.pass()
		if err != nil {
			w.app.Logger().Error("email outbox", "error", err)
		}
		if w.stopped() {
			return
		}
		if n == outboxBatch {
			continue // more may be due
		}
		select {
		case <-w.stop:
			return
		case <-w.wake:
		case <-ticker.C:
		}
	}
}

// pass claims one batch and sends it at the salon's rate.
func (w *OutboxWorker) pass() (int, error) {
	if !mailReady(w.app) {
		return 0, nil // held, not failed: sent once SMTP is configured
	}
	claimed, err := claimOutbox(w.app, time.Now(), outboxBatch, w.instance, w.started)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	var gap time.Duration
	if s, err := salon.Settings(w.app); err == nil {
		if rate := s.GetInt("email_rate_per_minute"); rate > 0 {
			gap = time.Minute / time.Duration(rate)
		}
	}
	for i, r := range claimed {
		if i > 0 && gap > 0 {
			select {
			case <-w.stop:
			case <-time.After(gap):
			}
		}
		if w.stopped() {
			return i, releaseOutbox(w.app, claimed[i:])
		}
		if mine, err := confirmClaim(w.app, r, w.instance, time.Now()); err != nil {
			return i, err
		} else if !mine {
			continue // a newer server took it over
		}
		if err := sendOutboxRow(w.app, r, time.Now()); err != nil {
			return i, err
		}
	}
	return len(claimed), nil
}

// DeliverOutbox claims the rows due at now and sends them at once (no
// rate limit), or holds them while mail is not configured. It returns how
// many were sent and how many failed this time. The worker uses the same steps; the cron-less paths (tests, the
// bench command) call this directly with their own clock.
func DeliverOutbox(app core.App, now time.Time) (sent, failed int, err error) {
	if !mailReady(app) {
		return 0, 0, nil
	}
	instance := security.RandomString(20)
	// Claims made before now by another process are orphans, except those
	// of this app's own worker, which is alive: it may be sending a row it
	// claimed a moment ago, and taking that over sent the mail twice.
	since := now
	if w, ok := app.Store().Get(outboxStoreKey).(*OutboxWorker); ok && w.started.Before(since) {
		since = w.started
	}
	for {
		claimed, err := claimOutbox(app, now, outboxBatch, instance, since)
		if err != nil {
			return sent, failed, err
		}
		for _, r := range claimed {
			if err := sendOutboxRow(app, r, now); err != nil {
				return sent, failed, err
			}
			if r.GetString("status") == "sent" {
				sent++
			} else {
				failed++
			}
		}
		if len(claimed) < outboxBatch {
			return sent, failed, nil
		}
	}
}

// claimOutbox marks up to limit due rows as "sending" by instance in one
// transaction and returns them: pending rows, rows another process claimed
// before since (the start of instance: that process is gone) and stale
// claims. SQLite runs one write transaction at a time, so two workers (or
// two processes on the same data dir) never claim the same row at once.
func claimOutbox(app core.App, now time.Time, limit int, instance string, since time.Time) ([]*core.Record, error) {
	var claimed []*core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		due, err := tx.FindRecordsByFilter("email_outbox",
			"(status = 'pending' && next_attempt_at <= {:now})"+
				" || (status = 'sending' && (claimed_at < {:stale} || (claimed_by != {:me} && claimed_at < {:since})))",
			"next_attempt_at", limit, 0,
			dbx.Params{"now": salon.DbTime(now), "stale": salon.DbTime(now.Add(-outboxLease)),
				"me": instance, "since": salon.DbTime(since)})
		if err != nil {
			return err
		}
		for _, r := range due {
			r.Set("status", "sending")
			r.Set("claimed_by", instance)
			r.Set("claimed_at", now.UTC())
			if err := tx.Save(r); err != nil {
				return err
			}
		}
		claimed = due
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return claimed, nil
}

// confirmClaim renews instance's claim on r right before its send and
// reports whether the claim is still instance's (a server started since
// may have taken it over).
func confirmClaim(app core.App, r *core.Record, instance string, now time.Time) (bool, error) {
	res, err := app.DB().NewQuery("UPDATE email_outbox SET claimed_at = {:now} WHERE id = {:id} AND status = 'sending' AND claimed_by = {:me}").
		Bind(dbx.Params{"now": salon.DbTime(now), "id": r.Id, "me": instance}).Execute()
	if err != nil {
		return false, fmt.Errorf("outbox %s: confirm claim: %w", r.Id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// releaseOutbox puts claimed but unsent rows back in the queue.
func releaseOutbox(app core.App, rows []*core.Record) error {
	return app.RunInTransaction(func(tx core.App) error {
		for _, r := range rows {
			r.Set("status", "pending")
			r.Set("claimed_at", "")
			r.Set("claimed_by", "")
			if err := tx.Save(r); err != nil {
				return fmt.Errorf("release outbox %s: %w", r.Id, err)
			}
		}
		return nil
	})
}

// sendOutboxRow sends one claimed row and records the outcome on it.
// Only an error saving that outcome is returned.
func sendOutboxRow(app core.App, r *core.Record, now time.Time) error {
	cfg := currentMailConfig(app)
	sendErr := sendMail(app, cfg, outboxMessage(cfg, r))
	attempts := r.GetInt("attempts") + 1
	r.Set("attempts", attempts)
	switch {
	case sendErr == nil:
		r.Set("status", "sent")
		r.Set("sent_at", now.UTC())
		r.Set("last_error", "")
	case attempts >= outboxMaxAttempts:
		r.Set("status", "failed")
		r.Set("last_error", salon.Truncate(sendErr.Error(), 1000))
	default:
		r.Set("status", "pending")
		r.Set("claimed_at", "")
		r.Set("next_attempt_at", now.Add(outboxBackoff(attempts)).UTC())
		r.Set("last_error", salon.Truncate(sendErr.Error(), 1000))
	}
	if sendErr != nil {
		app.Logger().Warn("email outbox: send failed", "id", r.Id, "attempts", attempts, "error", sendErr)
	}
	if err := app.Save(r); err != nil {
		return fmt.Errorf("outbox %s: record outcome: %w", r.Id, err)
	}
	return nil
}

// sendMail sends msg over the SMTP settings of cfg within cfg.SendTimeout.
// It goes through app.OnMailerSend as PocketBase's own mails do, so the
// hooks bound there see (and may replace) the mailer and the message.
func sendMail(app core.App, cfg *mailConfig, msg *mailer.Message) error {
	e := new(core.MailerEvent)
	e.App = app
	e.Mailer = &smtpMailer{cfg: cfg.SMTP, timeout: cfg.SendTimeout}
	e.Message = msg
	return app.OnMailerSend().Trigger(e, func(e *core.MailerEvent) error {
		return e.Mailer.Send(e.Message)
	})
}

func outboxMessage(cfg *mailConfig, r *core.Record) *mailer.Message {
	meta := cfg.Meta
	headers := map[string]string{}
	_ = r.UnmarshalJSONField("headers", &headers)
	// the same id on every attempt, so a repeat after a crash is recognisable
	headers["Message-ID"] = "<outbox." + r.Id + "@" + MessageIDHost(meta.AppURL) + ">"
	return &mailer.Message{
		From:    mail.Address{Name: meta.SenderName, Address: meta.SenderAddress},
		To:      []mail.Address{{Name: r.GetString("to_name"), Address: r.GetString("to")}},
		Subject: r.GetString("subject"),
		Text:    r.GetString("text"),
		HTML:    r.GetString("html"),
		Headers: headers,
	}
}

func MessageIDHost(appURL string) string {
	if u, err := url.Parse(appURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "salonbase.local"
}

// bindOutbox runs the worker while the app serves and wakes it when new
// rows are committed.
func bindOutbox(app core.App) {
	bindMailConfig(app)
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		StartOutbox(e.App)
		return e.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		if w, ok := e.App.Store().Get(outboxStoreKey).(*OutboxWorker); ok {
			w.Stop()
		}
		return e.Next()
	})
	app.OnRecordAfterCreateSuccess("email_outbox").BindFunc(func(e *core.RecordEvent) error {
		if w, ok := e.App.Store().Get(outboxStoreKey).(*OutboxWorker); ok {
			w.Nudge()
		}
		return e.Next()
	})
}
