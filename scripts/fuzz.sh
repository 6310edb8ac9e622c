#!/usr/bin/env bash
# The long fuzz run (issue 10): the same hypothesis tests as CI, with many more examples.
#
# Usage: bash scripts/fuzz.sh [EXAMPLES]     (default 500; CI runs 8 for the CLI, 3 for the web)
#   tests/test_fuzz_cli.py        ivig plan / compare / triage on mutated documents
#   tests/web/test_fuzz_forms.py  every form of the web app, posted with hostile values
# Prints pytest's summary; any 5xx or traceback fails with the example that caused it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export IVIG_FUZZ_EXAMPLES=${1:-500}
unset DATABASE_URL
start=$(date +%s)
.venv/bin/python -m pytest -p no:cacheprovider -q tests/test_fuzz_cli.py tests/web/test_fuzz_forms.py
echo "fuzz.sh: $IVIG_FUZZ_EXAMPLES examples per test, $(( $(date +%s) - start ))s"
