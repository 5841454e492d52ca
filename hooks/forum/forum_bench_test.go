package forum_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// Benchmarks of the forum read paths at salon scale (figures in
// BENCHMARKS.md). Data is seeded with raw SQL inserts in one transaction —
// the triggers still maintain counters and the search index, as in
// production. Run:
//
//	go test ./hooks/forum -run '^$' -bench 'BenchmarkForum' -benchtime 200x
//
// SALON_BENCH_TOPICS / SALON_BENCH_POSTS scale the data down for a quick
// look (defaults 100000 topics, 1000000 posts).

func benchSize(env string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	return def
}

var benchWords = strings.Fields(`salon member forum topic deploy binary server stream event course
	question answer python golang design marketing sales video camera budget travel coffee music
	photo writing health running garden cooking finance startup invest language english study
	オンライン サロン フォーラム グループ 会員 参加 議論 情報 共有 質問 回答 技術 問題 解決 専門 興味
	コミュニケーション プロジェクト ビジネス 趣味 交流 動画 配信 イベント 東京 大阪 勉強会 初心者 相談 仕事`)

func benchText(r *rand.Rand, words int) string {
	var b strings.Builder
	for i := 0; i < words; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(benchWords[r.IntN(len(benchWords))])
	}
	return b.String()
}

// seedTopics inserts n topics into cat (and returns their ids), spread
// over the last n minutes, every 1000th pinned.
func seedTopics(b *testing.B, tx core.App, cat, author string, n int, r *rand.Rand) []string {
	q := tx.DB().NewQuery(`INSERT INTO forum_topics (id, category, author, title, body, tags, pinned, last_post_at, created, updated)
		VALUES ({:id}, {:cat}, {:author}, {:title}, {:body}, '[]', {:pinned}, {:at}, {:at}, {:at})`).Prepare()
	defer q.Close()
	start := time.Now().Add(-time.Duration(n) * time.Minute)
	ids := make([]string, n)
	for i := 0; i < n; i++ {
		ids[i] = core.GenerateDefaultRandomId()
		at := start.Add(time.Duration(i) * time.Minute).UTC().Format("2006-01-02 15:04:05.000Z")
		_, err := q.Bind(dbx.Params{"id": ids[i], "cat": cat, "author": author, "title": benchText(r, 6),
			"body": benchText(r, 20), "pinned": i%1000 == 0, "at": at}).Execute()
		if err != nil {
			b.Fatalf("seed topic %d: %v", i, err)
		}
	}
	return ids
}

func BenchmarkForumTopicList(b *testing.B) {
	nTopics := benchSize("SALON_BENCH_TOPICS", 100_000)
	app := testutil.NewApp(b)
	srv := testutil.Serve(b, app)
	reader := testutil.CreateUser(b, app, testutil.User{Rank: "Gold"})
	cat := testutil.NewCategory(b, app, "Busy", map[string]any{"min_rank": testutil.RankID(b, app, "Silver")})
	testutil.NewCategory(b, app, "Quiet", nil)
	r := rand.New(rand.NewPCG(1, 2))
	began := time.Now()
	if err := app.RunInTransaction(func(tx core.App) error {
		seedTopics(b, tx, cat.Id, reader.Id, nTopics, r)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d topics in %s", nTopics, time.Since(began).Round(time.Millisecond))
	token := testutil.Token(b, reader)
	base := testutil.TopicsURL + "?perPage=20&sort=" + testutil.Urlq("-pinned,-last_post_at") + "&filter=" + testutil.Urlq("category='"+cat.Id+"'")

	for _, c := range []struct{ name, url string }{
		{"first-page", base},
		{"first-page-skipTotal", base + "&skipTotal=1"},
		{"deep-page-skipTotal", base + "&skipTotal=1&page=" + strconv.Itoa(max(1, nTopics/20/2))},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				status, body := srv.Do(b, http.MethodGet, c.url, token, nil)
				if status != 200 || !strings.Contains(string(body), `"items":[{`) {
					b.Fatalf("%d %.200s", status, body)
				}
			}
		})
	}
}

func BenchmarkForumSearch(b *testing.B) {
	nPosts := benchSize("SALON_BENCH_POSTS", 1_000_000)
	const postsPerTopic = 100
	app := testutil.NewApp(b)
	srv := testutil.Serve(b, app)
	reader := testutil.CreateUser(b, app, testutil.User{Rank: "Gold"})
	catA := testutil.NewCategory(b, app, "General", nil)
	catB := testutil.NewCategory(b, app, "Platinum", map[string]any{"min_rank": testutil.RankID(b, app, "Platinum")})
	r := rand.New(rand.NewPCG(3, 4))

	began := time.Now()
	err := app.RunInTransaction(func(tx core.App) error {
		nTopics := max(1, nPosts/postsPerTopic)
		topicsA := seedTopics(b, tx, catA.Id, reader.Id, nTopics/2, r)
		topicsB := seedTopics(b, tx, catB.Id, reader.Id, nTopics-nTopics/2, r)
		topics := append(topicsA, topicsB...)
		q := tx.DB().NewQuery(`INSERT INTO forum_posts (id, topic, author, body, created, updated)
			VALUES ({:id}, {:topic}, {:author}, {:body}, {:at}, {:at})`).Prepare()
		defer q.Close()
		at := time.Now().UTC().Format("2006-01-02 15:04:05.000Z")
		for i := 0; i < nPosts; i++ {
			body := benchText(r, 16)
			if i%10_000 == 0 {
				body += " zephyrine" // a rare word: 1 post in 10,000
			}
			_, err := q.Bind(dbx.Params{"id": core.GenerateDefaultRandomId(), "topic": topics[i%len(topics)],
				"author": reader.Id, "body": body, "at": at}).Execute()
			if err != nil {
				return fmt.Errorf("seed post %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d posts in %s", nPosts, time.Since(began).Round(time.Millisecond))
	token := testutil.Token(b, reader)

	for _, c := range []struct{ name, q string }{
		{"rare-word", "zephyrine"},
		{"common-word", "deploy"},
		{"two-words", "golang deploy"},
		{"japanese-word", "コミュニケーション"},
		{"japanese-2-chars", "東京"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				status, body := srv.Do(b, http.MethodGet, "/api/salon/search?perPage=20&q="+testutil.Urlq(c.q), token, nil)
				if status != 200 || !strings.Contains(string(body), "<mark>") {
					b.Fatalf("%d %.200s", status, body)
				}
			}
		})
	}
}
