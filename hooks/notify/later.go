package notify

import (
	"encoding/json"
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// Later is Notify for notices a request promises but need not write before
// it answers (every member of a room, everyone an event is announced to):
// it queues them as jobs in tx's transaction, so they are written once
// the transaction commits, even when the server crashes right after the
// answer. Each job holds one chunk of recipients (notifyChunk notices of
// members offline, onlineChunk of members online, mailChunk e-mails; the
// list is stored once: a job that carried the rest on to the next re-wrote
// it per chunk, 170 KB for every 500 of 10,000 members). From bulkFrom
// recipients on, every chunk's in-app notices are queued before any
// chunk's e-mails: the notices (small rows) are all there within seconds,
// the e-mails (rendered, larger) follow.
func Later(tx core.App, recipients []string, n Notification) error {
	ids := uniqueIDs(recipients)
	if len(ids) == 0 {
		return nil
	}
	if len(ids) < bulkFrom {
		return enqueueChunks(tx, ids, notifyChunk, n, partBoth)
	}
	// the members online now get their notices saved one by one (for
	// their realtime event): they go in smaller jobs, first
	online := onlineMembers(tx)
	var on, off []string
	for _, id := range ids {
		if online[id] {
			on = append(on, id)
		} else {
			off = append(off, id)
		}
	}
	if err := enqueueChunks(tx, on, onlineChunk, n, partApp); err != nil {
		return err
	}
	if err := enqueueChunks(tx, off, notifyChunk, n, partApp); err != nil {
		return err
	}
	return enqueueChunks(tx, ids, mailChunk, n, partEmail)
}

// enqueueChunks queues the jobs writing part of n for ids, size ids each.
func enqueueChunks(tx core.App, ids []string, size int, n Notification, part string) error {
	for start := 0; start < len(ids); start += size {
		job := laterJob{Recipients: ids[start:min(start+size, len(ids))], Notification: n, Part: part}
		if err := salon.Enqueue(tx, laterJobKind, job); err != nil {
			return err
		}
	}
	return nil
}

const laterJobKind = "notify"

// onlineChunk is how many online members' in-app notices one job writes.
// Their notices are saved one by one (for their realtime event): 500 of
// them in one job held the single writer for over 100 ms, so other
// members' writes waited that long; 50 gave other writers a lower p99
// than 100 (BENCHMARKS.md).
const onlineChunk = 50

// mailChunk is how many recipients' e-mails one job writes: rendering and
// writing 500 e-mails held the single writer long enough to hold up other
// members' writes for a tenth of a second and more.
const mailChunk = 100

// What a notify job writes for its recipients.
const (
	partBoth  = ""      // notices and e-mails (jobs queued before the split, and small ones)
	partApp   = "app"   // the in-app notices
	partEmail = "email" // the e-mails
)

type laterJob struct {
	Recipients   []string     `json:"recipients"`
	Notification Notification `json:"notification"`
	Part         string       `json:"part,omitempty"`
}

// prepareLater reads and renders one job's chunk (before the job's
// transaction: the recipients, their preferences, the e-mails) and returns
// its writes. A job queued before jobs were one chunk each (more
// recipients) writes its first chunk and queues the rest as chunks, all
// in the job's transaction.
func prepareLater(app core.App, payload json.RawMessage) (func(tx core.App) error, error) {
	var job laterJob
	if err := json.Unmarshal(payload, &job); err != nil {
		return nil, fmt.Errorf("notify job: %w", err)
	}
	ids := uniqueIDs(job.Recipients)
	if len(ids) == 0 {
		return func(core.App) error { return nil }, nil
	}
	notices, mails := true, true
	switch job.Part {
	case partApp:
		mails = false
	case partEmail:
		notices = false
	default:
		return func(tx core.App) error { return runOldLater(tx, ids, job.Notification) }, nil
	}
	ctx, err := newNotifyContext(app, job.Notification.Kind)
	if err != nil {
		return nil, fmt.Errorf("notify job: %w", err)
	}
	d, err := ctx.plan(app, ids, job.Notification, notices, mails)
	if err != nil {
		return nil, err
	}
	return d.write, nil
}

// runOldLater writes the first chunk of ids and queues the rest, in tx.
func runOldLater(tx core.App, ids []string, n Notification) error {
	ctx, err := newNotifyContext(tx, n.Kind)
	if err != nil {
		return fmt.Errorf("notify job: %w", err)
	}
	chunk := ids[:min(notifyChunk, len(ids))]
	if err := ctx.deliver(tx, chunk, n); err != nil {
		return err
	}
	if rest := ids[len(chunk):]; len(rest) > 0 {
		return Later(tx, rest, n)
	}
	return nil
}
