#!/usr/bin/env bash
# Runs govulncheck over the module and fails when our code reaches a known
# vulnerability (PocketBase, Pion, the standard library, any dependency).
#
# The vulnerability database, first found of:
#   1. $VULNDB_SNAPSHOT, a tarball packed by .ci/vulndb/refresh.sh;
#   2. ../shared/vulndb/go-vulndb.tar.gz beside the clone (the steering
#      repo's shared/ is where such data may live; never commit it here);
#   3. https://vuln.go.dev, when this machine can reach it.
# A snapshot is turned into govulncheck's file:// layout by .ci/vulndb.
# With none of them the check cannot run: it says so loudly and, unless
# VULNDB_REQUIRED=1, lets the rest of CI go on.
set -euo pipefail
export GOTOOLCHAIN=auto

root=$(cd "$(dirname "$0")/.." && pwd)
max_age_days=${VULNDB_MAX_AGE_DAYS:-90}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

snapshot=${VULNDB_SNAPSHOT:-}
[ -z "$snapshot" ] && [ -f "$root/../shared/vulndb/go-vulndb.tar.gz" ] && snapshot=$root/../shared/vulndb/go-vulndb.tar.gz

db=""
if [ -n "$snapshot" ]; then
	echo "govulncheck: database from snapshot $snapshot"
	mkdir -p "$work/src"
	tar -xzf "$snapshot" -C "$work/src"
	times=()
	[ -f "$work/src/data/times.tsv" ] && times=(-times "$work/src/data/times.tsv")
	(cd "$root/.ci/vulndb" && go run . -src "$work/src" "${times[@]}" -out "$work/db")
	newest=$(sed -n 's/.*"modified":"\([^"]*\)".*/\1/p' "$work/db/index/db.json")
	age_days=$(( ($(date -u +%s) - $(date -u -d "$newest" +%s)) / 86400 ))
	echo "govulncheck: database last modified $newest ($age_days days ago)"
	if [ "$age_days" -gt "$max_age_days" ]; then
		echo "govulncheck: WARNING: the database is older than $max_age_days days; newer advisories are not checked." >&2
	fi
	db="file://$work/db"
elif curl -sf --max-time 10 -o /dev/null https://vuln.go.dev/index/db.json; then
	echo "govulncheck: database https://vuln.go.dev"
	db="https://vuln.go.dev"
else
	echo "govulncheck: NOT CHECKED: no vulnerability database is reachable (no snapshot, vuln.go.dev unreachable)." >&2
	echo "govulncheck: provide one as shared/vulndb/go-vulndb.tar.gz (see .ci/vulndb/refresh.sh) or set VULNDB_SNAPSHOT." >&2
	[ "${VULNDB_REQUIRED:-0}" = 1 ] && exit 1
	exit 0
fi

echo "govulncheck: installing golang.org/x/vuln/cmd/govulncheck@v1.9.0"
go install golang.org/x/vuln/cmd/govulncheck@v1.9.0
govulncheck=$(go env GOPATH)/bin/govulncheck
[ -n "$(go env GOBIN)" ] && govulncheck=$(go env GOBIN)/govulncheck

cd "$root"
"$govulncheck" -db "$db" ./...
