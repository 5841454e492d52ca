package dm_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/dm"
	"salonbase/testutil"
)

// The Go decision (dm.DMReadAccess, used by the routes and the audit) and
// the dm_messages view rule must agree for every kind of caller.
func TestDMReadPolicyMatchesRule(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	sender := testutil.CreateUser(t, app, testutil.User{})
	recipient := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum"})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	suspendedAdmin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Suspended: true})
	root := testutil.CreateSuperuser(t, app)
	messages, err := app.FindCollectionByNameOrId("dm_messages")
	if err != nil {
		t.Fatal(err)
	}
	msg := testutil.NewRecord(messages, map[string]any{"sender": sender.Id, "recipient": recipient.Id, "subject": "hi", "body": "hello"})
	if err := app.Save(msg); err != nil {
		t.Fatal(err)
	}
	// a party suspended after the message was sent
	suspendedParty := testutil.CreateUser(t, app, testutil.User{})
	toSuspended := testutil.NewRecord(messages, map[string]any{"sender": sender.Id, "recipient": suspendedParty.Id, "subject": "hi", "body": "hello"})
	if err := app.Save(toSuspended); err != nil {
		t.Fatal(err)
	}
	suspendedParty.Set("suspended", true)
	if err := app.Save(suspendedParty); err != nil {
		t.Fatal(err)
	}

	seen := map[bool]bool{} // the table must hold both answers
	for _, c := range []struct {
		name   string
		caller *core.Record
		msg    *core.Record
	}{
		{"anonymous", nil, msg},
		{"sender", sender, msg},
		{"recipient", recipient, msg},
		{"another member", other, msg},
		{"tutor", tutor, msg},
		{"admin member", admin, msg},
		{"suspended admin", suspendedAdmin, msg},
		{"superuser", root, msg},
		{"suspended recipient", suspendedParty, toSuspended},
	} {
		goAllows, _ := dm.DMReadAccess(c.caller, c.msg.GetString("sender"), c.msg.GetString("recipient"))
		seen[goAllows] = true
		ruleAllows, err := app.CanAccessRecord(c.msg, &core.RequestInfo{Auth: c.caller, Method: "GET"}, messages.ViewRule)
		if err != nil {
			t.Fatalf("%s: rule: %v", c.name, err)
		}
		if goAllows != ruleAllows {
			t.Errorf("%s: Go says %v, the dm_messages rule says %v", c.name, goAllows, ruleAllows)
		}
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("the table must hold allowed and refused callers: %v", seen)
	}
}
