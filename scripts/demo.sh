#!/usr/bin/env bash
# Runs the appliance on a development configuration with a generated master key, shows what a
# sysadmin sees, and stops it. Everything lives under .demo/ and is made anew each run.
set -euo pipefail

bin=${1:?usage: demo.sh path/to/diala-edge}
cd "$(dirname "$0")/.."
demo=$PWD/.demo
rm -rf "$demo"
mkdir -p "$demo/secrets"
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
