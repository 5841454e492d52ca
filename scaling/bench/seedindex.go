package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pocketbase/dbx"
)

// The seeds write a million rows in one transaction. The triggers of the
// migrations would index each row as it comes (the trigram and bigram
// indexes), which took most of the seeding time; filling each index once
// from all the rows, with the trigger's own statement, makes the same index
// in a fraction of it.

// indexTriggerBody matches the body of a trigger that fills an index:
// INSERT INTO index(cols) VALUES (values);
var indexTriggerBody = regexp.MustCompile(`(?s)\bBEGIN\s+INSERT INTO (\w+)\s*(\([^)]*\))\s*VALUES\s*\((.*)\);\s*END\s*$`)

// withIndexesFilledOnce runs seed (which inserts rows into table) with the
// AFTER INSERT triggers that fill a full-text index from table dropped,
// then runs each trigger's statement once over the rows seed added (new.x
// read as table.x) and creates the triggers again, all in tx.
func withIndexesFilledOnce(tx *dbx.Tx, table string, seed func() error) error {
	var triggers []struct {
		Name string `db:"name"`
		SQL  string `db:"sql"`
	}
	err := tx.NewQuery(`SELECT t.name, t.sql FROM sqlite_master t WHERE t.type = 'trigger' AND t.tbl_name = {:table}
		AND t.sql LIKE '%AFTER INSERT%' AND EXISTS (SELECT 1 FROM sqlite_master v WHERE v.type = 'table'
		AND v.sql LIKE 'CREATE VIRTUAL TABLE%fts5%' AND t.sql LIKE '%INSERT INTO ' || v.name || '(%')`).
		Bind(dbx.Params{"table": table}).All(&triggers)
	if err != nil {
		return fmt.Errorf("index triggers of %s: %w", table, err)
	}
	var last int64 // the rows before the seed are indexed already
	if err := tx.NewQuery("SELECT coalesce(max(rowid), 0) FROM " + table).Row(&last); err != nil {
		return err
	}
	var fills []string
	for _, t := range triggers {
		m := indexTriggerBody.FindStringSubmatch(t.SQL)
		if m == nil {
			return fmt.Errorf("trigger %s is not one INSERT INTO an index: %s", t.Name, t.SQL)
		}
		fills = append(fills, "INSERT INTO "+m[1]+m[2]+" SELECT "+strings.ReplaceAll(m[3], "new.", table+".")+fmt.Sprintf(" FROM %s WHERE rowid > %d", table, last))
		if _, err := tx.NewQuery("DROP TRIGGER " + t.Name).Execute(); err != nil {
			return err
		}
	}
	// a large page cache for this connection: the indexes' b-trees are
	// written all at once
	if _, err := tx.NewQuery("PRAGMA cache_size = -262144").Execute(); err != nil {
		return err
	}
	if err := seed(); err != nil {
		return err
	}
	for i, fill := range fills {
		if _, err := tx.NewQuery(fill).Execute(); err != nil {
			return fmt.Errorf("fill the index of trigger %s: %w", triggers[i].Name, err)
		}
		if _, err := tx.NewQuery(triggers[i].SQL).Execute(); err != nil {
			return fmt.Errorf("trigger %s again: %w", triggers[i].Name, err)
		}
	}
	return nil
}
