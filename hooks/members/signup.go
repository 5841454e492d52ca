package members

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/spf13/cast"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// An anonymous signup answers the same whether its address is new or
// already a member's, so that the member list cannot be probed through it:
//
//   - a new address gets an account that cannot log in until the link mailed
//     to it is followed (users.signup_pending), so a login right after the
//     signup tells nothing either;
//   - an address whose earlier signup is still unconfirmed is signed up
//     anew: the newer signup replaces the pending one (its name, password,
//     invite code and rank), so whoever signed up first with someone else's
//     address gains nothing, and the address's owner gets an account that is
//     wholly their own; links mailed for the replaced signup stop working;
//   - an address of a member changes nothing; its member gets a mail saying
//     someone tried to sign up with it (at most one an hour), with a link to
//     set a new password in case it was them.
//
// Both run the same checks in the same order (invite code, then every field
// through PocketBase's own create, which for an existing address is run on a
// stand-in address and rolled back), both use up one use of the invite code,
// both queue one mail, and both answer signupAccepted.
const signupAttemptKind = "signup_attempt"

// signupAccepted is the one answer to an anonymous signup that passed (a
// struct: PocketBase's JSON writer does not sort map keys, and the bytes
// must be the same every time).
var signupAccepted = struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}{"confirm_email", "Check your mailbox: we sent a link to finish signing up."}

// errSignupProbe rolls back the stand-in create of a duplicate signup.
var errSignupProbe = errors.New("signup probe")

// anonymousSignup is bound before signup (which it runs through e.Next).
func anonymousSignup(e *core.RecordRequestEvent) error {
	if e.Auth != nil || e.HasSuperuserAuth() {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.BadRequestError("Failed to read the request.", err)
	}
	if info.Context == core.RequestInfoContextOAuth2 {
		return e.Next() // the provider vouched for the address
	}
	app := e.App
	existing, _ := app.FindAuthRecordByEmail("users", e.Record.Email())
	if existing == nil || unconfirmedSignup(existing) {
		return newSignup(app, e, existing)
	}
	return duplicateSignup(app, e, existing, cast.ToString(info.Body["invite_code"]))
}

// unconfirmedSignup reports whether user is an anonymous signup whose
// address nobody has confirmed yet.
func unconfirmedSignup(user *core.Record) bool {
	return user.GetBool("signup_pending") && !user.Verified()
}

// newSignup creates the account of a signup, in place of replaced (an
// unconfirmed signup of the same address) when there is one: both in one
// transaction, so a refused signup leaves the pending one as it was.
func newSignup(app core.App, e *core.RecordRequestEvent, replaced *core.Record) error {
	e.Record.Set("signup_pending", true)
	// the answer is swallowed until the transaction is over: PocketBase
	// writes it when the transaction completes
	err := withDiscardedAnswer(e, func() error {
		return salon.ChainInTx(&e.App, func(tx core.App) error {
			if replaced != nil {
				if err := tx.Delete(replaced); err != nil {
					return fmt.Errorf("replace the unconfirmed signup %s: %w", replaced.Id, err)
				}
			}
			return e.Next()
		})
	})
	if err != nil {
		return err
	}
	if err := queueVerification(app, e.Record); err != nil {
		// the account exists; the member can ask for the link again
		app.Logger().Error("signup: queue the confirmation mail", "user", e.Record.Id, "error", err)
	}
	return e.JSON(http.StatusOK, signupAccepted)
}

func duplicateSignup(app core.App, e *core.RecordRequestEvent, existing *core.Record, inviteCode string) error {
	email := e.Record.Email()
	domain := email[strings.LastIndex(email, "@")+1:]
	e.Record.SetEmail("signup-probe-" + strings.ToLower(security.RandomString(16)) + "@" + domain)
	err := app.RunInTransaction(func(tx core.App) error {
		e.App = tx
		if err := withDiscardedAnswer(e, e.Next); err != nil {
			return err
		}
		return errSignupProbe
	})
	e.App = app
	if !errors.Is(err, errSignupProbe) {
		return err // refused as a new address would have been
	}
	err = app.RunInTransaction(func(tx core.App) error {
		if code := NormalizeInviteCode(inviteCode); code != "" {
			// the code counts this signup as it counts a new member's
			if _, err := RedeemInvite(tx, code); salon.IgnoreRefusal(err) != nil {
				return err
			}
		}
		return queueSignupAttempt(tx, existing)
	})
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("duplicate signup: %w", err))
	}
	return e.JSON(http.StatusOK, signupAccepted)
}

