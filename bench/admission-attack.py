#!/usr/bin/env python3
"""Hostile-client scenarios for `haven admission serve`, run by bench/admission.sh.

    admission-attack.py SCENARIO --haven BIN --work DIR [--port N]

DIR holds what bench/admission.sh made: ca.crt, tls.crt, tls.key and allowed-pod.json (a
request as an API server sends it, `__UID__` for its uid). Each scenario starts its own
webhook (`--no-watch`, on 127.0.0.1:PORT), prints what it saw, and ends with a PASS/MISS line
per requirement of issue #25 ("a webhook that cannot be starved"):

  idle     clients from 10 addresses open connections and say nothing after the TLS
           handshake, or send the HTTP/2 preface and then nothing, beyond the global connection
           limit; meanwhile an ordinary client (an address of its own, a keep-alive connection
           made before, and new connections) must be answered. Prints the webhook's RSS before,
           during and after, and when the server had closed the silent connections.
  fds      the webhook's open-files limit is lowered under it (prlimit) to a few more than it
           has open, and clients take the rest: `accept` fails with EMFILE. The server must not
           spin (CPU time printed), must log the failure once per interval (log lines printed),
           and must answer ordinary requests. RSS printed.
  sigterm  keep-alive clients send back to back (as a busy API server); SIGTERM mid-run. No
           request in flight may fail; open connections are served through the drain period,
           new ones refused; the process exits 0.
  all      the three in turn.

Python's ssl and http.client only (no packages). Loopback addresses 127.0.0.2-127.0.0.11 stand
for other clients (Linux routes all of 127/8 to lo).
"""
import argparse
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


