#!/usr/bin/env bash
# Install the runtime and run the web app (SQLite) at http://127.0.0.1:8000.
#
# Usage: bash scripts/serve.sh [ivig serve options...]
#   1. system libraries for PDFs and translations (apt, only as root, only if missing)
#   2. .venv with python3 (>= 3.11) and `pip install -c constraints.txt -e .` (the exact
#      versions of scripts/lock.sh; skipped when pyproject.toml and constraints.txt have not
#      changed since the last install; IVIG_PIP_ALWAYS=1 forces it)
#   3. exec .venv/bin/ivig serve "$@"  (migrates the database, then serves with gunicorn)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf 'serve.sh: %s\n' "$*"; }
die() { printf 'serve.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# 1. System packages: WeasyPrint's libraries and fonts, gettext for translations.
PKGS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core gettext)
MISSING=()
for p in "${PKGS[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || MISSING+=("$p")
done
if [ "${#MISSING[@]}" -eq 0 ]; then
    say "system packages: present"
elif [ "$(id -u)" = 0 ]; then
    say "system packages: installing ${MISSING[*]}"
    log=$(mktemp)
    { apt-get -q -o DPkg::Lock::Timeout=600 update -qq \
        && apt-get -q -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${MISSING[@]}"; } \
        >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "apt-get install failed"; }
    rm -f "$log"
else
    say "WARNING: not root, skipping apt; missing: ${MISSING[*]}"
    say "         PDF export needs them: sudo apt-get install --no-install-recommends ${MISSING[*]}"
fi

# 2. Python environment.
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "python3 >= 3.11 required, found $(python3 --version 2>&1)"
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
fi
KEY="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1) $(.venv/bin/python -V 2>&1)"
if [ -z "${IVIG_PIP_ALWAYS:-}" ] && [ -x .venv/bin/ivig ] \
    && grep -qxF "$KEY" .venv/.ivig-stamp-runtime .venv/.ivig-stamp-test 2>/dev/null; then
    say "python packages: up to date"
else
    say "python packages: pip install -c constraints.txt -e . (about a minute the first time)"
    log=$(mktemp)
    .venv/bin/python -m pip install -q -c constraints.txt -e . >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "pip install failed"; }
    grep -v -e "^WARNING: Location 'file:" -e BuildBackendWarning -e "return '.n'.join" "$log" || true
    rm -f "$log"
    printf '%s\n' "$KEY" >.venv/.ivig-stamp-runtime
fi

# 3. Run.
say "starting: ivig serve $*"
exec .venv/bin/ivig serve "$@"
