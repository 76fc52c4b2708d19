#!/usr/bin/env bash
# The gateway's benchmark: req/s, p50, p99 and max for a delayed send_event and for a restart,
# against an nginx stub homeserver that is never the bottleneck, through a plain nginx reverse
# proxy (the floor for any proxy) and through the gateway; then the gateway/proxy ratio, time to
# ready and resident memory. Everything runs on this machine, on loopback.
#
#   bench/run.sh                      # 200 widgets, 32 connections, 2 min warm-up, 30 s a row
#                                     # (C2 is still compiling after one minute on two cores)
#   WIDGETS=2000 bench/run.sh         # cost per request should not grow with the widgets
#   DURATION=10s WARMUP=20s bench/run.sh
#   GATEWAY_JAVA_OPTS='-Xmx512m' bench/run.sh      # other JVM options than the Dockerfile's
#   STALLED=0 bench/run.sh            # leave out the isolation rows
#   READY_ONLY=5 WIDGETS=2000 bench/run.sh   # only start the gateway 5 times and print each time to ready
#   JAR=/tmp/other.jar bench/run.sh   # measure another build (two shapes of the code, one after the other)
#
# Isolation: one more widget, whose room the stub homeserver answers only after 10 s, sends
# STALLED (1000) requests at once; meanwhile the other widgets' restarts are measured again. The
# gateway's response-timeout is RESPONSE_TIMEOUT (3s), so the stalled calls time out: the row shows
# whether one room's timeouts become every widget's failures. The warm-up runs that flood once too,
# so that the row measures the steady state, not the JIT compiling the refusal and timeout paths.
# The gateway is launched as the Dockerfile launches it: the extracted jar, an ahead-of-time cache
# from a training run with the same options, and the Dockerfile's JAVA_OPTS (with Spring AOT's
# bean set).
set -euo pipefail
cd "$(dirname "$0")/.."

WIDGETS=${WIDGETS:-200}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-120s}
DURATION=${DURATION:-30s}
STUB_PORT=${STUB_PORT:-18008}
PROXY_PORT=${PROXY_PORT:-18081}
GATEWAY_PORT=${GATEWAY_PORT:-18080}
STALL_PORT=${STALL_PORT:-18009}
STALLED=${STALLED:-1000}
READY_ONLY=${READY_ONLY:-0}
RESPONSE_TIMEOUT=${RESPONSE_TIMEOUT:-3s}

need() {
	command -v "$1" >/dev/null 2>&1 && return
	echo "Installing $2 (Debian package) ..." >&2
	if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq "$2" >/dev/null; fi
}
need nginx nginx-light
need wrk wrk
need curl curl
[ "$STALLED" = 0 ] || need python3 python3

