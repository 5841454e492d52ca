package notify

import (
	"encoding/json"
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// Later is Notify for notices a request promises but need not write before
// it answers (every member of a room, everyone an event is announced to):
// it queues them as a job in tx's transaction, so they are written once
// the transaction commits, even when the server crashes right after the
// answer. The job writes notifyChunk recipients per transaction.
func Later(tx core.App, recipients []string, n Notification) error {
	if len(recipients) == 0 {
		return nil
	}
	return salon.Enqueue(tx, laterJobKind, laterJob{Recipients: recipients, Notification: n})
}

const laterJobKind = "notify"

type laterJob struct {
	Recipients   []string     `json:"recipients"`
	Notification Notification `json:"notification"`
}

// runLater writes the first chunk of a Later job and queues the rest, in
// the job's transaction.
func runLater(tx core.App, payload json.RawMessage) error {
	var job laterJob
	if err := json.Unmarshal(payload, &job); err != nil {
		return fmt.Errorf("notify job: %w", err)
	}
	chunk := job.Recipients[:min(notifyChunk, len(job.Recipients))]
	if err := Notify(tx, chunk, job.Notification); err != nil {
		return err
	}
	if rest := job.Recipients[len(chunk):]; len(rest) > 0 {
		return Later(tx, rest, job.Notification)
	}
	return nil
}
