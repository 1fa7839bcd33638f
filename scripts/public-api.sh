#!/usr/bin/env bash
# The public API of the runtime crate, kept in teleport/public-api.txt so that every change
# to it is a visible diff (a new public item is a decision).
#
#   scripts/public-api.sh check   # fails, printing the diff, when the API differs from the file
#   scripts/public-api.sh bless   # rewrites the file from the current API
#
# The list comes from `cargo doc` with every feature (see scripts/public_api.py); hidden
# items (`__private`) are not in it.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-check}"
doc="${CARGO_TARGET_DIR:-target}/doc/teleport"
# Pages of items that no longer exist would otherwise stay behind.
rm -rf "$doc"
cargo doc -p teleport --no-deps --all-features --quiet
current="$(mktemp)"
trap 'rm -f "$current"' EXIT
python3 scripts/public_api.py "$doc" > "$current"
case "$mode" in
    bless)
        cp "$current" teleport/public-api.txt
        echo "teleport/public-api.txt: $(wc -l < teleport/public-api.txt) entries"
        ;;
    check)
        if ! diff -u teleport/public-api.txt "$current"; then
            echo "the public API changed: review the diff, then run scripts/public-api.sh bless" >&2
            exit 1
        fi
        ;;
    *)
        echo "usage: $0 check|bless" >&2
        exit 2
        ;;
esac
