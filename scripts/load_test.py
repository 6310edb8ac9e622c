"""Load test: N clients for S seconds against one or more `ivig serve` on 127.0.0.1.

Run:  .venv/bin/python scripts/load_test.py [--clients 50] [--seconds 60] [--servers 1]
                                            [--database-url postgres://...]
Each client logs in (its own session), then loops: patient page, infusion page, an entry
recorded through the htmx form, the patients list; client i uses server i % servers, so with
--servers 2 every session's login and records go through a process that shares nothing but the
database with the other. Afterwards every acknowledged entry is looked up in the database.
Bounded: at most 200 clients and 300 seconds; loopback only. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import live


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--database-url", default=None, help="a throwaway PostgreSQL database")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    clients = max(1, min(args.clients, 200))
    seconds = max(1.0, min(args.seconds, 300.0))
    env = live.environment(args.database_url)
    worlds = live.build_world(env, patients=5)
    servers = []
    try:
        for _ in range(max(1, args.servers)):
            servers.append(live.Server(env, workers=args.workers).start())
        print(f"{len(servers)} server(s) x {args.workers} workers on "
              f"{', '.join(s.base for s in servers)}; database "
              f"{'PostgreSQL' if args.database_url else 'SQLite'}; "
              f"{clients} clients for {seconds:.0f} s")
        latencies: dict[str, list[float]] = {}
        statuses: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop_at = [0.0]

        # Log every client in first (Argon2 is slow on purpose), outside the measured minute.
        def log_in(index: int) -> live.Client | None:
            world = worlds[index % len(worlds)]
            c = live.Client(servers[index % len(servers)].base, timeout=120)
            try:
                status = c.login(world.email, world.password)
            except Exception as exc:
                status = type(exc).__name__
            with lock:
                statuses[f"login {status}"] += 1
            c.timeout = 30
            return c if status == 302 else None

        t_login = time.monotonic()
        with ThreadPoolExecutor(max_workers=2 * len(servers) * args.workers) as pool:
            sessions = list(pool.map(log_in, range(clients)))
        print(f"logins: {sum(1 for c in sessions if c)} of {clients} in "
              f"{time.monotonic() - t_login:.1f} s (Argon2, not part of the figures below)")

        def client(index: int) -> None:
            world = worlds[index % len(worlds)]
            c = sessions[index]
            if c is None:
                return
            n = 0
            while time.monotonic() < stop_at[0]:
                n += 1
                name = f"load-{index}-{n}"
                steps = [
                    ("patient page", lambda: c.request(f"/patients/{world.patient_id}/")[0]),
                    ("infusion page", lambda: c.request(
                        f"/patients/{world.patient_id}/infusions/{world.infusion_id}/")[0]),
                    ("record (htmx)", lambda name=name: c.record_premedication(world, name)),
                    ("patients list", lambda: c.request("/patients/")[0]),
                ]
                for what, call in steps:
                    t0 = time.perf_counter()
                    try:
                        status = call()
                    except Exception as exc:  # a refused or dropped connection counts
                        with lock:
                            errors[f"{what}: {type(exc).__name__}"] += 1
                        continue
                    elapsed = time.perf_counter() - t0
                    with lock:
                        latencies.setdefault(what, []).append(elapsed)
                        statuses[f"{status}"] += 1
                        if status >= 500:
                            errors[f"{what}: HTTP {status}"] += 1
                        if what == "record (htmx)" and status == 200:
                            acknowledged.append(name)

        threads = [threading.Thread(target=client, args=(i,), daemon=True)
                   for i in range(clients)]
        t_start = time.monotonic()
        stop_at[0] = t_start + seconds
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 120)
        elapsed = time.monotonic() - t_start
    finally:
        for s in servers:
            s.stop()
    total = sum(len(v) for v in latencies.values())
    print(f"\nrequests: {total} in {elapsed:.1f} s = {total / elapsed:.0f} per second; "
          f"statuses {dict(sorted(statuses.items()))}")
    print(f"errors (5xx or connection): {sum(errors.values())} {dict(errors) or ''}")
    print(f"\n{'request':<16} {'count':>6} {'median ms':>9} {'p95 ms':>7} {'p99 ms':>7}")
    for what, values in latencies.items():
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        p99 = values[int(0.99 * (len(values) - 1))]
        print(f"{what:<16} {len(values):6d} {statistics.median(values) * 1000:9.0f} "
              f"{p95 * 1000:7.0f} {p99 * 1000:7.0f}")
    found = live.count_entries(env, acknowledged)
    print(f"\nacknowledged entries: {len(acknowledged)}; found in the database afterwards: "
          f"{len(found)}; lost: {len(set(acknowledged) - found)}")


if __name__ == "__main__":
    main()
