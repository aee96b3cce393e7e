#!/usr/bin/env bash
# Fetch the browser assets of the offline map from the npm registry and copy
# the files the map needs (with their licences) into coverage/static/.
#
#   scripts/vendor_assets.sh            # refresh coverage/static/
#
# Needs npm (any version >= 7). Only the npm registry is contacted; the
# integrity (sha512) of every tarball is checked by npm and recorded in
# coverage/static/VENDORED.txt together with the sha256 of every copied file.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="$HERE/../coverage/static"
LEAFLET_VERSION="1.9.4"
JQUERY_VERSION="3.7.1"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

npm pack --json "leaflet@${LEAFLET_VERSION}" "jquery@${JQUERY_VERSION}" > pack.json
mkdir leaflet jquery
tar xzf "leaflet-${LEAFLET_VERSION}.tgz" -C leaflet
tar xzf "jquery-${JQUERY_VERSION}.tgz" -C jquery

rm -rf "$DEST/leaflet" "$DEST/jquery"
mkdir -p "$DEST/leaflet/images" "$DEST/jquery"
cp leaflet/package/dist/leaflet.js leaflet/package/dist/leaflet.css "$DEST/leaflet/"
cp leaflet/package/dist/images/*.png "$DEST/leaflet/images/"
cp leaflet/package/LICENSE "$DEST/leaflet/LICENSE"
cp jquery/package/dist/jquery.min.js "$DEST/jquery/"
cp jquery/package/LICENSE.txt "$DEST/jquery/LICENSE.txt"

# Source maps are not shipped: drop the trailing sourceMappingURL comments so
# that browser developer tools do not try to fetch them.
sed -i -E '/^\/\/# sourceMappingURL=.*$/d' "$DEST/leaflet/leaflet.js" "$DEST/jquery/jquery.min.js"

{
  echo "Browser assets of the offline map, copied from the npm registry by"
  echo "scripts/vendor_assets.sh (do not edit by hand)."
  echo
  python3 - pack.json <<'PY'
import json, sys
for entry in json.load(open(sys.argv[1])):
    print(f"{entry['id']}  {entry['integrity']}")
PY
  echo
  echo "sha256 of the copied files:"
  (cd "$DEST" && find leaflet jquery -type f | LC_ALL=C sort | xargs sha256sum)
} > "$DEST/VENDORED.txt"

echo "vendored into $DEST"
