#!/bin/bash
# Installs the page the file provisioner uploaded, and records what was built.
set -euo pipefail
test -s /tmp/index.html
mkdir -p "/srv/site"
install -m 0644 /tmp/index.html "/srv/site/index.html"
sha256sum "/srv/site/index.html" | cut -d' ' -f1 > "/srv/site/index.sha256"
echo "installed site version ${APP_VERSION} ($(wc -c < "/srv/site/index.html") bytes)"
