#!/usr/bin/env bash
# The event-stream load check: STREAMS (1000) open GET /v1/events streams on one gateway, spread
# over WIDGETS (200) widgets, on the embedded simulator; the gateway's resident memory and CPU
# with them open and idle, then MESSAGES (20) messages fanned out to every stream, with the
# delivery latency from send to each stream. The gateway runs with the Dockerfile's JAVA_OPTS
# (without the ahead-of-time cache).
#
#   bench/streams.sh
#   STREAMS=2000 WIDGETS=400 bench/streams.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${STREAMS:-1000}
WIDGETS=${WIDGETS:-200}
MESSAGES=${MESSAGES:-20}
PORT=${PORT:-18090}

command -v python3 >/dev/null || { echo "Installing python3 ..." >&2; apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
jar=$(ls target/widget-gateway-*.jar 2>/dev/null | head -1 || true)
if [ -z "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit)" ]; then
	echo "Building the jar ..." >&2
	./mvnw -q -B -DskipTests package
	jar=$(ls target/widget-gateway-*.jar | head -1)
fi
work=$(mktemp -d)
gateway=""
cleanup() { [ -n "$gateway" ] && kill "$gateway" 2>/dev/null; cp "$work/gateway.log" "${TMPDIR:-/tmp}/streams-gateway.log" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

{
	echo "gateway:"
	echo "  widgets:"
	for i in $(seq 1 "$WIDGETS"); do
		echo "    s$i:"
		echo "      token-sha256: $(printf %s "stream-token-$i" | sha256sum | cut -d' ' -f1)"
		echo "      room-id: \"!demo:localhost\""
		echo "      capabilities: [org.matrix.msc2762.receive.state_event:org.matrix.msc3401.call.member, org.matrix.msc2762.receive.event:m.room.message, org.matrix.msc2762.send.event:m.room.message]"
	done
} >"$work/gateway.yaml"

opts=$(sed -n 's/^ENV JAVA_OPTS="\(.*\)"$/\1/p' Dockerfile | sed 's/-XX:AOTCache=[^ ]*//')
# shellcheck disable=SC2086
java $opts -jar "$jar" --spring.config.additional-location="$work/gateway.yaml" --server.port="$PORT" \
	--logging.level.root=WARN >"$work/gateway.log" 2>&1 &
gateway=$!
until curl -sf "http://127.0.0.1:$PORT/actuator/health/readiness" >/dev/null; do
	kill -0 "$gateway" 2>/dev/null || { cat "$work/gateway.log" >&2; exit 1; }
	sleep 0.2
done
rss() { echo $(( $(ps -o rss= -p "$gateway") / 1024 )); }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$gateway/stat"; }
rss_before=$(rss)

coproc LOAD { python3 -u bench/streams.py "http://127.0.0.1:$PORT" "$WIDGETS" "$STREAMS" "$MESSAGES"; }
read -r open_line <&"${LOAD[0]}"
sleep 5
ticks=$(cpu_ticks)
sleep 10
idle_cpu=$(awk -v a="$ticks" -v b="$(cpu_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz / 10 * 100 }')
rss_open=$(rss)
echo >&"${LOAD[1]}"
read -r delivered_line <&"${LOAD[0]}"
rss_after=$(rss)

read -r _ streams open_s <<<"$open_line"
read -r _ delivered expected p50 p99 max <<<"$delivered_line"
echo
echo "Widget Gateway event streams: $streams streams over $WIDGETS widgets, $MESSAGES messages, simulator"
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(java -version 2>&1 | head -1)"
echo "Gateway JVM options: $opts"
echo
echo "| measure | value |"
echo "|---|---:|"
echo "| all $streams streams open, first push received | ${open_s} s |"
echo "| resident memory before / with the streams open / after the messages | ${rss_before} / ${rss_open} / ${rss_after} MB |"
echo "| CPU with the streams open and idle (heartbeats, one /sync long-poll) | ${idle_cpu} % of one core |"
echo "| pushes delivered | ${delivered} of ${expected} |"
echo "| delivery latency, send to stream: p50 / p99 / max | ${p50} / ${p99} / ${max} ms |"
