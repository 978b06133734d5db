#!/usr/bin/env bash
# Sends one signed generic webhook:
#   scripts/send-webhook.sh URL SECRET EMAIL [REASON]
# The signature is Offboarder-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>.
set -euo pipefail
url=${1:?url}; secret=${2:?secret}; email=${3:?email}; reason=${4:-terminated}
id="demo-$(date +%s%N)"
body=$(printf '{"id":"%s","email":"%s","reason":"%s"}' "$id" "$email" "$reason")
t=$(date +%s)
sig=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret" -hex | sed 's/^.*= //')
curl -sS -X POST "$url" -H 'Content-Type: application/json' \
  -H "Offboarder-Signature: t=$t,v1=$sig" --data-binary "$body" -w '\n(HTTP %{http_code})\n'
