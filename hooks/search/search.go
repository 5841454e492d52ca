package search

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/forum"
	"salonbase/hooks/rooms"
	"salonbase/hooks/salon"
)

// Search: GET /api/salon/search?q= over forum topics and posts, through the
// FTS5 trigram index of pb_migrations/1795440004_forum_search.go, and over
// room messages, through that of pb_migrations/1795430006_room_messages_fts.go.
//
// Query parameters: q (required, 1–200 characters; words separated by
// spaces must all match), category, author, tag, kind
// (topic|post|room_message), page, perPage (max 50). Results are ranked
// BM25-style (title weighs more than body; see salon.RankScores) among the newest
// 2000 readable forum matches and the newest 2000 readable room messages,
// and carry an HTML-escaped snippet with the matches in <mark>.
// Only categories the caller may read (ReadableCategoryIDs) and rooms the
// caller may read (ReadableRoomIDs) are searched, so a rank-limited
// category, a secret group's board or room, or a password room not joined
// never shows up; deleted room messages never do. A category or tag filter
// leaves room messages out (they have neither).
//
// The trigram index matches words of 3+ characters; shorter words (common
// in Japanese: 東京, 会員) are matched with LIKE over the candidate rows.
// When the query has no longer word, the candidates of its two-character
// words come from the bigram indexes of the migration 1795531001; a query
// of one-character words only reads the rows newest first.

const (
	searchMaxQuery   = 200
	searchMaxPerPage = 50
	snippetRadius    = 40
	// searchCandidates bounds the work of one search: results are ranked
	// among the newest this many readable matches of each source (forum,
	// rooms).
	searchCandidates = 2000
)

func searchRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/search", searchSalon)
}

// SearchHit is one search result.
type SearchHit struct {
	Kind       string  `db:"kind" json:"kind"` // topic | post | room_message
	ID         string  `db:"ref" json:"id"`
	Topic      string  `db:"topic" json:"topic"`
	TopicTitle string  `db:"topic_title" json:"topicTitle"`
	Category   string  `db:"category" json:"category"`
	Room       string  `db:"room" json:"room,omitempty"`
	RoomName   string  `db:"room_name" json:"roomName,omitempty"`
	Author     string  `db:"author" json:"author"`
	AuthorName string  `db:"author_name" json:"authorName"` // room messages keep theirs (guests have no user)
	Created    string  `db:"created" json:"created"`
	DocID      int64   `db:"docid" json:"-"`
	Score      float64 `db:"-" json:"score"`
	Snippet    string  `db:"-" json:"snippet"`
	Title      string  `db:"title" json:"-"`
	Body       string  `db:"body" json:"-"`
}

func searchSalon(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) && !salon.IsAdmin(e.Auth) {
		return salon.Refuse(http.StatusUnauthorized, "login", "Sign in as a member to search.")
	}
	q := e.Request.URL.Query()
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		return e.BadRequestError("Say what to search for: ?q=", nil)
	}
	if utf8.RuneCountInString(text) > searchMaxQuery {
		return e.BadRequestError(fmt.Sprintf("The query is longer than %d characters.", searchMaxQuery), nil)
	}
	page, perPage, err := salon.PageParams(q, 20, searchMaxPerPage)
	if err != nil {
		return err
	}
	for _, param := range []string{"q", "category", "author", "tag"} {
		if err := salon.CheckText(param, q.Get(param)); err != nil {
			return err
		}
	}
	kind := q.Get("kind")
	if kind != "" && kind != "topic" && kind != "post" && kind != "room_message" {
		return e.BadRequestError("The kind parameter must be topic, post or room_message.", nil)
	}

	cats, err := forum.ReadableCategoryIDs(e.App, e.Auth)
	if err != nil {
		return e.InternalServerError("", err)
	}
	rooms, err := rooms.ReadableRoomIDs(e.App, e.Auth)
	if err != nil {
		return e.InternalServerError("", err)
	}
	terms := searchTerms(text)
	hits, more, err := runSearch(e.App, searchQuery{
		terms: terms, categories: cats, rooms: rooms, category: q.Get("category"), author: q.Get("author"),
		tag: strings.ToLower(strings.TrimPrefix(strings.TrimSpace(q.Get("tag")), "#")), kind: kind,
		limit: perPage, offset: (page - 1) * perPage,
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	names := authorNames(e.App, hits)
	for i := range hits {
		if hits[i].Kind != "room_message" {
			hits[i].AuthorName = names[hits[i].Author]
		}
		src := hits[i].Body
		if hits[i].Kind == "topic" && containsAny(hits[i].Title, terms) && !containsAny(src, terms) {
			src = hits[i].Title
		}
		hits[i].Snippet = snippet(src, terms, snippetRadius)
	}
	return e.JSON(http.StatusOK, map[string]any{"items": hits, "page": page, "perPage": perPage, "hasMore": more})
}

type searchQuery struct {
	terms      []string
	categories []string
	rooms      []string
	category   string
	author     string
	tag        string
	kind       string
	limit      int
	offset     int
}

// searchTerms splits the query into distinct words.
func searchTerms(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range strings.Fields(text) {
		if !seen[strings.ToLower(t)] {
			seen[strings.ToLower(t)] = true
			out = append(out, t)
		}
	}
	return out
}

// runSearch returns one page of hits and whether more follow: the
// candidates of the forum and of the rooms, scored and ranked together.
func runSearch(app core.App, s searchQuery) ([]SearchHit, bool, error) {
	var hits []SearchHit
	if s.kind != "room_message" {
		forum, err := forumCandidates(app, s)
		if err != nil {
			return nil, false, err
		}
		hits = append(hits, forum...)
	}
	// room messages have no category or tag: such a filter leaves them out
	if (s.kind == "" || s.kind == "room_message") && s.category == "" && s.tag == "" {
		rooms, err := roomCandidates(app, s)
		if err != nil {
			return nil, false, err
		}
		hits = append(hits, rooms...)
	}
	scoreHits(hits, s.terms)
	// sort positions, not the hits: moving 4,000 hits of 15 fields about
	// cost more than reading them
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := &hits[order[a]], &hits[order[b]]
		if x.Score != y.Score {
			return x.Score > y.Score
		}
		if x.Created != y.Created {
			return x.Created > y.Created
		}
		return x.DocID > y.DocID
	})
	order = order[min(s.offset, len(order)):]
	more := len(order) > s.limit
	order = order[:min(len(order), s.limit)]
	page := make([]SearchHit, len(order))
	for i, at := range order {
		page[i] = hits[at]
	}
	if err := pageDetails(app, page); err != nil {
		return nil, false, err
	}
	return page, more, nil
}

