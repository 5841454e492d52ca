#!/usr/bin/env bash
# The whole test suite's wall and CPU time (user+sys) at two commits, each in
# a worktree of its own, interleaved (old, new, old, new …) so that both meet
# the same machine load; both trees' test binaries are built first. From the
# repository root:
#
#	bash scaling/suitetime.sh OLD_COMMIT [NEW_COMMIT (HEAD)] [ROUNDS (2)]
#
# On a shared machine CPU time is the fairer figure: wall time mostly
# measures what else runs (the load average is printed beside each run).
set -uo pipefail
old=$1 new=${2:-HEAD} rounds=${3:-2}
work=$(mktemp -d)
git worktree add --quiet --detach "$work/old" "$old"
git worktree add --quiet --detach "$work/new" "$new"
trap 'git worktree remove --force "$work/old"; git worktree remove --force "$work/new"' EXIT
export GOTOOLCHAIN=auto

for tree in "$work/old" "$work/new"; do
	(cd "$tree" && go test -count=1 -run '^$' ./... >/dev/null)
done
echo "outputs in $work"
for i in $(seq "$rounds"); do
	for side in old new; do
		tree=$work/$side
		before=$(cut -d' ' -f1-3 /proc/loadavg)
		(cd "$tree" && /usr/bin/time -v -o "$work/$side$i.time" \
			go test -count=1 -timeout 60m -json ./... >"$work/$side$i.json")
		rc=$?
		after=$(cut -d' ' -f1-3 /proc/loadavg)
		wall=$(awk -F': ' '/Elapsed/ {print $2}' "$work/$side$i.time")
		user=$(awk -F': ' '/User time/ {print $2}' "$work/$side$i.time")
		sys=$(awk -F': ' '/System time/ {print $2}' "$work/$side$i.time")
		pass=$(grep -cE '"Action":"pass".*"Test":"[^"/]*"' "$work/$side$i.json")
		fail=$(grep -cE '"Action":"fail".*"Test":"[^"/]*"' "$work/$side$i.json")
		echo "$side $i: wall $wall, user ${user} s + sys ${sys} s, load $before -> $after, exit $rc, tests passed $pass failed $fail"
	done
done
