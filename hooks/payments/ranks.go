package payments

import (
	"encoding/json"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/salon"
)

// rankPriceFields map rank names to prices or discounts on products.
var rankPriceFields = []string{"rank_prices", "rank_discounts"}

// followRankRename keeps prices with their rank: renaming a rank rewrites
// the products' rank_prices/rank_discounts keys in the same transaction, so
// that "Gold" prices become "Gold Star" prices and never silently lapse.
func followRankRename(e *core.RecordEvent) error {
	oldName, newName := e.Record.Original().GetString("name"), e.Record.GetString("name")
	if e.Record.IsNew() || oldName == "" || oldName == newName {
		return e.Next()
	}
	return salon.ChainInTx(&e.App, func(tx core.App) error {
		if err := e.Next(); err != nil {
			return err
		}
		return renameRankKeys(tx, oldName, newName)
	})
}

func renameRankKeys(app core.App, oldName, newName string) error {
	products, err := app.FindAllRecords("products", dbx.Or(
		dbx.NewExp("json_type([[rank_prices]], {:path}) IS NOT NULL", dbx.Params{"path": jsonKeyPath(oldName)}),
		dbx.NewExp("json_type([[rank_discounts]], {:path}) IS NOT NULL", dbx.Params{"path": jsonKeyPath(oldName)}),
	))
	if err != nil {
		return fmt.Errorf("products priced for rank %q: %w", oldName, err)
	}
	for _, p := range products {
		for _, field := range rankPriceFields {
			raw, _ := p.Get(field).(types.JSONRaw)
			var m map[string]json.RawMessage
			if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
				continue
			}
			v, ok := m[oldName]
			if !ok {
				continue
			}
			delete(m, oldName)
			m[newName] = v
			p.Set(field, m)
		}
		if err := app.Save(p); err != nil {
			return fmt.Errorf("product %s: keep its prices for rank %q: %w", p.Id, newName, err)
		}
	}
	return nil
}

// jsonKeyPath is the SQLite JSON path of one object key, quoted so that any
// rank name (spaces, dots) is one key.
func jsonKeyPath(key string) string {
	b, _ := json.Marshal(key)
	return "$." + string(b)
}