// pageDetails fills in the columns of the page's hits that ranking did not
// need (read for the page only, not for every candidate): the forum
// documents' reference, kind, topic, author and category with the topic's
// title, the room messages' id, room and author with the room's name.
func pageDetails(app core.App, hits []SearchHit) error {
	var docs, msgs []any
	for _, h := range hits {
		if h.Kind == "room_message" {
			msgs = append(msgs, h.DocID)
		} else {
			docs = append(docs, h.DocID)
		}
	}
	type detail struct {
		DocID      int64  `db:"docid"`
		Ref        string `db:"ref"`
		Kind       string `db:"kind"`
		Topic      string `db:"topic"`
		TopicTitle string `db:"topic_title"`
		Category   string `db:"category"`
		Room       string `db:"room"`
		RoomName   string `db:"room_name"`
		Author     string `db:"author"`
		AuthorName string `db:"author_name"`
	}
	var rows []detail
	if len(docs) > 0 {
		err := app.DB().Select("d.docid", "d.ref", "d.kind", "d.topic", "coalesce(t.title, '') AS topic_title", "d.category", "d.author").
			From("forum_search_docs d").LeftJoin("forum_topics t", dbx.NewExp("t.id = d.topic")).
			Where(dbx.In("d.docid", docs...)).All(&rows)
		if err != nil {
			return fmt.Errorf("search: the page's forum documents: %w", err)
		}
	}
	if len(msgs) > 0 {
		var more []detail
		err := app.DB().Select("m.rowid AS docid", "m.id AS ref", "m.room", "coalesce(r.name, '') AS room_name", "m.author", "m.author_name").
			From("room_messages m").LeftJoin("rooms r", dbx.NewExp("r.id = m.room")).
			Where(dbx.In("m.rowid", msgs...)).All(&more)
		if err != nil {
			return fmt.Errorf("search: the page's room messages: %w", err)
		}
		for i := range more {
			more[i].Kind = "room_message"
		}
		rows = append(rows, more...)
	}
	type at struct {
		room  bool
		docid int64
	}
	byDoc := make(map[at]detail, len(rows))
	for _, r := range rows {
		byDoc[at{r.Kind == "room_message", r.DocID}] = r
	}
	for i := range hits {
		h := &hits[i]
		d := byDoc[at{h.Kind == "room_message", h.DocID}]
		h.ID, h.Kind, h.Topic, h.TopicTitle, h.Category = d.Ref, d.Kind, d.Topic, d.TopicTitle, d.Category
		h.Room, h.RoomName, h.Author, h.AuthorName = d.Room, d.RoomName, d.Author, d.AuthorName
	}
	return nil
}

