package pb_migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The forum_follow notice (a new post in a followed topic or category) can
// be e-mailed like every other kind: its wording in en and ja, seeded with
// the server's built-in text.
func init() {
	const placeholders = "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {AUTHOR}, {TOPIC}"
	seeds := map[string][2]string{
		"en": {"[{SALON}] {AUTHOR} posted in \"{TOPIC}\"", "Hello {NAME},\n\n{AUTHOR} posted in \"{TOPIC}\"\n\n{BODY}\n\nOpen in the salon: {LINK}"},
		"ja": {"[{SALON}] {AUTHOR}さんが「{TOPIC}」に投稿しました", "{NAME}さん\n\n{AUTHOR}さんが「{TOPIC}」に投稿しました\n\n{BODY}\n\nサロンで開く: {LINK}"},
	}
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("mail_templates")
		if err != nil {
			return err
		}
		kind := c.Fields.GetByName("kind").(*core.SelectField)
		if !slices.Contains(kind.Values, "forum_follow") {
			kind.Values = append(kind.Values, "forum_follow")
		}
		if err := app.Save(c); err != nil {
			return err
		}
		for _, lang := range []string{"en", "ja"} {
			r := core.NewRecord(c)
			r.Set("kind", "forum_follow")
			r.Set("lang", lang)
			r.Set("placeholders", placeholders)
			r.Set("subject", seeds[lang][0])
			r.Set("body", seeds[lang][1])
			if err := app.SaveNoValidate(r); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		_, err := app.DB().NewQuery("DELETE FROM mail_templates WHERE kind = 'forum_follow'").Execute()
		return err
	})
}
