#!/usr/bin/env python3
"""A MatrixRTC call membership, as Element Call keeps one, through Widget Gateway.

Joins a call by scheduling a delayed "leave" first and then sending the join state, restarts the
delayed leave on a timer shorter than its delay, schedules a new one when a restart answers 404,
waits Retry-After (or retry_after_ms) on 429, retries once after a network error, and on Ctrl-C
(or after --duration seconds) leaves cleanly by sending the delayed leave at once. If this process
dies instead, the homeserver sends the leave when the delay runs out.

Python 3.8+, standard library only:

    python3 examples/python/membership.py [--base-url URL] [--token TOKEN] [--state-key KEY]
                                          [--delay MS] [--restart-every MS] [--duration SECONDS]

Defaults come from the environment (GATEWAY_URL, WIDGET_TOKEN, STATE_KEY) or else the embedded
simulator's demo widget (http://localhost:8080, demo-token).
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

MEMBER = "org.matrix.msc3401.call.member"


class GatewayError(Exception):
    def __init__(self, status, body, retry_after):
        super().__init__(f"{status} {body.get('errcode', '')}: {body.get('detail', body)}")
        self.status = status
        self.retry_after = retry_after


class Gateway:
    def __init__(self, base_url, token):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def post(self, path, body=None):
        """POSTs JSON; retries once after a network error and waits out a 429 (up to 10 tries)."""
        network_retried = False
        for _ in range(10):
            try:
                return self._post_once(path, body)
            except urllib.error.URLError as error:
                if network_retried:
                    raise
                network_retried = True
                log(f"network error ({error.reason}); retrying once in 1 s")
                time.sleep(1)
            except GatewayError as error:
                if error.status != 429:
                    raise
                wait = error.retry_after if error.retry_after is not None else 5.0
                log(f"rate limited; waiting {wait:.1f} s as the gateway asks")
                time.sleep(wait)
        raise GatewayError(429, {"detail": "still rate limited after 10 tries"}, None)

    def _post_once(self, path, body):
        data = json.dumps(body if body is not None else {}).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method="POST", headers={
            "Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                problem = json.load(error)
            except ValueError:
                problem = {}
            retry_after = error.headers.get("Retry-After")
            if retry_after is not None and retry_after.isdigit():
                retry_after = float(retry_after)
            elif "retry_after_ms" in problem:
                retry_after = problem["retry_after_ms"] / 1000
            else:
                retry_after = None
            raise GatewayError(error.code, problem, retry_after) from None


def log(message):
    print(time.strftime("%H:%M:%S"), message, flush=True)


class Membership:
    def __init__(self, gateway, state_key, delay_ms):
        self.gateway = gateway
        self.state_key = state_key
        self.delay_ms = delay_ms
        self.delay_id = None

    def schedule_leave(self):
        answer = self.gateway.post("/v1/send_event", {
            "type": MEMBER, "state_key": self.state_key, "content": {}, "delay": self.delay_ms})
        self.delay_id = answer["delay_id"]
        log(f"scheduled the delayed leave {self.delay_id[:8]}… (sent in {self.delay_ms} ms unless restarted)")

    def join(self):
        self.schedule_leave()
        answer = self.gateway.post("/v1/send_event", {
            "type": MEMBER, "state_key": self.state_key,
            "content": {"application": "m.call", "call_id": "", "scope": "m.room", "device_id": "NATIVE"}})
        log(f"joined the call as {self.state_key} ({answer['event_id']})")

    def restart(self):
        try:
            self.gateway.post(f"/v1/delayed_events/{self.delay_id}/restart")
            log("restarted the delayed leave")
        except GatewayError as error:
            if error.status != 404:
                raise
            log("the delayed leave is gone (404); scheduling a new one")
            self.schedule_leave()

    def leave(self):
        try:
            self.gateway.post(f"/v1/delayed_events/{self.delay_id}/send")
            log("left the call: sent the delayed leave now")
        except GatewayError as error:
            if error.status != 404:
                raise
            self.gateway.post("/v1/send_event", {"type": MEMBER, "state_key": self.state_key, "content": {}})
            log("left the call: the delayed leave was gone, so sent the leave itself")


def main():
    parser = argparse.ArgumentParser(description="A MatrixRTC call membership through Widget Gateway.")
    parser.add_argument("--base-url", default=os.environ.get("GATEWAY_URL", "http://localhost:8080"))
    parser.add_argument("--token", default=os.environ.get("WIDGET_TOKEN", "demo-token"))
    parser.add_argument("--state-key", default=os.environ.get("STATE_KEY", "_@demo:localhost_NATIVE_m.call"))
    parser.add_argument("--delay", type=int, default=8000, help="the delayed leave's delay in ms (8000)")
    parser.add_argument("--restart-every", type=int, help="ms between restarts (default: 5/8 of the delay)")
    parser.add_argument("--duration", type=float, help="seconds to stay in the call (default: until Ctrl-C)")
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    membership = Membership(Gateway(args.base_url, args.token), args.state_key, args.delay)
    interval = (args.restart_every or args.delay * 5 // 8) / 1000
    deadline = time.monotonic() + args.duration if args.duration is not None else None
    try:
        membership.join()
        while not stop.wait(interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))):
            if deadline is not None and time.monotonic() >= deadline:
                break
            membership.restart()
        membership.leave()
    except (GatewayError, urllib.error.URLError) as error:
        log(f"stopped: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
