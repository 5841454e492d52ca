package rooms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/scaling/benchserver"
	"salonbase/testutil"
)

// Room fan-out benchmark: one member posts into a room while N members are
// subscribed over real SSE connections to a real server.
//
//	ROOM_BENCH_N=10,100,1000,5000 go test ./hooks/rooms -run '^$' -bench BenchmarkRoomFanout -benchtime 20x -timeout 60m
//
// Modes: "bare" is a plain collection with room_messages' rules and no
// Salonbase hooks, subscribed the stock way (the baseline); "stock" is
// room_messages subscribed the stock way (subscribe('*', {filter: room})),
// "topic" is room_messages delivered through the rooms/{id} topic. b.N is the
// number of messages; each is posted after the previous create returned.
// Metrics: sender create latency, post→delivery latency over every
// (message, subscriber) pair, and messages/s until the last delivery.
func BenchmarkRoomFanout(b *testing.B) {
	sizes := []int{10, 100, 1000}
	if env := os.Getenv("ROOM_BENCH_N"); env != "" {
		sizes = nil
		for _, s := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				b.Fatalf("ROOM_BENCH_N: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		for _, mode := range []string{"bare", "stock", "topic"} {
			b.Run(fmt.Sprintf("%s/N=%d", mode, n), func(b *testing.B) { benchFanout(b, mode, n) })
		}
	}
}

func benchFanout(b *testing.B, mode string, n int) {
	app := testutil.NewApp(b)
	srv := testutil.Serve(b, app)
	room := testutil.NewRoom(b, app, map[string]any{"name": "Bench", "min_rank": testutil.RankID(b, app, "Bronze")})
	sender := testutil.CreateUser(b, app, testutil.User{Name: "Sender", Rank: "Gold"})
	senderToken := testutil.Token(b, sender)

	collection := "room_messages"
	if mode == "bare" {
		collection = "bench_bare"
		createBareCollection(b, app)
	}
	members := benchMembers(b, app, n)

	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var (
		mu        sync.Mutex
		latencies []time.Duration
		delivered sync.WaitGroup
	)
	var topic string
	switch mode {
	case "topic":
		topic = "rooms/" + room.Id
	default:
		opts, _ := json.Marshal(map[string]any{"query": map[string]string{"filter": "room='" + room.Id + "'"}})
		topic = collection + "/*?options=" + string(opts)
	}
	for i, m := range members {
		rec := func(d time.Duration) {
			mu.Lock()
			latencies = append(latencies, d)
			mu.Unlock()
			delivered.Done()
		}
		if err := benchserver.Subscribe(ctx, client, srv.URL, testutil.Token(b, m), topic, rec); err != nil {
			b.Fatalf("subscriber %d: %v", i, err)
		}
	}

	var creates []time.Duration
	url := srv.URL + "/api/collections/" + collection + "/records"
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		delivered.Add(n)
		sent := time.Now()
		body, _ := json.Marshal(map[string]any{"room": room.Id, "author": sender.Id,
			"body": "bench " + strconv.FormatInt(sent.UnixNano(), 10)})
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", senderToken)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("post: %d", res.StatusCode)
		}
		creates = append(creates, time.Since(sent))
	}
	done := make(chan struct{})
	go func() { delivered.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("deliveries missing: %d of %d", len(latencies), b.N*n)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(testutil.Ms(percentile(creates, 50)), "create_p50_ms")
	b.ReportMetric(testutil.Ms(percentile(creates, 99)), "create_p99_ms")
	b.ReportMetric(testutil.Ms(percentile(latencies, 50)), "deliver_p50_ms")
	b.ReportMetric(testutil.Ms(percentile(latencies, 99)), "deliver_p99_ms")
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// createBareCollection adds a collection with room_messages' fields that
// matter and the very same rules, but none of the Salonbase hooks.
func createBareCollection(b testing.TB, app core.App) {
	msgs, err := app.FindCollectionByNameOrId("room_messages")
	if err != nil {
		b.Fatal(err)
	}
	users, _ := app.FindCollectionByNameOrId("users")
	c := core.NewBaseCollection("bench_bare")
	c.ListRule, c.ViewRule, c.CreateRule = msgs.ListRule, msgs.ViewRule, msgs.CreateRule
	c.Fields.Add(
		&core.RelationField{Name: "room", CollectionId: msgs.Fields.GetByName("room").(*core.RelationField).CollectionId, MaxSelect: 1, Required: true},
		&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1},
		&core.TextField{Name: "body"},
		&core.DateField{Name: "deleted_at"},
		&core.AutodateField{Name: "created", OnCreate: true},
	)
	if err := app.Save(c); err != nil {
		b.Fatal(err)
	}
}

