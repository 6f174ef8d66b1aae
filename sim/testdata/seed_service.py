#!/usr/bin/env python3
"""An independent implementation of the seed's assistant contract, for tests.

Standard library only. It is deliberately not a port of brownout's Go
assistant: its breaker is a small PyBreaker-like state machine (consecutive
failures open it; after the reset timeout the next call is a half-open
probe), its answers are canned, and its configuration comes from the seed's
environment variables (CIRCUIT_BREAKER_ENABLED, _FAIL_THRESHOLD,
_RESET_TIMEOUT, _TIMEOUT_SECONDS, _NAME), HF_API_BASE, HF_MODEL and PORT.

SEED_SERVICE_MISBEHAVE selects a fault for the tests of misbehaving targets:
  never-ready    never answers the health endpoint with 2xx
  crash-after=N  exits with status 3 after N queries
  bad-shape      answers 200 with a JSON array instead of an object
  ignore-term    ignores SIGTERM
"""

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def env_bool(name, default):
    v = os.environ.get(name, "").strip().lower()
    if not v:
        return default
    return v in ("1", "true", "yes", "on")


ENABLED = env_bool("CIRCUIT_BREAKER_ENABLED", True)
FAIL_MAX = int(os.environ.get("CIRCUIT_BREAKER_FAIL_THRESHOLD") or 5)
RESET_TIMEOUT = float(os.environ.get("CIRCUIT_BREAKER_RESET_TIMEOUT") or 60)
CALL_TIMEOUT = float(os.environ.get("CIRCUIT_BREAKER_TIMEOUT_SECONDS") or 30)
NAME = os.environ.get("CIRCUIT_BREAKER_NAME") or "huggingface_api"
API_BASE = (os.environ.get("HF_API_BASE") or "http://127.0.0.1:9000").rstrip("/")
MODEL = os.environ.get("HF_MODEL") or "test-model"
PORT = int(os.environ.get("PORT") or 8000)
MISBEHAVE = os.environ.get("SEED_SERVICE_MISBEHAVE", "")


class Breaker:
    """closed -> open after FAIL_MAX consecutive failures; open -> half-open
    once RESET_TIMEOUT has passed; one probe decides half-open -> closed or
    back to open."""

    def __init__(self):
        self.lock = threading.Lock()
        self.state = "closed"
        self.fails = 0
        self.opened_at = 0.0
        self.probing = False

    def current(self):
        with self.lock:
            self._tick()
            return self.state

    def _tick(self):
        if self.state == "open" and time.monotonic() - self.opened_at >= RESET_TIMEOUT:
            self.state = "half-open"
            self.probing = False

    def admit(self):
        with self.lock:
            self._tick()
            if self.state == "open":
                return False
            if self.state == "half-open":
                if self.probing:
                    return False
                self.probing = True
            return True

    def record(self, ok):
        with self.lock:
            if ok:
                self.fails = 0
                self.state = "closed"
            else:
                self.fails += 1
                if self.state == "half-open" or self.fails >= FAIL_MAX:
                    self.state = "open"
                    self.opened_at = time.monotonic()
            self.probing = False

    def status(self):
        state = self.current()
        return {
            "enabled": ENABLED,
            "name": NAME,
            "state": state,
            "fail_count": self.fails,
            "fail_max": FAIL_MAX,
            "reset_timeout": RESET_TIMEOUT,
            "is_healthy": state == "closed",
        }


BREAKER = Breaker()
CACHE = {}
CACHE_LOCK = threading.Lock()
QUERIES = [0]


def call_upstream(question):
    body = json.dumps({
        "model": MODEL,
        "messages": [{"role": "user", "content": question}],
        "stream": False,
    }).encode()
    req = urllib.request.Request(API_BASE + "/v1/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=CALL_TIMEOUT) as resp:
        doc = json.loads(resp.read())
    return doc["choices"][0]["message"]["content"].strip()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, doc):
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/assistant/health/circuit-breaker":
            return self.send_json(404, {"error": "not_found"})
        if MISBEHAVE == "never-ready":
            return self.send_json(500, {"error": "warming_up"})
        self.send_json(200, {"circuit_breaker": BREAKER.status(), "timestamp": time.time()})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/assistant/query":
            return self.send_json(404, {"error": "not_found"})
        QUERIES[0] += 1
        if MISBEHAVE.startswith("crash-after=") and QUERIES[0] > int(MISBEHAVE.split("=")[1]):
            sys.stderr.write("seed_service: crashing on purpose\n")
            sys.stderr.flush()
            os._exit(3)
        if MISBEHAVE == "bad-shape":
            return self.send_json(200, ["not", "an", "object"])
        try:
            question = json.loads(raw)["question"]
        except (ValueError, KeyError, TypeError):
            return self.send_json(422, {"error": "invalid_request"})
        start = time.monotonic()
        reason = None
        if not ENABLED or BREAKER.admit():
            try:
                answer = call_upstream(question)
                if ENABLED:
                    BREAKER.record(True)
                with CACHE_LOCK:
                    CACHE[question] = answer
                return self.send_json(200, {
                    "answer": answer, "sources": [],
                    "metadata": {"duration_ms": (time.monotonic() - start) * 1000, "chunks_used": 0}})
            except (urllib.error.URLError, OSError, ValueError, KeyError, IndexError, TypeError):
                if ENABLED:
                    BREAKER.record(False)
                reason = "upstream_error"
        else:
            reason = "circuit_breaker_open"
        with CACHE_LOCK:
            cached = CACHE.get(question)
        meta = {"from_fallback": True, "fallback_reason": reason,
                "duration_ms": (time.monotonic() - start) * 1000}
        if cached is not None:
            meta["fallback_source"] = "l1_cache"
            return self.send_json(200, {"answer": cached, "sources": [], "metadata": meta})
        if reason == "circuit_breaker_open" and question.startswith("?"):
            return self.send_json(503, {"error": "service_unavailable", "retry_after": 30,
                                        "circuit_status": BREAKER.status()})
        meta["fallback_source"] = "excerpts"
        return self.send_json(200, {"answer": "Excerpts: the knowledge base says little.", "sources": [],
                                    "metadata": meta})


def main():
    pid_file = os.environ.get("SEED_SERVICE_PIDFILE")
    if pid_file:
        with open(pid_file, "w") as f:
            f.write(str(os.getpid()))
    if MISBEHAVE == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    print("seed_service: listening on 127.0.0.1:%d, upstream %s, breaker %s threshold %d reset %gs"
          % (PORT, API_BASE, "on" if ENABLED else "off", FAIL_MAX, RESET_TIMEOUT), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