// readCandidates reads the rows of q (docid, title, body, created, in that
// order) as hits of kind ("" for forum documents until pageDetails),
// scanned by position, not by name: thousands of candidates per search.
func readCandidates(q *dbx.Query, kind string) ([]SearchHit, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hits []SearchHit
	for len(hits) < searchCandidates && rows.Next() {
		h := SearchHit{Kind: kind}
		if err := rows.Scan(&h.DocID, &h.Title, &h.Body, &h.Created); err != nil {
			return nil, err
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// termConditions turns the words of 3+ characters into an FTS5 MATCH
// expression (each quoted as a phrase, so the input cannot inject FTS
// syntax) and the shorter ones into LIKE conditions on cols, binding their
// values in params; the two-character words also into a MATCH expression
// of the bigram indexes (salon.BigramMatch).
func termConditions(terms []string, params dbx.Params, cols ...string) (match string, where []string, grams string) {
	var phrases, bigrams []string
	for i, t := range terms {
		phrase, like := salon.FtsTerm(t)
		if phrase != "" {
			phrases = append(phrases, phrase)
			continue
		}
		if g := salon.BigramMatch(t); g != "" {
			bigrams = append(bigrams, g)
		}
		p := "like" + strconv.Itoa(i)
		params[p] = like
		or := make([]string, len(cols))
		for j, c := range cols {
			or[j] = fmt.Sprintf(`%s LIKE {:%s} ESCAPE '\'`, c, p)
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	return strings.Join(phrases, " "), where, strings.Join(bigrams, " ")
}

// inList binds values as params prefix0, prefix1… and returns the SQL list
// "({:prefix0},{:prefix1}…)".
func inList(params dbx.Params, prefix string, values []string) string {
	ph := make([]string, len(values))
	for i, v := range values {
		p := prefix + strconv.Itoa(i)
		params[p] = v
		ph[i] = "{:" + p + "}"
	}
	return "(" + strings.Join(ph, ",") + ")"
}

// forumCandidates returns the newest searchCandidates matching topics and
// posts of the readable categories.
func forumCandidates(app core.App, s searchQuery) ([]SearchHit, error) {
	if len(s.categories) == 0 {
		return nil, nil
	}
	params := dbx.Params{}
	match, where, grams := termConditions(s.terms, params, "d.title", "d.body")
	where = append(where, "d.category IN "+inList(params, "cat", s.categories))
	if s.category != "" {
		params["category"] = s.category
		where = append(where, "d.category = {:category}")
	}
	if s.author != "" {
		params["author"] = s.author
		where = append(where, "d.author = {:author}")
	}
	if s.kind != "" {
		params["kind"] = s.kind
		where = append(where, "d.kind = {:kind}")
	}
	if s.tag != "" {
		params["tag"] = s.tag
		where = append(where, `EXISTS (SELECT 1 FROM forum_topics tt, json_each(tt.tags) j
			WHERE tt.id = d.topic AND j.value = {:tag})`)
	}

	// The candidates: the newest searchCandidates readable matches, walked
	// in index order, so the work stays bounded however common the words.
	// (FTS5's bm25() would first count every match of each word in the
	// whole index — half a second for a common word over 1M posts — so the
	// candidates are scored here instead.)
	// only what ranking needs: the page's other columns are read for the page
	const cols = "d.docid, d.title, d.body, d.created"
	var inner string
	if match != "" {
		params["match"] = match
		inner = "SELECT d.docid FROM forum_search f JOIN forum_search_docs d ON d.docid = f.rowid" +
			" WHERE forum_search MATCH {:match} AND " + strings.Join(where, " AND ") +
			" ORDER BY f.rowid DESC LIMIT {:candidates}"
	} else if grams != "" {
		// two-character words only: the rows holding them come out of the
		// bigram index (the LIKE conditions check each) in the same order
		params["grams"] = grams
		inner = "SELECT d.docid FROM forum_search_grams g JOIN forum_search_docs d ON d.docid = g.rowid" +
			" WHERE forum_search_grams MATCH {:grams} AND " + strings.Join(where, " AND ") +
			" ORDER BY g.rowid DESC LIMIT {:candidates}"
	} else {
		inner = "SELECT d.docid FROM forum_search_docs d" +
			" WHERE " + strings.Join(where, " AND ") +
			" ORDER BY d.docid DESC LIMIT {:candidates}"
	}
	params["candidates"] = searchCandidates
	sql := "SELECT " + cols + " FROM (" + inner + ") s JOIN forum_search_docs d ON d.docid = s.docid"
	hits, err := readCandidates(app.DB().NewQuery(sql).Bind(params), "")
	if err != nil {
		return nil, fmt.Errorf("forum search: %w", err)
	}
	return hits, nil
}

// roomCandidates returns the newest searchCandidates matching messages of
// the readable rooms; deleted messages never.
func roomCandidates(app core.App, s searchQuery) ([]SearchHit, error) {
	if len(s.rooms) == 0 {
		return nil, nil
	}
	params := dbx.Params{"candidates": searchCandidates}
	match, where, grams := termConditions(s.terms, params, "m.body")
	where = append(where, "m.room IN "+inList(params, "room", s.rooms), "m.deleted_at = ''")
	if s.author != "" {
		params["author"] = s.author
		where = append(where, "m.author = {:author}")
	}
	const cols = "m.rowid, '', m.body, m.created"
	var inner string
	if match != "" {
		// the index also holds the room id: the words are looked for in
		// the body only
		params["match"] = "{body}: (" + match + ")"
		inner = "SELECT m.rowid AS docid FROM room_messages_fts f JOIN room_messages m ON m.rowid = f.rowid" +
			" WHERE room_messages_fts MATCH {:match} AND " + strings.Join(where, " AND ") +
			" ORDER BY f.rowid DESC LIMIT {:candidates}"
	} else if grams != "" {
		params["grams"] = grams
		inner = "SELECT m.rowid AS docid FROM room_messages_grams g JOIN room_messages m ON m.rowid = g.rowid" +
			" WHERE room_messages_grams MATCH {:grams} AND " + strings.Join(where, " AND ") +
			" ORDER BY g.rowid DESC LIMIT {:candidates}"
	} else {
		inner = "SELECT m.rowid AS docid FROM room_messages m" +
			" WHERE " + strings.Join(where, " AND ") +
			" ORDER BY m.rowid DESC LIMIT {:candidates}"
	}
	sql := "SELECT " + cols + " FROM (" + inner + ") s JOIN room_messages m ON m.rowid = s.docid"
	hits, err := readCandidates(app.DB().NewQuery(sql).Bind(params), "room_message")
	if err != nil {
		return nil, fmt.Errorf("room message search: %w", err)
	}
	return hits, nil
}

// scoreHits scores each hit with the kernel's ranking (salon.RankScores: a
// match in a topic's title counts three times), rounded for the answer.
func scoreHits(hits []SearchHit, terms []string) {
	docs := make([]salon.RankDoc, len(hits))
	for i, h := range hits {
		docs[i] = salon.RankDoc{Title: h.Title, Body: h.Body}
	}
	for i, score := range salon.RankScores(docs, terms) {
		hits[i].Score = math.Round(score*1000) / 1000
	}
}

// authorNames looks up the names of forum authors (room messages keep
// their own author_name).
func authorNames(app core.App, hits []SearchHit) map[string]string {
	ids := map[string]bool{}
	for _, h := range hits {
		if h.Kind != "room_message" {
			ids[h.Author] = true
		}
	}
	names := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return names
	}
	list := make([]any, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	var rows []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := app.DB().Select("id", "name").From("users").Where(dbx.In("id", list...)).All(&rows); err == nil {
		for _, r := range rows {
			names[r.ID] = r.Name
		}
	}
	return names
}

func containsAny(s string, terms []string) bool {
	ls := strings.ToLower(s)
	for _, t := range terms {
		if strings.Contains(ls, strings.ToLower(t)) {
			return true
		}
	}
	return false
}

// snippet cuts a window of about radius characters each side of the first
// match in text, HTML-escapes it and wraps every match in <mark>.
func snippet(text string, terms []string, radius int) string {
	runes := []rune(strings.Join(strings.Fields(text), " "))
	lower := []rune(strings.ToLower(string(runes)))
	if len(lower) != len(runes) { // lower-casing changed lengths: match on the text as is
		lower = runes
	}
	type span struct{ from, to int }
	var spans []span
	for _, t := range terms {
		tr := []rune(strings.ToLower(t))
		if len(tr) == 0 {
			continue
		}
		for i := 0; i+len(tr) <= len(lower); i++ {
			if string(lower[i:i+len(tr)]) == string(tr) {
				spans = append(spans, span{i, i + len(tr)})
				i += len(tr) - 1
			}
		}
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].from < spans[b].from })
	start, end := 0, min(len(runes), 2*radius)
	if len(spans) > 0 {
		start = max(0, spans[0].from-radius)
		end = min(len(runes), spans[0].to+radius)
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	pos := start
	for _, sp := range spans {
		if sp.from < pos || sp.to > end {
			continue
		}
		b.WriteString(html.EscapeString(string(runes[pos:sp.from])))
		b.WriteString("<mark>" + html.EscapeString(string(runes[sp.from:sp.to])) + "</mark>")
		pos = sp.to
	}
	b.WriteString(html.EscapeString(string(runes[pos:end])))
	if end < len(runes) {
		b.WriteString("…")
	}
	return b.String()
}
