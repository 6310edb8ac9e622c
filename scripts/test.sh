#!/usr/bin/env bash
# Install everything the tests need and run the whole suite, failing fast:
#   system packages (apt) -> .venv + pip install -c constraints.txt -e '.[test]' -> ruff -> mypy
#   -> Django checks -> pytest on SQLite -> pytest on a throwaway PostgreSQL.
#
# Usage: bash scripts/test.sh        (CI runs it through .ci/run)
# Environment:
#   CHROMIUM=/path/to/chrome  use this browser instead of Debian's /usr/bin/chromium
#   IVIG_PIP_ALWAYS=1         run pip even when pyproject.toml has not changed
#   IVIG_TEST_TIMEOUT=SECONDS limit for each pytest pass (default 1800)
# Idempotent: a second run installs nothing new. Screenshots and other files the
# tests save go to test-artifacts/ (git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
unset DATABASE_URL  # the SQLite passes must not pick up a developer's database
T_START=$(date +%s)
TIMINGS=()

stage() { STAGE=$1; STAGE_T0=$(date +%s.%N); printf '\n==> %s\n' "$STAGE"; }
done_stage() {
    local dt
    dt=$(awk -v a="$STAGE_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    TIMINGS+=("$STAGE ${dt}s")
    printf '    ok: %s (%ss)%s\n' "$STAGE" "$dt" "${1:+ - $1}"
}
fail() {  # fail EXIT_CODE MESSAGE
    printf '\ntest.sh: FAILED at stage "%s": %s (exit %s)\n' "$STAGE" "$2" "$1" >&2
    exit "$1"
}

# Scratch space (PostgreSQL cluster, reports, data dir); removed on exit.
TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/ivig-test.XXXXXX")
chmod 0755 "$TMPROOT"  # the postgres OS user must be able to reach its data dir
export IVIG_PGDIR=$TMPROOT/pg
: "${IVIG_DATA_DIR:=$TMPROOT/data}"
export IVIG_DATA_DIR
mkdir -p "$IVIG_DATA_DIR"
cleanup() {
    bash "$ROOT/scripts/pg.sh" down >/dev/null 2>&1 || true
    rm -rf "$TMPROOT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. system packages ------------------------------------------------------
stage "system packages (apt)"
# WeasyPrint (PDFs): libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core
# translations: gettext (compilemessages); database tests: postgresql (initdb/pg_ctl, scripts/pg.sh)
# PDF checks and screenshots: poppler-utils (pdftoppm, pdftotext)
# browser tests: chromium (Debian's; Playwright never downloads one) and libatomic1, which
#   Playwright's bundled Node driver links against (absent from a bare Debian 12: issue 7)
PKGS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core
      gettext postgresql poppler-utils libatomic1)
if [ -n "${CHROMIUM:-}" ]; then
    [ -x "$CHROMIUM" ] || fail 1 "CHROMIUM=$CHROMIUM is not an executable"
else
    PKGS+=(chromium)
fi
MISSING=()
for p in "${PKGS[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || MISSING+=("$p")
done
if [ "${#MISSING[@]}" -eq 0 ]; then
    done_stage "all ${#PKGS[@]} packages already installed"
elif [ "$(id -u)" = 0 ]; then
    echo "    installing: ${MISSING[*]}"
    APT=(apt-get -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
    "${APT[@]}" update -qq >"$TMPROOT/apt.log" 2>&1 \
        || { cat "$TMPROOT/apt.log" >&2; fail 1 "apt-get update failed"; }
    "${APT[@]}" install -y -qq --no-install-recommends "${MISSING[@]}" >>"$TMPROOT/apt.log" 2>&1 \
        || { tail -n 40 "$TMPROOT/apt.log" >&2; fail 1 "apt-get install failed"; }
    done_stage "installed ${#MISSING[@]}"
else
    echo "    WARNING: not root, cannot install: ${MISSING[*]}"
    echo "    (ask an administrator: apt-get install --no-install-recommends ${MISSING[*]})"
    done_stage "skipped (not root)"
fi
CHROME=${CHROMIUM:-/usr/bin/chromium}

# --- 2. Python environment -----------------------------------------------------
stage "python venv + pip install -c constraints.txt -e '.[test]'"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail 1 "python3 >= 3.11 required, found $(python3 --version 2>&1)"
[ -x .venv/bin/python ] || python3 -m venv .venv || fail 1 "python3 -m venv .venv failed"
PY=$ROOT/.venv/bin/python
STAMP_KEY="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1) $("$PY" -V 2>&1)"
if [ -z "${IVIG_PIP_ALWAYS:-}" ] && [ "$(cat .venv/.ivig-stamp-test 2>/dev/null)" = "$STAMP_KEY" ]; then
    done_stage "up to date (pyproject.toml and constraints.txt unchanged)"
else
    "$PY" -m pip install -q -c constraints.txt -e '.[test]' >"$TMPROOT/pip.log" 2>&1 \
        || { tail -n 40 "$TMPROOT/pip.log" >&2; fail 1 "pip install failed"; }
    # show real warnings, not the machine's notes about absent local index folders
    grep -v -e "^WARNING: Location 'file:" -e BuildBackendWarning -e "return '.n'.join" \
        "$TMPROOT/pip.log" | sed 's/^/    pip: /' || true
    printf '%s\n' "$STAMP_KEY" >.venv/.ivig-stamp-test
    done_stage
fi

HAS_WEB=
[ -f src/ivig/web/settings.py ] && HAS_WEB=1

# --- 3. lint and types ---------------------------------------------------------
stage "ruff"
LINT_DIRS=()
for d in src tests benchmarks; do
    if [ -d "$d" ]; then LINT_DIRS+=("$d"); fi
done
.venv/bin/ruff check -q "${LINT_DIRS[@]}" || fail $? "ruff check ${LINT_DIRS[*]}"
done_stage

stage "mypy"
if [ -n "$HAS_WEB" ]; then
    .venv/bin/mypy || fail $? "mypy"
else
    # Before the web app exists, the django-stubs plugin cannot load ivig.web.settings:
    # same configuration without the plugin.
    sed -e '/^plugins *= *\[.*mypy_django_plugin/d' pyproject.toml >"$TMPROOT/mypy.toml"
    .venv/bin/mypy --config-file "$TMPROOT/mypy.toml" || fail $? "mypy"
fi
done_stage

# --- 4. Django -----------------------------------------------------------------
PYTEST_DJANGO=()
if [ -n "$HAS_WEB" ]; then
    stage "django check / makemigrations --check / compilemessages"
    DJ=("$PY" -m django)
    S=--settings=ivig.web.settings
    "${DJ[@]}" check "$S" || fail $? "manage check"
    "${DJ[@]}" makemigrations --check --dry-run "$S" || fail $? "missing migrations (makemigrations --check)"
    if [ -n "$(find src/ivig -type d -name locale -print -quit)" ]; then
        (cd src/ivig && "${DJ[@]}" compilemessages -v 0 "$S") || fail $? "compilemessages"
        done_stage
    else
        done_stage "no locale/ folders yet, compilemessages skipped"
    fi
else
    echo
    echo "==> django checks skipped: src/ivig/web/settings.py does not exist yet"
    PYTEST_DJANGO=(-p no:django)
fi

# --- 5. browser smoke ------------------------------------------------------------
stage "chromium"
if [ -x "$CHROME" ]; then
    CHROME_V=$("$CHROME" --version 2>/dev/null | head -n 1)
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --dump-dom 'data:text/html,<p>chromium-ok</p>' >"$TMPROOT/chromium.out" 2>"$TMPROOT/chromium.log" \
        && grep -q chromium-ok "$TMPROOT/chromium.out" \
        || { tail -n 20 "$TMPROOT/chromium.log" >&2; fail 1 "$CHROME does not start headless"; }
    # The same browser through Playwright's own Node driver, which needs system libraries of
    # its own (libatomic1): fail here with the reason rather than as 3 errors inside pytest.
    CHROMIUM_PATH=$CHROME timeout 120 "$PY" - >"$TMPROOT/playwright.log" 2>&1 <<'PYEOF' \
        || { tail -n 20 "$TMPROOT/playwright.log" >&2; fail 1 "Playwright cannot drive $CHROME"; }
import os
from playwright.sync_api import sync_playwright

with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path=os.environ["CHROMIUM_PATH"], headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    page = browser.new_page()
    page.set_content("<p>playwright-ok</p>")
    assert page.text_content("p") == "playwright-ok"
    browser.close()
PYEOF
    done_stage "$CHROME_V; Playwright driver ok"
elif [ "${CI:-}" = true ]; then
    fail 1 "no Chromium at $CHROME (browser tests must run in CI)"
else
    done_stage "WARNING: no Chromium at $CHROME; browser tests will be skipped"
fi

# --- 6. pytest on SQLite -------------------------------------------------------
PYTEST=(timeout --kill-after=30 "${IVIG_TEST_TIMEOUT:-1800}" "$PY" -m pytest -p no:cacheprovider
        "${PYTEST_DJANGO[@]}" --screenshot=only-on-failure)
REPORTS=()

stage "pytest (SQLite, whole suite)"
rc=0
"${PYTEST[@]}" --output=test-artifacts/playwright-sqlite --junitxml="$TMPROOT/sqlite.xml" || rc=$?
if [ -f "$TMPROOT/sqlite.xml" ]; then REPORTS+=("$TMPROOT/sqlite.xml"); fi
case $rc in
    0) done_stage ;;
    5) done_stage "no tests collected" ;;
    124|137) fail "$rc" "pytest timed out" ;;
    *) fail "$rc" "pytest on SQLite" ;;
