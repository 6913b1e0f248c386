"""Stand-in for the shortlink / admin services (see Dockerfile)."""
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import redis

APP = os.environ.get("APP_NAME", "app")
PORT = int(os.environ.get("PORT", "8080"))
TIMEOUT = float(os.environ.get("READY_TIMEOUT_SECONDS", "2"))


def log(msg):
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {APP}: {msg}", flush=True)


def check_postgres():
    conn = psycopg2.connect(
        host=os.environ.get("DB_HOST", "postgres"),
        port=int(os.environ.get("DB_PORT", "5432")),
        dbname=os.environ.get("DB_NAME", "postgres"),
        user=os.environ.get("DB_USER", "postgres"),
        password=os.environ.get("DB_PASSWORD", ""),
        connect_timeout=max(1, int(TIMEOUT)),
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    finally:
        conn.close()


def check_redis():
    r = redis.Redis(
        host=os.environ["REDIS_HOST"],
        port=int(os.environ.get("REDIS_PORT", "6379")),
        password=os.environ.get("REDIS_PASSWORD") or None,
        socket_connect_timeout=TIMEOUT,
        socket_timeout=TIMEOUT,
    )
    try:
        r.ping()
    finally:
        r.close()


def dependencies():
    checks = {"postgres": check_postgres}
    if os.environ.get("REDIS_HOST"):
        checks["redis"] = check_redis
    status = {}
    for name, fn in checks.items():
        try:
            fn()
            status[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - report any failure
            status[name] = f"error: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    return status


class Handler(BaseHTTPRequestHandler):
    server_version = f"{APP}-standin/1.0"

    def _send(self, code, body):
        data = json.dumps(body).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send(200, {"status": "ok"})
        elif path in ("/ready", "/"):
            deps = dependencies()
            ok = all(v == "ok" for v in deps.values())
            body = {"app": APP, "ready": ok, "dependencies": deps}
            self._send(200 if ok or path == "/" else 503, body)
        else:
            self._send(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        if not self.path.startswith("/healthz"):
            log(f"{self.address_string()} {fmt % args}")


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log(f"listening on :{PORT} (db {os.environ.get('DB_HOST', 'postgres')}"
        f"{', redis ' + os.environ['REDIS_HOST'] if os.environ.get('REDIS_HOST') else ''})")
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
