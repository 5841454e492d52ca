package events

import (
	"encoding/json"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/routine"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// SeatsTopicPrefix + event id is the realtime topic on which an event page
// hears the seats taken and the waitlist's length change when others
// answer: members read only their own event_rsvps, so the stock record
// subscription cannot tell them.
const SeatsTopicPrefix = "salon_event_seats/"

type seatCounts struct {
	Event    string `json:"event"`
	Going    int    `json:"going"`
	Waitlist int    `json:"waitlist"`
	Capacity int    `json:"capacity"`
}

// publishSeats sends the event's current counts to every realtime client
// subscribed to its topic whose auth may view the event (the collection's
// view rule, as GET /rsvp checks it); others hear nothing. Call it after
// the RSVP's transaction has committed.
func publishSeats(app core.App, eventID string) error {
	topic := SeatsTopicPrefix + eventID
	type target struct {
		client subscriptions.Client
		subs   []string
	}
	var targets []target
	for _, c := range app.SubscriptionsBroker().Clients() {
		var subs []string
		for sub := range c.Subscriptions(topic) {
			if sub == topic || len(sub) > len(topic) && sub[len(topic)] == '?' {
				subs = append(subs, sub)
			}
		}
		if len(subs) > 0 {
			targets = append(targets, target{c, subs})
		}
	}
	if len(targets) == 0 {
		return nil
	}

	ev, err := app.FindRecordById("events", eventID)
	if err != nil {
		return fmt.Errorf("seats of %s: %w", eventID, err)
	}
	out := seatCounts{Event: eventID, Capacity: ev.GetInt("capacity")}
	if out.Going, err = countGoing(app, eventID); err != nil {
		return fmt.Errorf("seats of %s: %w", eventID, err)
	}
	n, err := app.CountRecords("event_rsvps", dbx.HashExp{"event": eventID, "status": RSVPWaitlist})
	if err != nil {
		return fmt.Errorf("waitlist of %s: %w", eventID, err)
	}
	out.Waitlist = int(n)
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}

	allowed := map[string]bool{}
	for _, tg := range targets {
		auth, _ := tg.client.Get(apis.RealtimeClientAuthKey).(*core.Record)
		if auth == nil {
			continue
		}
		ok, seen := allowed[auth.Id]
		if !seen {
			ok, _ = app.CanAccessRecord(ev, &core.RequestInfo{Auth: auth}, ev.Collection().ViewRule)
			allowed[auth.Id] = ok
		}
		if !ok {
			continue
		}
		for _, sub := range tg.subs {
			client, msg := tg.client, subscriptions.Message{Name: sub, Data: data}
			routine.FireAndForget(func() { client.Send(msg) })
		}
	}
	return nil
}
