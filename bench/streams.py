"""The event-stream load check: N open streams on one gateway, then messages fanned out to all.

  streams.py URL WIDGETS STREAMS MESSAGES

Opens STREAMS streams (GET /v1/events) spread over WIDGETS widgets (tokens stream-token-1..),
waits until each has its first push, then has widget 1 send MESSAGES messages, one every
100 ms, and measures how long each took to reach every stream. Prints one line per phase.
"""
import json
import sys
import threading
import time
import urllib.request


def main(url, widgets, streams, messages):
    first = threading.Barrier(streams + 1)
    received = {}
    lock = threading.Lock()
    failures = []

    def stream(i):
        token = f"stream-token-{i % widgets + 1}"
        request = urllib.request.Request(url + "/v1/events", headers={
            "Authorization": "Bearer " + token, "Accept": "text/event-stream"})
        try:
            response = urllib.request.urlopen(request, timeout=300)
        except Exception as error:
            failures.append(str(error))
            print("FAILED " + str(error), file=sys.stderr, flush=True)
            first.abort()
            return
        waited = False
        for raw in response:
            line = raw.decode().rstrip("\n")
            if not line.startswith("data:"):
                continue
            if not waited:
                waited = True
                first.wait()
                continue
            envelope = json.loads(line[5:])
            body = envelope.get("data", {}).get("content", {}).get("body", "")
            if envelope.get("action") == "send_event" and body.startswith("load-"):
                with lock:
                    received.setdefault(body, []).append(time.monotonic())

    start = time.monotonic()
    for i in range(streams):
        threading.Thread(target=stream, args=(i,), daemon=True).start()
    first.wait(timeout=120)
    print(f"OPEN {streams} {time.monotonic() - start:.1f}", flush=True)
    input()  # the caller measures the idle gateway, then presses on

    sent = {}
    for m in range(messages):
        body = f"load-{m}"
        data = json.dumps({"type": "m.room.message", "content": {"msgtype": "m.text", "body": body}}).encode()
        request = urllib.request.Request(url + "/v1/send_event", data=data, method="POST", headers={
            "Authorization": "Bearer stream-token-1", "Content-Type": "application/json"})
        sent[body] = time.monotonic()
        urllib.request.urlopen(request, timeout=30).read()
        time.sleep(0.1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if all(len(received.get(body, [])) >= streams for body in sent):
                break
        time.sleep(0.2)
    latencies = sorted((t - sent[body]) * 1000 for body in sent for t in received.get(body, []))
    delivered = len(latencies)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
    print(f"DELIVERED {delivered} {streams * messages} {p(0.5):.0f} {p(0.99):.0f} {latencies[-1] if latencies else 0:.0f}",
          flush=True)
    if failures:
        print("FAILURES " + str(len(failures)) + " " + failures[0], flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