esac

# --- 7. pytest on PostgreSQL -----------------------------------------------------
stage "pytest (PostgreSQL)"
bash scripts/pg.sh up || fail $? "could not start PostgreSQL"
eval "$(bash scripts/pg.sh env)"
echo "    DATABASE_URL=$DATABASE_URL"
if [ -d tests/web ]; then
    rc=0
    "${PYTEST[@]}" -m "not nopostgres" --output=test-artifacts/playwright-postgres \
        --junitxml="$TMPROOT/postgres.xml" tests/web || rc=$?
    if [ -f "$TMPROOT/postgres.xml" ]; then REPORTS+=("$TMPROOT/postgres.xml"); fi
    case $rc in
        0) done_stage ;;
        5) done_stage "no database tests yet (pytest collected none in tests/web)" ;;
        124|137) fail "$rc" "pytest timed out" ;;
        *) fail "$rc" "pytest on PostgreSQL" ;;
    esac
else
    done_stage "no database tests yet (tests/web does not exist); PostgreSQL start/stop checked"
fi
bash scripts/pg.sh down
unset DATABASE_URL

# --- summary -----------------------------------------------------------------------
echo
echo "==> timings"
for t in "${TIMINGS[@]}"; do echo "    $t"; done
echo "    total $(( $(date +%s) - T_START ))s"
if [ -d test-artifacts ]; then
    echo "    artefacts: $ROOT/test-artifacts ($(find test-artifacts -type f | wc -l) files)"
fi
# Closing line, counted over both pytest passes.
"$PY" - "${REPORTS[@]}" <<'EOF'
import sys
import xml.etree.ElementTree as ET

n = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        for key in n:
            n[key] += int(suite.get(key, 0))
failed = n["failures"] + n["errors"]
passed = n["tests"] - failed - n["skipped"]
print(f"summary: {passed} passed, {failed} failed, {n['skipped']} skipped")
EOF
