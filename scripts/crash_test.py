"""Crash test: acknowledged clinical writes survive SIGKILL of the server.

Run:  .venv/bin/python scripts/crash_test.py [--rounds 10] [--clients 4]
                                             [--database-url postgres://...]
Each round starts `ivig serve` (gunicorn, 2 sync workers) on 127.0.0.1, lets a few clients
record infusion-log entries through the htmx form as fast as they can, SIGKILLs the whole
server (master and workers) at a random moment 0.5-3 s in, and starts it again. An entry
counts as acknowledged when the server answered 200; at the end every acknowledged entry is
looked up in the database. Bounded: at most 100 rounds; loopback only. Prints figures.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import threading
import time

import live


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="a throwaway PostgreSQL database")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    rounds = max(1, min(args.rounds, 100))
    rng = random.Random(args.seed)
    env = live.environment(args.database_url)
    worlds = live.build_world(env, patients=1)
    world = worlds[0]
    acknowledged: list[str] = []
    unanswered = 0
    lock = threading.Lock()
    t0 = time.monotonic()
    for round_number in range(rounds):
        server = live.Server(env, workers=2).start()
        sessions = []
        try:
            for _ in range(args.clients):
                client = live.Client(server.base, timeout=60)
                if client.login(world.email, world.password) != 302:
                    raise SystemExit("login failed")
                client.timeout = 10
                sessions.append(client)
        except BaseException:
            server.stop()
            raise
        running = threading.Event()
        running.set()

        def write(
            index: int,
            client: live.Client,
            round_number: int = round_number,
            running: threading.Event = running,
        ) -> None:
            nonlocal unanswered
            n = 0
            while running.is_set():
                n += 1
                name = f"crash-{round_number}-{index}-{n}"
                try:
                    status = client.record_premedication(world, name)
                except Exception:  # the server died mid-request: not acknowledged
                    with lock:
                        unanswered += 1
                    return
                if status == 200:
                    with lock:
                        acknowledged.append(name)

        threads = [threading.Thread(target=write, args=(i, c), daemon=True)
                   for i, c in enumerate(sessions)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.5, 3.0))
        server.kill()
        running.clear()
        for t in threads:
            t.join(timeout=30)
        print(f"round {round_number + 1}: killed; {len(acknowledged)} acknowledged so far")
    found = live.count_entries(env, acknowledged)
    lost = sorted(set(acknowledged) - found)
    print(f"\n{'PostgreSQL' if args.database_url else 'SQLite'}: {rounds} SIGKILLs in "
          f"{time.monotonic() - t0:.0f} s; {len(acknowledged)} writes acknowledged, "
          f"{len(found)} found after restart, {len(lost)} lost; "
          f"{unanswered} requests cut off by the kill (never acknowledged)")
    if lost:
        print("lost:", ", ".join(lost[:20]))


if __name__ == "__main__":
    main()
