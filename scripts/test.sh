#!/usr/bin/env bash
# Install the package with its test extras, make sure Debian's chromium (browser
# test), a CJK TrueType font and poppler-utils (PDF report test) are present, and
# run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/pdftoppm ] || [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
    if [ "$(id -u)" = "0" ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fonts-wqy-microhei poppler-utils >/dev/null
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fonts-wqy-microhei poppler-utils >/dev/null
    else
        echo "warning: chromium, fonts-wqy-microhei or poppler-utils is missing and cannot be installed without root; tests needing them will be skipped" >&2
    fi
fi

set +e
python3 -m pytest "$@"
rc=$?
set -e
if [ "$rc" = "5" ]; then
    echo "error: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
