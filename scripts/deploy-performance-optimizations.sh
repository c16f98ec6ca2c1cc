#!/usr/bin/env bash
# Rolls the optimized flight-search path out (or edits traffic flags). A thin wrapper: the work is
# done by scripts/rollout/main.ts under the Deno that npm installed. Run with -h for the options.
# Exit codes: 0 promoted, 1 rolled back, 2 usage or configuration error, 3 precondition failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deno="$root/node_modules/.bin/deno"
if [[ ! -x "$deno" ]]; then
  echo "error: $deno not found: run \`npm install\` in $root first" >&2
  exit 3
fi

# deno.json is the project's configuration; package.json only brings the binaries through npm.
export DENO_NO_PACKAGE_JSON=1
# exec keeps the exit code and lets Ctrl-C reach the CLI, which rolls back before exiting.
exec "$deno" run --allow-all --quiet --no-prompt --config "$root/deno.json" "$root/scripts/rollout/main.ts" "$@"
