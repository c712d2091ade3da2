#!/usr/bin/env bash
# systemd/mmiod.catalog against daemon/base/log.h: the catalog is well formed (each
# entry "-- ID" with 32 lowercase hex digits, a Subject: and a Defined-By:, no
# ID twice) and holds exactly the MESSAGE_IDs log.h defines. journalctl
# --update-catalog needs root and a writable /var, so the format is checked here.
# usage: test_catalog.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: test_catalog.sh SOURCE_DIR}
catalog=$src/systemd/mmiod.catalog
header=$src/daemon/base/log.h
fail=0
err() {
	echo "test_catalog: $*" >&2
	fail=1
}

ids_catalog=$(grep -E '^-- ' "$catalog" | cut -c4- | sort)
ids_header=$(grep -E '^#define MSGID_[A-Z_]+ +"' "$header" | sed -E 's/.*"(.*)"/\1/' | sort)
[ -n "$ids_header" ] || err "no MSGID_ defines in $header"
for id in $ids_catalog $ids_header; do
	[[ $id =~ ^[0-9a-f]{32}$ ]] || err "'$id' is not 32 lowercase hex digits"
done
dups=$(printf '%s\n' $ids_catalog | uniq -d)
[ -z "$dups" ] || err "IDs twice in the catalog: $dups"
dups=$(printf '%s\n' $ids_header | uniq -d)
[ -z "$dups" ] || err "IDs twice in log.h: $dups"
[ "$ids_catalog" = "$ids_header" ] ||
	err "catalog and log.h differ: $(diff <(echo "$ids_catalog") <(echo "$ids_header") | grep '^[<>]' | tr '\n' ' ')"

# Each entry: header, then Subject: and Defined-By: before the blank line that starts its body.
awk '
	/^-- / { if (id != "") check(); id = $2; subj = 0; def = 0; inhead = 1; body = 0; next }
	id != "" && inhead && /^$/ { inhead = 0; next }
	id != "" && inhead && /^Subject: ./ { subj = 1; next }
	id != "" && inhead && /^Defined-By: ./ { def = 1; next }
	id != "" && inhead && /^[A-Za-z-]+: / { next }
	id != "" && inhead { print "test_catalog: " id ": bad header line: " $0; bad = 1; next }
	id != "" && !inhead && /./ { body = 1 }
	function check() {
		if (!subj) { print "test_catalog: " id ": no Subject:"; bad = 1 }
		if (!def) { print "test_catalog: " id ": no Defined-By:"; bad = 1 }
		if (!body) { print "test_catalog: " id ": no body"; bad = 1 }
	}
	END { if (id != "") check(); exit bad }
' "$catalog" >&2 || fail=1

# Every MSGID_ is used somewhere in the daemon.
for name in $(grep -oE '^#define MSGID_[A-Z_]+' "$header" | cut -d' ' -f2); do
	grep -rq --include="*.c" "$name" "$src"/daemon || err "$name is defined but never logged"
done
[ "$fail" = 0 ] && echo "test_catalog: $(echo "$ids_catalog" | wc -l) entries ok"
exit "$fail"