// benchMembers creates n Silver members quickly: one bcrypt hash for all.
func benchMembers(b testing.TB, app core.App, n int) []*core.Record {
	users, _ := app.FindCollectionByNameOrId("users")
	silver := testutil.RankID(b, app, "Silver")
	hash := &core.PasswordFieldValue{}
	first := core.NewRecord(users)
	first.SetPassword(testutil.DefaultPassword)
	hash.Hash = first.GetString("password:hash")
	out := make([]*core.Record, 0, n)
	err := app.RunInTransaction(func(tx core.App) error {
		for i := 0; i < n; i++ {
			r := core.NewRecord(users)
			r.SetEmail(fmt.Sprintf("bench%d@example.com", i))
			r.SetRaw("password", &core.PasswordFieldValue{Hash: hash.Hash})
			r.Set("tokenKey", security.RandomString(50))
			r.Set("name", fmt.Sprintf("Bench %d", i))
			r.Set("rank", silver)
			r.Set("role", "member")
			if err := tx.Save(r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// Search benchmark: ROOM_BENCH_MESSAGES messages (default 1,000,000) in 10
// rooms, seeded with raw SQL in one transaction (the FTS triggers index
// them), then searches in one room through the HTTP route.
//
//	go test ./hooks/rooms -run '^$' -bench BenchmarkRoomSearch -benchtime 50x -timeout 60m
func BenchmarkRoomSearch(b *testing.B) {
	total := 1_000_000
	if env := os.Getenv("ROOM_BENCH_MESSAGES"); env != "" {
		total, _ = strconv.Atoi(env)
	}
	app := testutil.NewApp(b)
	srv := testutil.Serve(b, app)
	member := testutil.CreateUser(b, app, testutil.User{Name: "Reader"})
	token := testutil.Token(b, member)
	var rooms []string
	for i := 0; i < 10; i++ {
		rooms = append(rooms, testutil.NewRoom(b, app, map[string]any{"name": fmt.Sprintf("Room %d", i)}).Id)
	}

	seedStart := time.Now()
	// word frequencies follow Zipf's law like real chat; the vocabulary mixes
	// Japanese and English words (benchserver.Vocabulary)
	vocab := benchserver.Vocabulary(5000)
	rng := mrand.New(mrand.NewSource(1))
	zipf := benchserver.NewZipf(rng, vocab)
	err := app.RunInTransaction(func(tx core.App) error {
		now := types.NowDateTime().String()
		for i := 0; i < total; i++ {
			var sb strings.Builder
			sb.WriteString(benchserver.ZipfText(rng, zipf, vocab))
			if i%100 == 10 {
				sb.WriteString("明日の会議") // a two-character word, in 1% of messages
			}
			if i%100_000 == 10 {
				sb.WriteString("ユニコーン") // a rare word: ten messages in all
			}
			_, err := tx.DB().NewQuery("INSERT INTO room_messages (id, room, author, author_name, body, created, updated) VALUES ({:id}, {:room}, {:author}, 'Reader', {:body}, {:now}, {:now})").
				Bind(map[string]any{"id": security.RandomString(15), "room": rooms[i%len(rooms)], "author": member.Id, "body": sb.String(), "now": now}).Execute()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d messages in %s", total, time.Since(seedStart).Round(time.Second))

	queries := map[string]string{"rare": "ユニコーン", "common": vocab[0], "medium": vocab[50], "two_terms": vocab[3] + " " + vocab[20], "short_like": "会議"}
	for _, name := range []string{"rare", "medium", "common", "two_terms", "short_like", "common_newest"} {
		q, sort := queries[strings.TrimSuffix(name, "_newest")], "relevance"
		if strings.HasSuffix(name, "_newest") {
			sort = "newest"
		}
		b.Logf("%s = %q", name, q)
		b.Run(name, func(b *testing.B) {
			url := "/api/salon/rooms/" + rooms[0] + "/search?sort=" + sort + "&q=" + testutil.Urlq(q)
			var lat []time.Duration
			var total int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				status, raw := srv.Do(b, http.MethodGet, url, token, nil)
				lat = append(lat, time.Since(t0))
				if status != http.StatusOK {
					b.Fatalf("search: %d %s", status, raw)
				}
				if i == 0 {
					total = testutil.Decode[testutil.List[map[string]any]](b, raw).TotalItems
				}
			}
			b.StopTimer()
			b.ReportMetric(testutil.Ms(percentile(lat, 50)), "p50_ms")
			b.ReportMetric(testutil.Ms(percentile(lat, 99)), "p99_ms")
			b.ReportMetric(float64(total), "matches")
		})
	}
}
