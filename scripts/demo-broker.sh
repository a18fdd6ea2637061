#!/usr/bin/env bash
# Starts Debian's mosquitto on 127.0.0.1:PORT for the demo (`make run`), unless something
# already answers there. Plain, anonymous, loopback only, no persistence; it keeps running
# after the demo (stop it with: kill "$(cat data/mosquitto/mosquitto.pid)").
set -euo pipefail
PORT="${1:-1883}"
DIR="$(pwd)/data/mosquitto"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  exit 0  # a broker (or something) is already there
fi
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  echo "demo-broker: mosquitto is not installed (scripts/install-deps.sh installs it); the MQTT parts of the demo will retry" >&2
  exit 0
fi
mkdir -p "$DIR"
cat > "$DIR/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
pid_file $DIR/mosquitto.pid
log_dest file $DIR/mosquitto.log
user $(id -un)
CONF
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -d -c "$DIR/mosquitto.conf"
for _ in $(seq 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "demo-broker: mosquitto on 127.0.0.1:$PORT (pid $(cat "$DIR/mosquitto.pid"))"
    exit 0
  fi
  sleep 0.1
done
echo "demo-broker: mosquitto did not start; see $DIR/mosquitto.log" >&2
exit 1
