#!/usr/bin/env python3
"""A MatrixRTC call membership, as Element Call keeps one, through Widget Gateway.

Joins a call by scheduling a delayed "leave" first and then sending the join state, restarts the
delayed leave on a timer shorter than its delay, schedules a new one when a restart answers 404,
waits Retry-After (or retry_after_ms) on 429 and on a 502 or 503 that names a wait (the homeserver
unreachable or failing of late), retries once after a network error, and on Ctrl-C (or after --duration seconds) leaves
cleanly by sending the delayed leave at once. If this process dies instead, the homeserver sends the
leave when the delay runs out.

--mode sticky: a sticky rtc.member event as Element Call sends today, not state.

Python 3.8+, standard library only:

    python3 examples/python/membership.py [--base-url URL] [--token TOKEN] [--state-key KEY]
                                          [--delay MS] [--restart-every MS] [--duration SECONDS]
                                          [--mode state|sticky]

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
RTC_MEMBER = "org.matrix.msc4143.rtc.member"
SLOT_ID = "m.call#ROOM"
STICKY_DURATION_MS = 3600000
# Sent again this long after the last send, well before the stickiness (an hour) ends.
REFRESH_EVERY_S = 50 * 60


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
        """POSTs JSON; retries once after a network error and waits out a 429, or a 502 or 503 that
        names a wait (up to 10 tries)."""
        return self._send("POST", path, body)

    def get(self, path):
        """GETs JSON, as post() does."""
        return self._send("GET", path, None)

    def _send(self, method, path, body):
        network_retried = False
        last_status = 429
        for _ in range(10):
            try:
                return self._send_once(method, path, body)
            except urllib.error.URLError as error:
                if network_retried:
                    raise
                network_retried = True
                log(f"network error ({error.reason}); retrying once in 1 s")
                time.sleep(1)
            except GatewayError as error:
                if error.status == 429:
                    wait = error.retry_after if error.retry_after is not None else 5.0
                    log(f"rate limited; waiting {wait:.1f} s as the gateway asks")
                elif error.status in (502, 503) and error.retry_after is not None:
                    wait = error.retry_after
                    log(f"the homeserver is unavailable ({error.status}); waiting {wait:.1f} s as the gateway asks")
                else:
                    raise
                last_status = error.status
                time.sleep(wait)
        raise GatewayError(last_status, {"detail": "still rate limited or unavailable after 10 tries"}, None)

    def _send_once(self, method, path, body):
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        headers = {"Authorization": "Bearer " + self.token}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
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

    def leave_event(self):
        return {"type": MEMBER, "state_key": self.state_key, "content": {}}

    def schedule_leave(self):
        answer = self.gateway.post("/v1/send_event", dict(self.leave_event(), delay=self.delay_ms))
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
            self.gateway.post("/v1/send_event", self.leave_event())
            log("left the call: the delayed leave was gone, so sent the leave itself")


class StickyMembership(Membership):
    """The membership as Element Call keeps it today: a sticky rtc.member event, not state."""

    def __init__(self, gateway, state_key, delay_ms):
        super().__init__(gateway, state_key, delay_ms)
        # Element Call's state key names the user and the device: _@demo:localhost_NATIVE_m.call
        self.user_id, _, self.device_id = state_key[1:-len("_m.call")].rpartition("_")
        if not (state_key.startswith("_@") and state_key.endswith("_m.call") and ":" in self.user_id
                and self.device_id):
            raise ValueError(f"--state-key {state_key} is not _<user id>_<device>_m.call")
        self.member_id = f"{self.user_id}:{self.device_id}"
        self.transport = None
        self.event_id = self.room_id = self.sent_at = None

    def leave_event(self):
        return {"type": RTC_MEMBER, "sticky_duration_ms": STICKY_DURATION_MS,
                "content": {"slot_id": SLOT_ID, "msc4354_sticky_key": self.member_id}}

    def join(self):
        try:
            transports = self.gateway.get("/v1/rtc_transports").get("rtc_transports") or []
            self.transport = transports[0] if transports else None
        except GatewayError as error:
            log(f"no RTC transport to publish ({error})")
        self.schedule_leave()
        self.send_membership()
        log(f"joined the call as {self.member_id} ({self.event_id})")
        if self.transport is not None and self.transport.get("url"):
            self.livekit_token()

    def send_membership(self):
        event = self.leave_event()
        event["content"].update({
            "application": {"type": "m.call"},
            "member": {"id": self.member_id, "user_id": self.user_id, "device_id": self.device_id},
            "transports": {"published": [self.transport] if self.transport is not None else []},
            "versions": []})
        answer = self.gateway.post("/v1/send_event", event)
        self.event_id, self.room_id = answer["event_id"], answer["room_id"]
        self.sent_at = time.monotonic()

    def livekit_token(self):
        try:
            answer = self.gateway.post("/v1/rtc/livekit/get_token", {
                "server_name": self.user_id.split(":", 1)[1], "url": self.transport["url"],
                "room_id": self.room_id, "slot_id": SLOT_ID,
                "member": {"id": self.member_id, "claimed_device_id": self.device_id}})
            log(f"got a LiveKit token for {self.transport['url']} ({len(answer['jwt'])} characters; "
                "the simulator's is a test token for no real SFU)")
        except GatewayError as error:
            log(f"no LiveKit token ({error}); staying in the call without media")

    def restart(self):
        super().restart()
        if time.monotonic() - self.sent_at >= REFRESH_EVERY_S:
            self.send_membership()
            log(f"sent the membership again before its stickiness ends ({self.event_id})")

    def leave(self):
        try:
            self.gateway.post(f"/v1/delayed_events/{self.delay_id}/send")
            log("left the call: sent the delayed leave now")
        except GatewayError as error:
            self.gateway.post("/v1/send_event", self.leave_event())
            log(f"left the call: the delayed leave could not be sent ({error}), so sent the leave itself")


def main():
    parser = argparse.ArgumentParser(description="A MatrixRTC call membership through Widget Gateway.")
    parser.add_argument("--base-url", default=os.environ.get("GATEWAY_URL", "http://localhost:8080"))
    parser.add_argument("--token", default=os.environ.get("WIDGET_TOKEN", "demo-token"))
    parser.add_argument("--state-key", default=os.environ.get("STATE_KEY", "_@demo:localhost_NATIVE_m.call"))
    parser.add_argument("--delay", type=int, default=8000, help="the delayed leave's delay in ms (8000)")
    parser.add_argument("--restart-every", type=int, help="ms between restarts (default: 5/8 of the delay)")
    parser.add_argument("--duration", type=float, help="seconds to stay in the call (default: until Ctrl-C)")
    parser.add_argument("--mode", choices=("state", "sticky"), default="state",
                        help="state: a call.member state event (default); sticky: a sticky rtc.member event as "
                             "Element Call sends today, member <user>:<device> of --state-key")
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    kind = StickyMembership if args.mode == "sticky" else Membership
    try:
        membership = kind(Gateway(args.base_url, args.token), args.state_key, args.delay)
    except ValueError as error:
        parser.error(str(error))
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