class Webhook:
    """A `haven admission serve` process and its log."""

    def __init__(self, args, port, *extra):
        self.port = port
        self.log = []
        cmd = [args.haven, "admission", "serve", "--no-watch", "--listen", f"127.0.0.1:{port}",
               "--cert", f"{args.work}/tls.crt", "--key", f"{args.work}/tls.key", *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "HAVEN_LOG": "info"})
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        for _ in range(300):
            if any('"listening"' in line for line in self.log):
                return
            if self.proc.poll() is not None:
                sys.exit(f"the webhook did not start: {self.log}")
            time.sleep(0.05)
        sys.exit(f"the webhook did not start in time: {self.log}")

    def _read(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_files(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def lines(self, needle):
        return sum(needle in line for line in self.log)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Client:
    """An HTTPS client that trusts the bench CA."""

    def __init__(self, args, port):
        self.port = port
        self.body = open(f"{args.work}/allowed-pod.json").read()
        self.cafile = f"{args.work}/ca.crt"
        self.context = ssl.create_default_context(cafile=self.cafile)
        self.counter = 0
        self.lock = threading.Lock()

    def tls(self, source="127.0.0.1", alpn=("http/1.1",)):
        """A TLS connection from `source` offering `alpn`, or None when refused."""
        try:
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(source, 0))
        except OSError:
            return None
        context = ssl.create_default_context(cafile=self.cafile)
        context.set_alpn_protocols(list(alpn))
        try:
            return context.wrap_socket(raw, server_hostname="localhost")
        except (OSError, ssl.SSLError):
            raw.close()
            return None

    def connection(self):
        """An http.client keep-alive connection (not yet connected)."""
        return http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=10)

    def review(self, conn):
        """One review on `conn`: (allowed, the server closes the connection after it)."""
        with self.lock:
            self.counter += 1
            uid = f"attack-{self.counter}"
        conn.request("POST", "/validate", body=self.body.replace("__UID__", uid),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status == 200 and b'"allowed":true' in data, resp.will_close


def ordinary(client, n):
    """`n` reviews, each on a new connection from 127.0.0.1: how many were answered."""
    answered = 0
    for _ in range(n):
        conn = client.connection()
        try:
            ok, _ = client.review(conn)
            answered += ok
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
    return answered


def verdict(ok):
    return "PASS" if ok else "MISS"


def idle(args):
    print("== idle connections: silent after the handshake, or after the HTTP/2 preface, beyond the limit")
    limit = 512
    web = Webhook(args, args.port, "--max-connections", str(limit), "--header-timeout", "5s",
                  "--idle-timeout", "10s")
    client = Client(args, args.port)
    try:
        rss_before = web.rss_kib()
        # An API server: a keep-alive connection with a review every 0.5 s throughout.
        steady = {"ok": 0, "failed": 0}
        stop = threading.Event()

        def api_server():
            conn = client.connection()
            while not stop.is_set():
                try:
                    ok, close = client.review(conn)
                    steady["ok" if ok else "failed"] += 1
                    if close:
                        conn.close()
                        conn = client.connection()
                except (OSError, http.client.HTTPException):
                    steady["failed"] += 1
                    conn.close()
                    conn = client.connection()
                stop.wait(0.5)
            conn.close()

        steady_thread = threading.Thread(target=api_server)
        steady_thread.start()
        silent = []
        started = time.time()
        for i in range(800):
            source = f"127.0.0.{2 + i % 10}"
            alpn = ("h2",) if i % 2 else ("http/1.1",)
            s = client.tls(source, alpn)
            if s is None:
                continue
            if i % 4 == 1:
                try:
                    s.sendall(H2_PREFACE)
                except OSError:
                    pass
            silent.append(s)
        opened = len(silent)
        rss_during = web.rss_kib()
        during_new = ordinary(client, 20)
        # When the server has closed them: a read returns EOF (or fails).
        for s in silent:
            s.settimeout(0.0)
        closed_at = None
        deadline = time.time() + 30
        while time.time() < deadline:
            alive = 0
            for s in silent:
                try:
                    if s.recv(65536):
                        alive += 1
                except ssl.SSLWantReadError:
                    alive += 1
                except (OSError, ssl.SSLError):
                    pass
            if alive == 0:
                closed_at = time.time() - started
                break
            time.sleep(0.5)
        stop.set()
        steady_thread.join()
        for s in silent:
            s.close()
        time.sleep(1)
        rss_after = web.rss_kib()
        after_new = ordinary(client, 20)
        print(f"silent connections opened: {opened} of 800 (10 client addresses, global limit {limit}; "
              f"at the limit new connections replace the oldest idle one)")
        print(f"webhook RSS: before {rss_before} KiB, with the silent connections {rss_during} KiB, "
              f"after {rss_after} KiB")
        closed = f"{closed_at:.1f} s" if closed_at is not None else "not within 30 s"
        print(f"silent connections all closed by the server after: {closed} (header timeout 5 s)")
        print(f"ordinary requests answered meanwhile: {during_new}/20 on new connections, "
              f"{steady['ok']} of {steady['ok'] + steady['failed']} from a client sending one every 0.5 s "
              f"on a keep-alive connection; afterwards {after_new}/20")
        good = steady["failed"] == 0 and steady["ok"] > 0 and during_new == 20 and after_new == 20
        print(f"ordinary requests still answered: {verdict(good)}")
        print(f"silent connections closed: {verdict(closed_at is not None)}")
        return good and closed_at is not None
    finally:
        web.stop()


def fds(args):
    print("== file descriptors exhausted (accept fails with EMFILE)")
    web = Webhook(args, args.port + 1, "--max-connections", "4000", "--max-connections-per-client", "4000",
                  "--header-timeout", "30s")
    client = Client(args, args.port + 1)
    try:
        keep = client.connection()
        kept_ok, _ = client.review(keep)
        rss_before = web.rss_kib()
        spare = 16
        limit = web.open_files() + spare
        subprocess.run(["prlimit", f"--pid={web.proc.pid}", f"--nofile={limit}:{limit}"], check=True)
        holders = []
        for i in range(300):
            try:
                holders.append(socket.create_connection(("127.0.0.1", args.port + 1), timeout=5,
                                                        source_address=(f"127.0.0.{2 + i % 10}", 0)))
            except OSError:
                pass
        time.sleep(1)
        failed_lines_start = web.lines("accept-failed")
        # For 5 s, more clients keep connecting (and holding on), so that accept keeps failing.
        stop = threading.Event()

        def flood():
            i = 0
            while not stop.is_set():
                try:
                    holders.append(socket.create_connection(("127.0.0.1", args.port + 1), timeout=1,
                                                            source_address=(f"127.0.0.{12 + i % 10}", 0)))
                except OSError:
                    time.sleep(0.01)
                i += 1
                time.sleep(0.005)

        flooder = threading.Thread(target=flood)
        cpu0, t0 = web.cpu_seconds(), time.time()
        flooder.start()
        time.sleep(5)
        stop.set()
        flooder.join()
        cpu = web.cpu_seconds() - cpu0
        window = time.time() - t0
        failed_lines = web.lines("accept-failed") - failed_lines_start
        try:
            during_kept, _ = client.review(keep)
        except (OSError, http.client.HTTPException):
            during_kept = False
        during_new = ordinary(client, 10)
        rss = web.rss_kib()
        for h in holders:
            h.close()
        print(f"open-files limit lowered to {limit} ({spare} spare); {len(holders)} connections made by the clients")
        print(f"accept failures logged before the window: {failed_lines_start} line(s)")
        print(f"in {window:.1f} s exhausted: server CPU {cpu:.2f} s, {failed_lines} accept-failed log line(s) "
              f"(one per 10 s interval)")
        print(f"webhook RSS: before {rss_before} KiB, exhausted {rss} KiB")
        print(f"ordinary requests answered: keep-alive connection {'yes' if during_kept else 'no'}, "
              f"new connections {during_new}/10")
        no_spin = cpu < 0.2 * window and failed_lines <= 1 and failed_lines_start >= 1
        good = kept_ok and during_kept and during_new == 10
        print(f"accept backs off and logs once per interval: {verdict(no_spin)}")
        print(f"ordinary requests still answered: {verdict(good)}")
        return no_spin and good
    finally:
        web.stop()


def sigterm(args):
    print("== SIGTERM under load (drain 3 s, grace 10 s)")
    web = Webhook(args, args.port + 2, "--drain-period", "3s", "--shutdown-grace", "10s")
    client = Client(args, args.port + 2)
    stats = {"ok": 0, "ok_after": 0, "failed": [], "last": 0.0}
    lock = threading.Lock()
    signalled = [None]

    def worker():
        while True:
            conn = client.connection()
            try:
                conn.connect()
            except OSError:
                return  # refused: the webhook no longer accepts (an API server tries another replica)
            try:
                while True:
                    try:
                        ok, close = client.review(conn)
                    except (OSError, http.client.HTTPException) as e:
                        with lock:
                            stats["failed"].append(repr(e))
                        break
                    with lock:
                        if ok:
                            stats["ok"] += 1
                            stats["last"] = time.time()
                            if signalled[0] is not None:
                                stats["ok_after"] += 1
                        else:
                            stats["failed"].append("not allowed")
                    if close:
                        break
            finally:
                conn.close()

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for w in workers:
        w.start()
    time.sleep(3)
    signalled[0] = time.time()
    web.proc.send_signal(signal.SIGTERM)
    for w in workers:
        w.join(60)
    code = web.proc.wait(30)
    served_for = stats["last"] - signalled[0]
    print(f"requests answered: {stats['ok']} ({stats['ok_after']} after SIGTERM, the last {served_for:.1f} s after it)")
    print(f"in-flight requests failed: {len(stats['failed'])}" + (f" {stats['failed'][:5]}" if stats["failed"] else ""))
    print(f"exit code: {code}")
    good = not stats["failed"] and code == 0 and served_for >= 2.5
    print(f"no request in flight failed, open connections drained: {verdict(good)}")
    return good


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=["idle", "fds", "sigterm", "all"])
    p.add_argument("--haven", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--port", type=int, default=18450)
    args = p.parse_args()
    run = {"idle": [idle], "fds": [fds], "sigterm": [sigterm], "all": [idle, fds, sigterm]}[args.scenario]
    results = []
    for scenario in run:
        results.append(scenario(args))
        print()
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
