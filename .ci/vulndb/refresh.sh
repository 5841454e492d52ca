#!/usr/bin/env bash
# Packs a snapshot of the Go vulnerability database from a
# git clone of github.com/golang/vulndb (full history needed for the dates):
#
#   bash .ci/vulndb/refresh.sh /path/to/vulndb OUT_DIR
#
# CI cannot reach vuln.go.dev or GitHub, and no registry it can reach
# (Go module proxy, Debian, npm) ships this data, so the snapshot is
# packed for the steering repo's shared/vulndb/ (beside CI's clone), and
# .ci/govulncheck.sh builds the database from it. It is data: never commit it here.
set -euo pipefail

repo=${1:?usage: refresh.sh /path/to/golang/vulndb-clone OUT_DIR}
out=${2:?usage: refresh.sh /path/to/golang/vulndb-clone OUT_DIR}; mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git -C "$repo" cat-file -e HEAD:data/osv || { echo "refresh: $repo has no data/osv" >&2; exit 1; }
commit=$(git -C "$repo" rev-parse HEAD)
date=$(TZ=UTC git -C "$repo" log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd HEAD)

git -C "$repo" archive --format=tar HEAD data/osv data/LICENSE data/NOTICES | tar -x -C "$tmp"

# The repository stores zero published/modified times; vuln.go.dev takes
# them from git history: first and last commit touching data/osv/<id>.json.
TZ=UTC git -C "$repo" log --no-renames --date=format-local:%Y-%m-%dT%H:%M:%SZ \
  --format=@%cd --name-only HEAD -- data/osv |
  awk '/^@/ { d = substr($0, 2); next }
       /^data\/osv\/.*\.json$/ { id = $0; sub(/^data\/osv\//, "", id); sub(/\.json$/, "", id)
                                 if (!(id in mod)) mod[id] = d; pub[id] = d }
       END { for (id in mod) printf "%s\t%s\t%s\n", id, pub[id], mod[id] }' |
  sort >"$tmp/data/times.tsv"

tar -C "$tmp" -czf "$out/go-vulndb.tar.gz" --owner=0 --group=0 --numeric-owner --sort=name data
count=$(ls "$tmp/data/osv" | wc -l)
cat >"$out/SOURCE" <<SRC
github.com/golang/vulndb commit $commit ($date), $count OSV entries from data/osv.
Data licensed CC-BY-4.0 (data/LICENSE and data/NOTICES inside go-vulndb.tar.gz).
SRC
echo "refresh: wrote $out/go-vulndb.tar.gz from $commit ($date), $count entries"
