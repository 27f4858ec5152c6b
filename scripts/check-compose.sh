#!/usr/bin/env bash
# Checks that the Docker Compose on this host can read gridwatch's compose files: they use
# env_file entries with `path:`/`required:` (Compose 2.24) and secrets from the environment
# (2.6). The old Python docker-compose 1.x (Debian 12's package) rejects them with
# "env_file contains {...} which is an invalid type"; this says so plainly instead.
set -euo pipefail

MINIMUM=2.24.0

version=""
if docker compose version --short >/dev/null 2>&1; then
    version=$(docker compose version --short)
elif command -v docker-compose >/dev/null 2>&1; then
    version=$(docker-compose version --short 2>/dev/null || true)
fi
version=${version#v}

if [[ -z "$version" ]]; then
    echo "Docker Compose not found: gridwatch needs Docker Compose >= $MINIMUM (docs/docker.md)." >&2
    exit 1
fi

lowest=$(printf '%s\n%s\n' "$MINIMUM" "$version" | sort -V | head -n 1)
if [[ "$lowest" != "$MINIMUM" ]]; then
    cat >&2 <<MSG
Docker Compose $version is too old for gridwatch's docker-compose.yml: it needs >= $MINIMUM.
Debian 12's docker-compose package is 1.29 and cannot read the file. Install the Compose
plugin from Docker's apt repository (package docker-compose-plugin) and use \`docker compose\`;
docs/docker.md has the steps.
MSG
    exit 1
fi
echo "Docker Compose $version: OK (gridwatch needs >= $MINIMUM)"
