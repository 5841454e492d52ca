package salon

import (
	"github.com/pocketbase/dbx"
)

// DBConnect opens data.db and auxiliary.db as PocketBase does
// (core.DefaultDBConnect in PocketBase v0.40: the same pragmas), but starts every transaction
// with BEGIN IMMEDIATE instead of a deferred BEGIN.
//
// Why: a deferred transaction reads first and asks for SQLite's write lock
// only at its first write. When another process holds that lock then, or has
// committed since the transaction's first read (Litestream does both about
// once a second: its checkpoint barrier and its sequence table), SQLite
// answers "database is locked" at once, without waiting (a read transaction
// cannot be upgraded over a newer snapshot). PocketBase retries the failed
// write inside the same transaction for up to ~7 s (12 tries, core/db_retry.go),
// which cannot succeed on that old snapshot, while the transaction holds the
// app's one writer connection: every other write waits meanwhile. Measured
// under Litestream: members' writes stopped for 4–7 s (README, *Scaling*).
// BEGIN IMMEDIATE takes the write lock first, waiting for it with the busy
// timeout, so a transaction's reads and writes are of one snapshot. The app
// has one writer connection per database, so nothing waits on our side that
// did not wait before; reads outside transactions are unchanged.
func DBConnect(dbPath string) (*dbx.DB, error) {
	pragmas := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32000)&_defensive=1&_txlock=immediate"
	return dbx.Open("sqlite", dbPath+pragmas)
}
