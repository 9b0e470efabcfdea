#!/bin/bash
# Installs the page the file provisioner uploaded, and records what was built.
set -euo pipefail
test -s /tmp/index.html
mkdir -p "$HOME/site"
install -m 0644 /tmp/index.html "$HOME/site/index.html"
sha256sum "$HOME/site/index.html" | cut -d' ' -f1 > "$HOME/site/index.sha256"
echo "installed site version ${APP_VERSION} ($(wc -c < "$HOME/site/index.html") bytes)"
