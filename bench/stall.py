"""The isolation part of the benchmark.

  stall.py serve PORT SECONDS    a homeserver that answers every request after SECONDS
  stall.py flood URL TOKEN N     N requests from one widget at once; prints how they were answered
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port, seconds):
    class Slow(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(seconds)
            body = b'{"event_id": "$stalled"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Slow)
    server.daemon_threads = True
    server.request_queue_size = 2048
    server.serve_forever()


def flood(url, token, n):
    body = json.dumps({"type": "m.room.message", "content": {"msgtype": "m.text", "body": "stalled"}}).encode()
    answers = Counter()
    lock = threading.Lock()

    def one():
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except Exception:
            status = "error"
        with lock:
            answers[status] += 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(" ".join(f"{status}:{count}" for status, count in sorted(answers.items(), key=str)))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), float(sys.argv[3]))
    else:
        flood(sys.argv[2], sys.argv[3], int(sys.argv[4]))