// withDiscardedAnswer runs next with the response swallowed: the record
// PocketBase would answer with must not reach an anonymous caller.
func withDiscardedAnswer(e *core.RecordRequestEvent, next func() error) error {
	orig := e.Response
	e.Response = &discardWriter{header: http.Header{}}
	defer func() { e.Response = orig }()
	return next()
}

type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// refuseUnconfirmedLogin makes a pending signup's login fail exactly as a
// wrong password does: the attacker who signed up with someone's address
// knows the password they chose.
func refuseUnconfirmedLogin(e *core.RecordAuthWithPasswordRequestEvent) error {
	if e.Record != nil && e.Record.GetBool("signup_pending") && !e.Record.Verified() {
		e.Record = nil
	}
	return e.Next()
}

// queueVerification queues the collection's verification mail (Collections
// → users → Options → Mail templates) in the outbox.
func queueVerification(app core.App, user *core.Record) error {
	token, err := user.NewVerificationToken()
	if err != nil {
		return fmt.Errorf("verification token: %w", err)
	}
	meta := app.Settings().Meta
	subject, body := user.Collection().VerificationTemplate.Resolve(map[string]any{
		core.EmailPlaceholderAppName: meta.AppName,
		core.EmailPlaceholderAppURL:  meta.AppURL,
		core.EmailPlaceholderToken:   token,
		"{RECORD:name}":              html.EscapeString(user.GetString("name")),
		"{RECORD:email}":             html.EscapeString(user.Email()),
	})
	return notify.QueueMail(app, notify.Mail{
		User: user.Id, To: user.Email(), ToName: user.GetString("name"),
		Kind: "verification", Subject: subject, HTML: body,
	})
}

// queueSignupAttempt tells a member that their address was used to sign up,
// once an hour at most (so signups cannot flood their mailbox).
func queueSignupAttempt(tx core.App, user *core.Record) error {
	var recent int
	err := tx.DB().NewQuery("SELECT COUNT(*) FROM email_outbox WHERE user = {:u} AND kind = {:k} AND created > {:since}").
		Bind(dbx.Params{"u": user.Id, "k": signupAttemptKind,
			"since": time.Now().Add(-time.Hour).UTC().Format("2006-01-02 15:04:05.000Z")}).Row(&recent)
	if err != nil {
		return fmt.Errorf("count signup mails: %w", err)
	}
	if recent > 0 {
		return nil
	}
	token, err := user.NewPasswordResetToken()
	if err != nil {
		return fmt.Errorf("reset token: %w", err)
	}
	meta := tx.Settings().Meta
	base := strings.TrimRight(meta.AppURL, "/")
	subject, text := signupAttemptText(user.GetString("lang"), meta.AppName, base+"/login", base+"/auth/confirm-password-reset/"+token)
	return notify.QueueMail(tx, notify.Mail{
		User: user.Id, To: user.Email(), ToName: user.GetString("name"),
		Kind: signupAttemptKind, Subject: subject, Text: text,
		HTML: "<p>" + strings.ReplaceAll(html.EscapeString(text), "\n\n", "</p><p>") + "</p>",
	})
}

func signupAttemptText(lang, salonName, login, reset string) (subject, text string) {
	if lang == "ja" {
		return salonName + "：あなたのアドレスで登録が試みられました",
			"どなたかが、このメールアドレスで " + salonName + " に新しく登録しようとしました。" +
				"このアドレスのアカウントはすでにあるため、何も変更していません。\n\n" +
				"ご本人の場合はログインしてください：" + login + "\n\n" +
				"パスワードを忘れた場合は、こちらで新しいパスワードを設定できます（しばらくすると無効になります）：" + reset + "\n\n" +
				"お心当たりがなければ、このメールは無視してください。"
	}
	return salonName + ": someone tried to sign up with your address",
		"Someone tried to create a new account at " + salonName + " with this e-mail address. " +
			"You already have an account with it, so nothing was changed.\n\n" +
			"If it was you, log in: " + login + "\n\n" +
			"Forgot your password? Set a new one here (the link expires soon): " + reset + "\n\n" +
			"If it was not you, ignore this mail."
}
