#!/usr/bin/env bash
# Give a development checkout its own secret key in instance/config.py, once.
set -euo pipefail
mkdir -p instance
if [[ ! -f instance/config.py ]]; then
  key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  printf '# Local settings of this checkout; not in version control.\nSECRET_KEY = "%s"\n' "$key" > instance/config.py
  echo "Wrote instance/config.py with a new secret key."
fi
