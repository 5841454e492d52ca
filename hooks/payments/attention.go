package payments

import (
	"fmt"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Admins hear of a payment that needs a person: an amount Stripe reported
// other than the one asked, or a payment after its reservation ended. The
// record's note keeps the English sentence for the dashboard and the CSV
// export; each admin's notice is in their own language.

// noStockNote ends a late order's note when its stock was gone (shop.go).
const noStockNote = " Not enough stock left: contact the buyer."

// what each payable is called in a notice, per language
var payableNames = map[string]map[string]string{
	"orders": {"en": "an order", "ja": "注文"},
	"tips":   {"en": "a tip", "ja": "投げ銭"},
}

// what a released status is called in a notice, per language
var releasedNames = map[string]map[string]string{
	"expired":  {"en": "expired", "ja": "期限切れ"},
	"canceled": {"en": "canceled", "ja": "キャンセル"},
	"failed":   {"en": "failed", "ja": "支払い失敗"},
}

func nameIn(names map[string]map[string]string, key, lang string) string {
	if n := names[key][lang]; n != "" {
		return n
	}
	return key
}

// mismatchWords tell admins that Stripe reported got where want was asked.
func mismatchWords(collection, got, want string) map[string]notify.Words {
	return map[string]notify.Words{
		"en": {
			Title: "Payment mismatch on " + nameIn(payableNames, collection, "en"),
			Body:  fmt.Sprintf("Stripe reported %s, expected %s.", got, want),
		},
		"ja": {
			Title: nameIn(payableNames, collection, "ja") + "の支払額が一致しません",
			Body:  fmt.Sprintf("Stripeの報告額は%s、請求額は%sです。", got, want),
		},
	}
}

// lateWords tell admins of a payment that came after the reservation was
// released with status was; noStock when its stock could not be taken again.
func lateWords(collection, was string, noStock bool) map[string]notify.Words {
	en := notify.Words{
		Title: "Late payment on " + nameIn(payableNames, collection, "en"),
		Body:  "Paid after the reservation was released (" + nameIn(releasedNames, was, "en") + ").",
	}
	ja := notify.Words{
		Title: nameIn(payableNames, collection, "ja") + "の予約終了後に支払いがありました",
		Body:  "予約が終わった後（" + nameIn(releasedNames, was, "ja") + "）に支払われました。",
	}
	if noStock {
		en.Body += noStockNote
		ja.Body += "在庫が足りません。購入者に連絡してください。"
	}
	return map[string]notify.Words{"en": en, "ja": ja}
}

// notifyAdmins sends every admin a payment_attention notice in their
// language (words: by language, "en" also for any other).
func notifyAdmins(tx core.App, words map[string]notify.Words, collection, id string) error {
	ids, err := salon.AdminIDs(tx)
	if err != nil {
		return err
	}
	en := words["en"]
	return notify.Notify(tx, ids, notify.Notification{Kind: "payment_attention", Title: en.Title, Body: en.Body,
		Words: words, SourceCollection: collection, SourceID: id})
}

// lateNoStock reports whether a late order's note says its stock was gone.
func lateNoStock(r *core.Record) bool { return strings.HasSuffix(r.GetString("note"), noStockNote) }
