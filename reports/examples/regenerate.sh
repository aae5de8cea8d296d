#!/bin/sh
# Regenerates the sample report in reports/examples/sample/ from fixtures/csv/sample, and the
# screenshot of its HTML page taken in headless Chromium (reports/examples/sample-report.png).
#
#   reports/examples/regenerate.sh
#
# Needs chromium and playwright-core for the screenshot (as .ci/run installs them:
# `apt-get install chromium`, `npm install playwright-core` into $DORA_BROWSER_MODULES, default
# /var/tmp/dora-browser). A test (tests/cli/report.rs) fails when the committed report is not
# what this command produces.
set -eu
cd "$(dirname "$0")/../.."
rm -rf reports/examples/sample
cargo run --quiet -- report --input fixtures/csv/sample --week 2026-W17 --by repo \
    --tz America/Los_Angeles --png --out reports/examples/sample
modules="${DORA_BROWSER_MODULES:-/var/tmp/dora-browser}/node_modules"
NODE_PATH="$modules" node tests/browser/check-report.cjs \
    reports/examples/sample/report.html reports/examples/sample-report.png > /dev/null
echo "reports/examples/sample/ and reports/examples/sample-report.png regenerated"