jar=${JAR:-$(ls target/widget-gateway-*.jar 2>/dev/null | head -1 || true)}
if [ -z "${JAR:-}" ] && { [ -z "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit)" ]; }; then
	echo "Building the jar ..." >&2
	./mvnw -q -B -DskipTests package
	jar=$(ls target/widget-gateway-*.jar | head -1)
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The stub homeserver and the plain proxy: MSC4140 as Synapse serves it, with unique delay ids.
mkdir -p "$work/logs"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  upstream homeserver { server 127.0.0.1:$STUB_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$STUB_PORT;
    location ^~ /_matrix/client/v3/rooms/!stalled { proxy_pass http://127.0.0.1:$STALL_PORT; proxy_read_timeout 60s; }
    location = /_matrix/client/versions { return 200 '{"versions":["v1.12"],"unstable_features":{"org.matrix.msc4140":true}}'; }
    location = /_matrix/client/v3/capabilities { return 200 '{"capabilities":{"org.matrix.msc4140.delayed_events":{"max_delay_ms":86400000,"max_scheduled":1000000}}}'; }
    location = /_matrix/client/unstable/org.matrix.msc4140/delayed_events { return 200 '{"delayed_events":[]}'; }
    location /_matrix/client/unstable/org.matrix.msc4140/delayed_events/ { return 200 '{}'; }
    location /_matrix/client/v3/rooms/ { return 200 '{"delay_id":"syd_\$request_id"}'; }
  }
  server {
    listen 127.0.0.1:$PROXY_PORT;
    location / {
      proxy_pass http://homeserver;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
nginx -p "$work" -c nginx.conf

# The gateway: WIDGETS widgets with MatrixRTC grants, calling the stub.
{
	echo "gateway:"
	echo "  rate-limit:"
	echo "    requests: 1000000    # far above what the benchmark sends a widget: measure the gateway, not the limit"
	echo "  homeserver:"
	echo "    base-url: http://127.0.0.1:$STUB_PORT"
	echo "    access-token: bench-access-token"
	echo "    response-timeout: $RESPONSE_TIMEOUT"
	echo "  widgets:"
	echo "    stalled:"
	# Digests, as in production: a plain token must be 32 characters once a homeserver is set.
	echo "      token-sha256: $(printf %s bench-stalled-token | sha256sum | cut -d' ' -f1)"
	echo "      room-id: \"!stalled:localhost\""
	echo "      capabilities: [org.matrix.msc2762.send.event:m.room.message]"
	for i in $(seq 1 "$WIDGETS"); do
		echo "    w$i:"
		echo "      token-sha256: $(printf %s "bench-token-$i" | sha256sum | cut -d' ' -f1)"
		echo "      room-id: \"!bench:localhost\""
		echo "      capabilities: [org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member, org.matrix.msc4157.send.delayed_event, org.matrix.msc4157.update_delayed_event]"
	done
} >"$work/gateway.yaml"

dockerfile_opts=$(sed -n 's/^ENV JAVA_OPTS="\(.*\)"$/\1/p' Dockerfile)
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS-${dockerfile_opts//\/app\/app.aot/$work\/app\/app.aot}}
java -Djarmode=tools -jar "$jar" extract --destination "$work/app" --application-filename app.jar >/dev/null
app_jar="$work/app/app.jar"
if [[ " $GATEWAY_JAVA_OPTS " == *" -XX:AOTCache="* ]]; then
	# The Dockerfile's training run: the same options, writing the cache instead of reading it.
	echo "Training the ahead-of-time cache ..." >&2
	training_opts=${GATEWAY_JAVA_OPTS//-XX:AOTCache=/-XX:AOTCacheOutput=}
	# shellcheck disable=SC2086
	java ${training_opts} -Dspring.context.exit=onRefresh -jar "$app_jar" \
		--server.port=0 --gateway.homeserver.base-url=http://127.0.0.1:9 --gateway.homeserver.access-token=training \
		>"$work/logs/training.log" 2>&1
fi
start_gateway() { # starts the gateway and waits until it is ready; sets gateway and ready_ms
	local start
	start=$(date +%s%N)
	# shellcheck disable=SC2086
	java ${GATEWAY_JAVA_OPTS} -jar "$app_jar" --spring.config.additional-location="$work/gateway.yaml" \
		--server.port="$GATEWAY_PORT" --logging.level.root=WARN >"$work/logs/gateway.log" 2>&1 &
	gateway=$!
	pids+=("$gateway")
	until curl -sf "http://127.0.0.1:$GATEWAY_PORT/actuator/health/readiness" >/dev/null; do
		kill -0 "$gateway" 2>/dev/null || { cat "$work/logs/gateway.log" >&2; exit 1; }
		sleep 0.05
	done
	ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if grep -q 'Unable to use AOT cache' "$work/logs/gateway.log"; then
		echo "The gateway started without its ahead-of-time cache, so its time to ready is not the production launch's:" >&2
		grep -i 'AOT' "$work/logs/gateway.log" | head -3 >&2
	fi
}

if [ "$READY_ONLY" != 0 ]; then
	echo "Widget Gateway time to ready: $WIDGETS widgets, $READY_ONLY starts"
	echo "Gateway JVM options: ${GATEWAY_JAVA_OPTS:-(none)}" | sed "s#$work#.#g"
	for _ in $(seq 1 "$READY_ONLY"); do
		start_gateway
		echo "ready after: ${ready_ms} ms (process start to readiness UP)"
		kill "$gateway"
		wait "$gateway" 2>/dev/null || true
	done
	exit 0
fi
start_gateway

measure() { # target url duration -> "req/s p50 p99 max non2xx errors"
	BENCH_TARGET=$1 BENCH_WIDGETS=$WIDGETS BENCH_IDS="$work/ids.txt" \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" -s bench/wrk.lua "$2" | sed -n 's/^RESULT //p'
}

if [ "$STALLED" != 0 ]; then
	python3 bench/stall.py serve "$STALL_PORT" 10 &
	pids+=("$!")
	sleep 1
	# The warm-up also runs the isolation row's paths once (the in-flight refusal, the
	# timeout): the first time they run, the JIT recompiles code every request shares, and
	# the row would measure that instead of the steady state.
	python3 bench/stall.py flood "http://127.0.0.1:$GATEWAY_PORT/v1/send_event" bench-stalled-token "$STALLED" \
		>/dev/null &
fi
echo "Warming up the gateway for $WARMUP ..." >&2
measure gateway-send "http://127.0.0.1:$GATEWAY_PORT" "$WARMUP" >/dev/null

declare -A rows
for action in send restart; do
	if [ "$action" = restart ]; then
		# One delayed leave per widget, for the restarts.
		for i in $(seq 1 "$WIDGETS"); do
			answer=$(curl -s "http://127.0.0.1:$GATEWAY_PORT/v1/send_event" -H "Authorization: Bearer bench-token-$i" \
				-H 'Content-Type: application/json' \
				-d '{"type":"org.matrix.msc3401.call.member","state_key":"_@bench:localhost_DEV_m.call","content":{},"delay":8000}')
			id=$(echo "$answer" | sed -n 's/.*"delay_id":"\([^"]*\)".*/\1/p')
			[ -n "$id" ] || { echo "Scheduling a leave for widget $i failed: $answer" >&2; exit 1; }
			echo "bench-token-$i $id"
		done >"$work/ids.txt"
		measure gateway-restart "http://127.0.0.1:$GATEWAY_PORT" 20s >/dev/null
	fi
	echo "Measuring $action for $DURATION each ..." >&2
	rows[stub-$action]=$(measure "homeserver-$action" "http://127.0.0.1:$STUB_PORT" "$DURATION")
	rows[proxy-$action]=$(measure "homeserver-$action" "http://127.0.0.1:$PROXY_PORT" "$DURATION")
	rows[gateway-$action]=$(measure "gateway-$action" "http://127.0.0.1:$GATEWAY_PORT" "$DURATION")
done
if [ "$STALLED" != 0 ]; then
	echo "Measuring restart while one widget has $STALLED requests on a room that answers after 10 s (response-timeout $RESPONSE_TIMEOUT) ..." >&2
	python3 bench/stall.py flood "http://127.0.0.1:$GATEWAY_PORT/v1/send_event" bench-stalled-token "$STALLED" \
		>"$work/stalled.txt" &
	flood=$!
	sleep 2
	rows[gateway-isolation]=$(measure gateway-restart "http://127.0.0.1:$GATEWAY_PORT" 7s)
	wait "$flood"
fi
rss_mb=$(( $(ps -o rss= -p "$gateway") / 1024 ))

echo
echo "Widget Gateway benchmark: $WIDGETS widgets, wrk -t$THREADS -c$CONNECTIONS, ${DURATION} a row after ${WARMUP} of warm-up"
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(java -version 2>&1 | head -1)"
echo "Gateway JVM options: ${GATEWAY_JAVA_OPTS:-(none)}" | sed "s#$work#.#g"
echo
printf '| %-8s | %-28s | %9s | %8s | %8s | %8s | %7s | %6s |\n' action path "req/s" "p50 ms" "p99 ms" "max ms" non-2xx errors
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ------------------------------ ----------: ---------: ---------: ---------: --------: -------:
for action in send restart; do
	for path in stub proxy gateway; do
		read -r rps p50 p99 max non2xx errors <<<"${rows[$path-$action]}"
		case $path in
			stub) label="nginx answering directly" ;;
			proxy) label="nginx as a plain proxy" ;;
			gateway) label="the gateway" ;;
		esac
		printf '| %-8s | %-28s | %9s | %8s | %8s | %8s | %7s | %6s |\n' "$action" "$label" "$rps" "$p50" "$p99" "$max" "$non2xx" "$errors"
	done
done
if [ "$STALLED" != 0 ]; then
	read -r rps p50 p99 max non2xx errors <<<"${rows[gateway-isolation]}"
	printf '| %-8s | %-28s | %9s | %8s | %8s | %8s | %7s | %6s |\n' restart "the gateway, 1 widget stalled" "$rps" "$p50" "$p99" "$max" "$non2xx" "$errors"
	echo
	echo "The stalled widget's $STALLED requests (room answers after 10 s, response-timeout $RESPONSE_TIMEOUT) were answered (HTTP status:count): $(cat "$work/stalled.txt")"
	read -r _ _ calm_p99 _ <<<"${rows[gateway-restart]}"
	echo "p99 of the other widgets' restarts, stalled/unstalled: $(awk -v s="$p99" -v c="$calm_p99" 'BEGIN { printf "%.2f", s / c }')"
fi
echo
for action in send restart; do
	read -r proxy_rps _ <<<"${rows[proxy-$action]}"
	read -r gateway_rps _ <<<"${rows[gateway-$action]}"
	echo "gateway/proxy ($action): $(awk -v g="$gateway_rps" -v p="$proxy_rps" 'BEGIN { printf "%.3f", g / p }')"
done
echo "ready after: ${ready_ms} ms (process start to readiness UP)"
echo "resident memory after the runs: ${rss_mb} MB"
