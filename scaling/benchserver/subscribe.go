package benchserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Subscribe opens an SSE connection as the SDKs do, subscribes it to
// topic with token and calls rec with the delay of every message whose
// data holds "bench <unix nanoseconds when sent>".
func Subscribe(ctx context.Context, hc *http.Client, base, token, topic string, rec func(time.Duration)) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/realtime", nil)
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(res.Body, 8<<10)
	var clientID string
	for clientID == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			res.Body.Close()
			return err
		}
		if strings.HasPrefix(line, "id:") {
			clientID = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		}
	}
	go func() {
		defer res.Body.Close()
		marker := []byte("bench ")
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			i := bytes.Index(line, marker)
			if i < 0 || !bytes.HasPrefix(line, []byte("data:")) {
				continue
			}
			now := time.Now()
			rest := line[i+len(marker):]
			j := 0
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			if sent, err := strconv.ParseInt(string(rest[:j]), 10, 64); err == nil {
				rec(now.Sub(time.Unix(0, sent)))
			}
		}
	}()
	body, _ := json.Marshal(map[string]any{"clientId": clientID, "subscriptions": []string{topic}})
	sreq, _ := http.NewRequest(http.MethodPost, base+"/api/realtime", bytes.NewReader(body))
	sreq.Header.Set("Content-Type", "application/json")
	sreq.Header.Set("Authorization", token)
	sres, err := hc.Do(sreq)
	if err != nil {
		return err
	}
	sres.Body.Close()
	if sres.StatusCode != http.StatusNoContent {
		return fmt.Errorf("subscribe: %d", sres.StatusCode)
	}
	return nil
}
