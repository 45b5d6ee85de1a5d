#!/usr/bin/env bash
# The project's main command: the local stack on its embedded defaults (README, SPEC §9).
# Every route on 127.0.0.1:${PORT:-3000}, the WhatsApp Cloud API simulator on
# 127.0.0.1:${SIM_PORT:-3001}, an in-memory store (DYNAMODB_ENDPOINT=http://… for DynamoDB Local).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run --release -p intaj-dev "$@"
