#!/bin/sh
# canonical.sh — print the canonical form of a medguard.delivery/v1 manifest, the bytes
# its signature covers, for every regular file under DIR (see README.md).
#
#   VENDOR=东华软件 PRODUCT=HIS VERSION=5.2.0 DELIVERY_ID=HIS-5.2.0-2026-11-01 \
#   DELIVERED_AT=2026-11-01T08:00:00Z sh canonical.sh DIR > canonical.txt
#
# Needs a POSIX shell, find, sort, wc and OpenSSL 1.1.1 or later (for SM3). File names
# must not contain a tab, a newline or a backslash, and DIR must hold only the artifacts.
set -eu
dir=${1:?usage: canonical.sh DIR}
printf 'medguard.delivery/v1\n'
printf 'vendor\t%s\n' "${VENDOR:?}"
printf 'product\t%s\n' "${PRODUCT:?}"
printf 'version\t%s\n' "${VERSION:?}"
printf 'delivery_id\t%s\n' "${DELIVERY_ID:?}"
printf 'delivered_at\t%s\n' "${DELIVERED_AT:?}"
cd "$dir"
find . -type f | sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r name; do
	size=$(wc -c < "./$name" | tr -d ' ')
	sha256=$(openssl dgst -sha256 -r "./$name" | cut -d ' ' -f 1)
	sm3=$(openssl dgst -sm3 -r "./$name" | cut -d ' ' -f 1)
	printf 'artifact\t%s\t%s\t%s\t%s\n' "$name" "$size" "$sha256" "$sm3"
done
