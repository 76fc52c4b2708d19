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
#   REPLICAS=2 STALLED=0 bench/run.sh # also what the shared store costs: gateways on Redis (below)
#
# Isolation: one more widget, whose room the stub homeserver answers only after 10 s, sends
# STALLED (1000) requests at once; meanwhile the other widgets' restarts are measured again. The
# gateway's response-timeout is RESPONSE_TIMEOUT (3s), so the stalled calls time out: the row shows
# whether one room's timeouts become every widget's failures. The warm-up runs that flood once too,
# so that the row measures the steady state, not the JIT compiling the refusal and timeout paths.
# The gateway is launched as the Dockerfile launches it: the extracted jar, an ahead-of-time cache
# from a training run with the same options, and the Dockerfile's JAVA_OPTS (with Spring AOT's
# bean set).
#
# The shared store (REPLICAS=2, or more): after the rows above, the in-memory gateway keeps running
# and REPLICAS-1 more start in memory (each with a store of its own, nothing shared) behind an nginx
# round-robin upstream (MEMORY_FRONT_PORT); a Redis server starts on loopback (Debian's
# redis-server, no persistence: --save '' --appendonly no), then REPLICAS gateways with
# gateway.store=redis (REPLICA_PORT, REPLICA_PORT+1, ...) behind another upstream (FRONT_PORT), as
# replicas run behind a load balancer that is not sticky. Each new gateway warms up alone for
# WARMUP. Then, for each action, ROUNDS (3) rounds of four rows taken in turn: one gateway in
# memory, one on Redis (the store's cost without the extra hop), the replicas in memory behind
# nginx and the replicas on Redis behind nginx; each path's median is reported, with the ratios on
# Redis / in memory and the CPU time per request of the gateways and Redis (from /proc: on a
# machine shared with other work, steadier than req/s). Taking the rows in turn while every
# gateway runs matters on a VM whose speed drifts by tens of percent from minute to minute: rows
# measured minutes apart compare the minutes, not the stores. The mode adds a row set to every
# gateway: "keyed", sends with a new Idempotency-Key each, since only they use the idempotency
# records (every /v1 request takes from the rate budget; a send records its delay id, a restart
# touches it). Redis, the gateways, nginx and wrk all share this machine's cores: on two cores, two
# replicas get no more CPU than one gateway, so the replica rows show the cost of sharing, not a
# gain from scaling out. About (2 x REPLICAS - 1) x WARMUP + 4 x ROUNDS x 3 x DURATION + 3 min
# longer than without.
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
REPLICAS=${REPLICAS:-1}
REDIS_PORT=${REDIS_PORT:-18379}
FRONT_PORT=${FRONT_PORT:-18082}
REPLICA_PORT=${REPLICA_PORT:-18090}
MEMORY_FRONT_PORT=${MEMORY_FRONT_PORT:-18083}
MEMORY_REPLICA_PORT=${MEMORY_REPLICA_PORT:-18100}
ROUNDS=${ROUNDS:-3}
[[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || { echo "REPLICAS must be a whole number of 1 or more: $REPLICAS" >&2; exit 2; }

need() {
	command -v "$1" >/dev/null 2>&1 && return
	echo "Installing $2 (Debian package) ..." >&2
	if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq "$2" >/dev/null; fi
}
need nginx nginx-light
need wrk wrk
need curl curl
[ "$STALLED" = 0 ] || need python3 python3
[ "$REPLICAS" = 1 ] || need redis-server redis-server

jar=${JAR:-$(ls target/widget-gateway-*.jar 2>/dev/null | head -1 || true)}
if [ -z "${JAR:-}" ] && { [ -z "$jar" ] || [ -n "$(find src/main pom.xml -newer "$jar" -print -quit)" ]; }; then
	echo "Building the jar ..." >&2
	# clean: Spring AOT's generated sources of a removed class would otherwise stay in the jar
	./mvnw -q -B -DskipTests -Dspring-javaformat.skip=true clean package
	jar=$(ls target/widget-gateway-*.jar | head -1)
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# The stub homeserver and the plain proxy: MSC4140 as Synapse serves it, with unique delay ids.
mkdir -p "$work/logs"
front=""
if [ "$REPLICAS" != 1 ]; then
	# Round-robin over the replicas, as a load balancer that is not sticky.
	front="upstream replicas {"
	for k in $(seq 1 "$REPLICAS"); do front+=" server 127.0.0.1:$((REPLICA_PORT + k - 1));"; done
	front+=" keepalive 64; }
  server {
    listen 127.0.0.1:$FRONT_PORT;
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }
  upstream memory-replicas { server 127.0.0.1:$GATEWAY_PORT;"
	for k in $(seq 2 "$REPLICAS"); do front+=" server 127.0.0.1:$((MEMORY_REPLICA_PORT + k - 2));"; done
	front+=" keepalive 64; }
  server {
    listen 127.0.0.1:$MEMORY_FRONT_PORT;
    location / {
      proxy_pass http://memory-replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }"
fi
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
  $front
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
		>"$work/logs/training.log" 2>&1 || { grep -m5 -E 'ERROR|Exception|Error:' "$work/logs/training.log" >&2; exit 1; }
fi
start_gateway() { # [port name args...]: starts a gateway and waits until it is ready; sets gateway and ready_ms
	local start port=${1:-$GATEWAY_PORT} name=${2:-gateway}
	shift $(($# < 2 ? $# : 2))
	start=$(date +%s%N)
	# shellcheck disable=SC2086
	java ${GATEWAY_JAVA_OPTS} -jar "$app_jar" --spring.config.additional-location="$work/gateway.yaml" \
		--server.port="$port" --logging.level.root=WARN "$@" >"$work/logs/$name.log" 2>&1 &
	gateway=$!
	pids+=("$gateway")
	until curl -sf "http://127.0.0.1:$port/actuator/health/readiness" >/dev/null; do
		kill -0 "$gateway" 2>/dev/null || { cat "$work/logs/$name.log" >&2; exit 1; }
		sleep 0.05
	done
	ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if grep -q 'Unable to use AOT cache' "$work/logs/$name.log"; then
		echo "The gateway started without its ahead-of-time cache, so its time to ready is not the production launch's:" >&2
		grep -i 'AOT' "$work/logs/$name.log" | head -3 >&2
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

measure() { # target url duration -> "req/s p50 p99 max non2xx errors requests"
	BENCH_TARGET=$1 BENCH_WIDGETS=$WIDGETS BENCH_IDS="$work/ids.txt" BENCH_RUN="$(date +%s%N)" \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" -s bench/wrk.lua "$2" | sed -n 's/^RESULT //p'
}
cpu_ticks() { # pids -> the CPU time they used so far, in clock ticks
	local pid ticks=0
	for pid in "$@"; do ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
	echo "$ticks"
}
measure_cpu() { # "gateway pids" "redis pid" target url duration -> measure's fields, then the CPU time per
	# request (microseconds) of the gateways and of Redis
	local g0 r0 out g1 r1
	# shellcheck disable=SC2086
	g0=$(cpu_ticks $1) r0=$(cpu_ticks $2)
	out=$(measure "$3" "$4" "$5")
	# shellcheck disable=SC2086
	g1=$(cpu_ticks $1) r1=$(cpu_ticks $2)
	echo "$out $(awk -v g=$((g1 - g0)) -v r=$((r1 - r0)) -v hz="$(getconf CLK_TCK)" -v n="${out##* }" \
		'BEGIN { printf "%.0f %.0f", g / hz * 1e6 / n, r / hz * 1e6 / n }')"
}
median_fields() { # lines of numbers -> the median of each column
	local lines column medians=()
	lines=$(cat)
	for column in $(seq 1 "$(head -1 <<<"$lines" | wc -w)"); do
		medians+=("$(awk -v c="$column" '{ print $c }' <<<"$lines" | sort -g |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')")
	done
	echo "${medians[*]}"
}
jstat=$(dirname "$(readlink -f "$(command -v java)")")/jstat
collections() { # pid -> its full garbage collections so far and how full its old generation is
	[ -x "$jstat" ] || { echo "(no jstat)"; return; }
	local max
	max=$("$jstat" -gccapacity "$1" | awk 'NR == 2 { print $8 }')
	"$jstat" -gc "$1" | awk -v max="$max" 'NR == 2 { printf "%d full collections (%.1f s), old generation %.0f of at most %.0f MB", $15, $16, $8 / 1024, max / 1024 }'
}
schedule_leaves() { # url: one delayed leave per widget, for the restarts, in ids.txt
	local i answer id
	for i in $(seq 1 "$WIDGETS"); do
		answer=$(curl -s "$1/v1/send_event" -H "Authorization: Bearer bench-token-$i" \
			-H 'Content-Type: application/json' \
			-d '{"type":"org.matrix.msc3401.call.member","state_key":"_@bench:localhost_DEV_m.call","content":{},"delay":8000}')
		id=$(echo "$answer" | sed -n 's/.*"delay_id":"\([^"]*\)".*/\1/p')
		[ -n "$id" ] || { echo "Scheduling a leave for widget $i failed: $answer" >&2; exit 1; }
		echo "bench-token-$i $id"
	done >"$work/ids.txt"
}
actions="send restart"
[ "$REPLICAS" = 1 ] || actions="send keyed restart"

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

declare -A rows cpu_rounds
for action in $actions; do
	if [ "$action" = restart ]; then
		schedule_leaves "http://127.0.0.1:$GATEWAY_PORT"
		measure gateway-restart "http://127.0.0.1:$GATEWAY_PORT" 20s >/dev/null
	elif [ "$action" = keyed ]; then
		# The first keyed requests run code that no other request did.
		measure gateway-keyed-send "http://127.0.0.1:$GATEWAY_PORT" 20s >/dev/null
	fi
	echo "Measuring $action for $DURATION each ..." >&2
	if [ "$action" != keyed ]; then # on the homeserver, a keyed send is a send
		rows[stub-$action]=$(measure "homeserver-$action" "http://127.0.0.1:$STUB_PORT" "$DURATION")
		rows[proxy-$action]=$(measure "homeserver-$action" "http://127.0.0.1:$PROXY_PORT" "$DURATION")
	fi
	rows[gateway-$action]=$(measure_cpu "$gateway" "" "gateway-${action/keyed/keyed-send}" \
		"http://127.0.0.1:$GATEWAY_PORT" "$DURATION")
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
memory_ready_ms=$ready_ms

if [ "$REPLICAS" != 1 ]; then
	# Every gateway of the comparison runs at once, and the rows take turns, ROUNDS times: on a
	# machine whose speed drifts by tens of percent from one minute to the next (a shared VM), rows
	# measured minutes apart compare the minutes, not the stores. Each path's median is reported.
	memory_group=("$gateway")
	for k in $(seq 2 "$REPLICAS"); do
		start_gateway "$((MEMORY_REPLICA_PORT + k - 2))" "memory-replica-$k"
		memory_group+=("$gateway")
		echo "Warming up in-memory replica $k for $WARMUP ..." >&2
		measure gateway-send "http://127.0.0.1:$((MEMORY_REPLICA_PORT + k - 2))" "$WARMUP" >/dev/null
	done
	echo "Starting Redis and $REPLICAS gateways on it ..." >&2
	mkdir -p "$work/redis"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$work/redis" \
		--logfile "$work/logs/redis.log" --daemonize no &
	redis=$!
	pids+=("$redis")
	until [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
		kill -0 "$redis" 2>/dev/null || { cat "$work/logs/redis.log" >&2; exit 1; }
		sleep 0.05
	done
	replicas=()
	replica_ready=()
	for k in $(seq 1 "$REPLICAS"); do
		start_gateway "$((REPLICA_PORT + k - 1))" "replica-$k" --gateway.store=redis \
			--spring.data.redis.host=127.0.0.1 --spring.data.redis.port="$REDIS_PORT"
		replicas+=("$gateway")
		replica_ready+=("$ready_ms")
	done
	# Each replica alone, as the in-memory gateway was: on these cores, JIT compilers of two
	# JVMs at once would leave each less warmed up than the one gateway.
	for k in $(seq 1 "$REPLICAS"); do
		echo "Warming up replica $k for $WARMUP ..." >&2
		measure gateway-send "http://127.0.0.1:$((REPLICA_PORT + k - 1))" "$WARMUP" >/dev/null
	done
	declare -A url=([memory]="http://127.0.0.1:$GATEWAY_PORT" [redis]="http://127.0.0.1:$REPLICA_PORT"
		[memreplicas]="http://127.0.0.1:$MEMORY_FRONT_PORT" [replicas]="http://127.0.0.1:$FRONT_PORT")
	declare -A gateways=([memory]="${memory_group[0]}" [redis]="${replicas[0]}"
		[memreplicas]="${memory_group[*]}" [replicas]="${replicas[*]}")
	declare -A store=([memory]="" [redis]="$redis" [memreplicas]="" [replicas]="$redis")
	measure gateway-send "${url[memreplicas]}" 10s >/dev/null
	measure gateway-send "${url[replicas]}" 10s >/dev/null
	for action in $actions; do
		target=gateway-${action/keyed/keyed-send}
		if [ "$action" = restart ]; then
			# Scheduled through the replicas on Redis, so their delay ids are recorded there;
			# every gateway shares the delay-id key (derived from the access token).
			schedule_leaves "${url[replicas]}"
		fi
		if [ "$action" != send ]; then
			measure "$target" "${url[memreplicas]}" 20s >/dev/null
			measure "$target" "${url[replicas]}" 20s >/dev/null
		fi
		for round in $(seq 1 "$ROUNDS"); do
			echo "Measuring $action, round $round of $ROUNDS, $DURATION a row ..." >&2
			for path in memory redis memreplicas replicas; do
				rows[$path-$action-$round]=$(measure_cpu "${gateways[$path]}" "${store[$path]}" "$target" \
					"${url[$path]}" "$DURATION")
			done
		done
		for path in memory redis memreplicas replicas; do
			rows[$path-$action]=$(for round in $(seq 1 "$ROUNDS"); do echo "${rows[$path-$action-$round]}"; done |
				median_fields)
			cpu_rounds[$path-$action]=$(for round in $(seq 1 "$ROUNDS"); do
				read -r _ _ _ _ _ _ _ cpu redis_cpu <<<"${rows[$path-$action-$round]}"
				echo -n "$((cpu + ${redis_cpu:-0})) "
			done)
		done
	done
	replica_rss=()
	replica_gc=()
	for pid in "${replicas[@]}"; do
		replica_rss+=("$(( $(ps -o rss= -p "$pid") / 1024 ))")
		replica_gc+=("$(collections "$pid" 2>/dev/null || true)")
	done
	memory_gc=$(collections "${memory_group[0]}" 2>/dev/null || true)
	redis_rss_mb=$(( $(ps -o rss= -p "$redis") / 1024 ))
	redis_keys=$(redis-cli -p "$REDIS_PORT" dbsize)
	redis_commands=$(redis-cli -p "$REDIS_PORT" info stats | sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p')
fi
echo
echo "Widget Gateway benchmark: $WIDGETS widgets, wrk -t$THREADS -c$CONNECTIONS, ${DURATION} a row after ${WARMUP} of warm-up"
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(java -version 2>&1 | head -1)"
echo "Gateway JVM options: ${GATEWAY_JAVA_OPTS:-(none)}" | sed "s#$work#.#g"
echo
printf '| %-8s | %-28s | %9s | %8s | %8s | %8s | %7s | %6s |\n' action path "req/s" "p50 ms" "p99 ms" "max ms" non-2xx errors
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ------------------------------ ----------: ---------: ---------: ---------: --------: -------:
for action in $actions; do
	for path in stub proxy gateway redis memreplicas replicas; do
		[ -n "${rows[$path-$action]:-}" ] || continue
		read -r rps p50 p99 max non2xx errors _ <<<"${rows[$path-$action]}"
		case $path in
			stub) label="nginx answering directly" ;;
			proxy) label="nginx as a plain proxy" ;;
			gateway) label="the gateway" ;;
			redis) label="the gateway on Redis" ;;
			memreplicas) label="$REPLICAS in memory, behind nginx" ;;
			replicas) label="$REPLICAS on Redis, behind nginx" ;;
		esac
		printf '| %-8s | %-28s | %9s | %8s | %8s | %8s | %7s | %6s |\n' "$action" "$label" "$rps" "$p50" "$p99" "$max" "$non2xx" "$errors"
	done
done
if [ "$STALLED" != 0 ]; then
	read -r rps p50 p99 max non2xx errors _ <<<"${rows[gateway-isolation]}"
	printf '| %-8s | %-28s | %9s | %8s | %8s | %8s | %7s | %6s |\n' restart "the gateway, 1 widget stalled" "$rps" "$p50" "$p99" "$max" "$non2xx" "$errors"
	echo
	echo "The stalled widget's $STALLED requests (room answers after 10 s, response-timeout $RESPONSE_TIMEOUT) were answered (HTTP status:count): $(cat "$work/stalled.txt")"
	read -r _ _ calm_p99 _ <<<"${rows[gateway-restart]}"
	echo "p99 of the other widgets' restarts, stalled/unstalled: $(awk -v s="$p99" -v c="$calm_p99" 'BEGIN { printf "%.2f", s / c }')"
fi
if [ "$REPLICAS" != 1 ]; then
	echo
	echo "keyed: send_event with a new Idempotency-Key on every request (on the homeserver, the send rows)."
	echo "\"the gateway\": gateway.store=memory. \"the gateway on Redis\": one gateway with gateway.store=redis, wrk straight at it."
	echo "\"$REPLICAS in memory, behind nginx\": $REPLICAS gateways with gateway.store=memory (nothing shared), round-robin behind nginx."
	echo "\"$REPLICAS on Redis, behind nginx\": $REPLICAS gateways with gateway.store=redis, round-robin behind nginx."
	echo "Redis, the gateways, nginx and wrk share the same $(nproc) cores. These three rows of each action are the"
	echo "medians of $ROUNDS rounds, taken in turn with the in-memory gateways' rounds while all of them ran."
	echo
	echo "On Redis / in memory, at the same load (wrk -t$THREADS -c$CONNECTIONS), one gateway against one and $REPLICAS"
	echo "behind nginx against $REPLICAS behind nginx, medians of the $ROUNDS rounds. CPU per request: what the gateway"
	echo "processes and Redis used during the row (from /proc), over the requests wrk had answered; cost: CPU per"
	echo "request on Redis over CPU per request in memory, minus 1 (nginx and wrk left out): what the shared store costs."
	echo
	printf '| %-8s | %-28s | %7s | %7s | %7s | %-23s | %8s |\n' action path "req/s" p50 p99 "CPU µs/request" cost
	printf '|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ------------------------------ --------: --------: --------: \
		------------------------ ---------:
	for action in $actions; do
		for path in redis replicas; do
			case $path in
				redis) base=memory label="1 on Redis / 1 in memory" base_label="1 in memory" ;;
				replicas) base=memreplicas label="$REPLICAS on Redis / $REPLICAS in memory" base_label="$REPLICAS in memory, behind nginx" ;;
			esac
			read -r m_rps m_p50 m_p99 _ _ _ _ m_cpu _ <<<"${rows[$base-$action]}"
			printf '| %-8s | %-28s | %7s | %7s | %7s | %-22s | %8s |\n' "$action" "$base_label" "" "" "" "$m_cpu" ""
			read -r rps p50 p99 _ _ _ _ cpu redis_cpu <<<"${rows[$path-$action]}"
			printf '| %-8s | %-28s | %7s | %7s | %7s | %-22s | %8s |\n' "$action" "$label" \
				"$(awk -v a="$rps" -v b="$m_rps" 'BEGIN { printf "%.3f", a / b }')" \
				"$(awk -v a="$p50" -v b="$m_p50" 'BEGIN { printf "%.3f", a / b }')" \
				"$(awk -v a="$p99" -v b="$m_p99" 'BEGIN { printf "%.3f", a / b }')" \
				"$((cpu + redis_cpu)) ($cpu + Redis $redis_cpu)" \
				"$(awk -v a="$((cpu + redis_cpu))" -v b="$m_cpu" 'BEGIN { printf "%+.1f %%", (a / b - 1) * 100 }')"
		done
	done
	echo
	echo "CPU µs per request in each round (gateways + Redis):"
	for action in $actions; do
		for path in memory redis memreplicas replicas; do
			echo "  $action, $path: ${cpu_rounds[$path-$action]}"
		done
	done
fi
echo
for action in send restart; do
	read -r proxy_rps _ <<<"${rows[proxy-$action]}"
	read -r gateway_rps _ <<<"${rows[gateway-$action]}"
	echo "gateway/proxy ($action): $(awk -v g="$gateway_rps" -v p="$proxy_rps" 'BEGIN { printf "%.3f", g / p }')"
done
echo "ready after: ${memory_ready_ms} ms (process start to readiness UP)"
echo "resident memory after the runs: ${rss_mb} MB"
if [ "$REPLICAS" != 1 ]; then
	echo "garbage collection, the gateway in memory: $memory_gc"
	echo "replicas on Redis: ready after ${replica_ready[*]} ms; resident memory after the runs ${replica_rss[*]} MB"
	for k in $(seq 1 "$REPLICAS"); do echo "garbage collection, replica $k: ${replica_gc[k - 1]}"; done
	echo "Redis: resident memory ${redis_rss_mb} MB, ${redis_keys} keys, ${redis_commands} commands processed"
	for k in $(seq 1 "$REPLICAS"); do
		logged=$(grep -cE ' (WARN|ERROR) ' "$work/logs/replica-$k.log" || true)
		if [ "$logged" != 0 ]; then
			echo "replica $k logged $logged warnings or errors, the first:"
			grep -E ' (WARN|ERROR) ' "$work/logs/replica-$k.log" | head -3 | cut -c1-300
		fi
	done
fi
