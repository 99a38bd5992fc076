#!/usr/bin/env python3
"""Measures the real-time watcher of the release binary, with the default settings.

  scripts/bench-watch.py [--recordings 100] [--idle-secs 60] [--work /tmp/cctv-bench-watch]

1. Close-to-backup latency: writes N recordings of 1 MiB one after another (a quarter
   second apart, so each is its own event, not a burst), each closed at a known time,
   and polls the backup every 2 ms until each appears whole under its final name.
   Prints p50/p95/p99/max.
2. Idle CPU: with nothing changing, the daemon's user+system CPU time over --idle-secs
   (from /proc/PID/stat), as a share of one core.
3. Memory: a 31-day x 32-channel x 24-file tree (23,808 recordings); starts the daemon on
   it (the first pass copies it), waits for the queue to drain, then reads VmRSS and
   VmHWM. Also the time from start to "watching the source folder" (notify walks the
   tree to add its watches).

With --windows-exe PATH (the Windows build, see scripts/wine-tests.sh) only the latency
is measured, through Wine (--runner, default scripts/wine/wine64): the path where the
OS reports no close event. Wine's CPU and memory say nothing about Windows'.

Linux only (/proc). Speed is measured here, never asserted in a test.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "cctv-mirror")
# The command that runs the program, and the signal that stops it (Wine turns SIGINT
# into the console's Ctrl-C).
CMD = [BIN]
STOP = signal.SIGTERM


def start_daemon(work, extra=None):
    cfg = {"source_dir": "source", "backup_dir": "backup", "log_dir": "logs"}
    cfg.update(extra or {})
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(cfg, f)
    out = open(os.path.join(work, "daemon.out"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen(CMD + ["run", "--config", os.path.join(work, "config.json")], stdout=out, stderr=subprocess.STDOUT)
    return p, t0


def wait_for(pred, secs, what):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.01)
    sys.exit(f"timed out waiting for {what}")


def watching(work):
    try:
        return "watching the source folder" in open(os.path.join(work, "daemon.out")).read()
    except FileNotFoundError:
        return False


def status(work):
    try:
        with open(os.path.join(work, "logs", "status.json")) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def vm(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0  # MiB
    return float("nan")


def stop(p):
    p.send_signal(STOP)
    p.wait(timeout=60)


def pct(values, q):
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def latency_and_idle(work, n, idle_secs, windows=False):
    day = datetime.date.today().strftime("%Y/%m/%d")
    src_day = os.path.join(work, "source", day)
    os.makedirs(src_day)
    p, _ = start_daemon(work)
    wait_for(lambda: watching(work) and status(work), 60, "the daemon to start")
    data = os.urandom(1 << 20)
    lat = []
    for i in range(n):
        name = f"{i:02d}.00.00-{i:02d}.59.59[R][0@0][{i}].dav"
        with open(os.path.join(src_day, name), "wb") as f:
            f.write(b"DHAV" + data[4:])
        closed = time.monotonic()
        dst = os.path.join(work, "backup", day, name)
        while True:
            try:
                if os.stat(dst).st_size == len(data):
                    break
            except FileNotFoundError:
                pass
            if time.monotonic() - closed > 60:
                sys.exit(f"{name} not in the backup after 60 s")
            time.sleep(0.002)
        lat.append(time.monotonic() - closed)
        time.sleep(0.25)
    if windows:
        stop(p)
        return lat, None, None, None
    # Idle: let the status writer and any follow-up settle, then measure.
    time.sleep(10)
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.monotonic(), cpu_ticks(p.pid)
    time.sleep(idle_secs)
    t1, c1 = time.monotonic(), cpu_ticks(p.pid)
    idle_cpu = (c1 - c0) / hz / (t1 - t0) * 100
    rss = vm(p.pid, "VmRSS")
    stop(p)
    return lat, idle_cpu, (c1 - c0) / hz, rss


def big_tree(work):
    src = os.path.join(work, "source")
    today = datetime.date.today()
    n = 0
    for d in range(31):
        day = (today - datetime.timedelta(days=d)).strftime("%Y/%m/%d")
        for ch in range(1, 33):
            folder = os.path.join(src, day, f"ch{ch:02d}")
            os.makedirs(folder)
            for h in range(24):
                path = os.path.join(folder, f"{h:02d}.00.00-{h:02d}.59.59[R][0@0][0].dav")
                with open(path, "wb") as f:
                    f.write(b"DHAV" + bytes(60))
                old = time.time() - 3600
                os.utime(path, (old, old))
                n += 1
    return n


def memory(work):
    n = big_tree(work)
    p, t0 = start_daemon(work)
    wait_for(lambda: watching(work), 300, "the watch to start")
    watch_secs = time.monotonic() - t0
    wait_for(lambda: (status(work) or {}).get("last_pass") is not None, 900, "the first pass")
    time.sleep(5)
    s = status(work)
    rss, hwm = vm(p.pid, "VmRSS"), vm(p.pid, "VmHWM")
    stop(p)
    return n, watch_secs, rss, hwm, s["last_pass"]["copied"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recordings", type=int, default=100)
    ap.add_argument("--idle-secs", type=int, default=60)
    ap.add_argument("--work", default="/tmp/cctv-bench-watch")
    ap.add_argument("--windows-exe", help="measure the latency of this Windows build under Wine")
    ap.add_argument("--runner", default=os.path.join(ROOT, "scripts/wine/wine64"))
    a = ap.parse_args()
    global CMD, STOP
    if a.windows_exe:
        CMD, STOP = [a.runner, os.path.abspath(a.windows_exe)], signal.SIGINT
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)

    lat, idle_cpu, idle_cpu_secs, rss_small = latency_and_idle(
        os.path.join(a.work, "latency"), a.recordings, a.idle_secs, bool(a.windows_exe)
    )
    ms = [x * 1000 for x in lat]
    build = "Windows build under Wine" if a.windows_exe else "Linux"
    print(f"close-to-backup latency ({build}), {len(ms)} recordings of 1 MiB, default settings:")
    print(f"  p50 {pct(ms, .5):.0f} ms   p95 {pct(ms, .95):.0f} ms   p99 {pct(ms, .99):.0f} ms   "
          f"min {min(ms):.0f} ms   max {max(ms):.0f} ms   mean {statistics.mean(ms):.0f} ms")
    if a.windows_exe:
        return
    print(f"idle CPU over {a.idle_secs} s: {idle_cpu_secs:.2f} CPU-s = {idle_cpu:.3f}% of one core (RSS {rss_small:.1f} MiB)")

    n, watch_secs, rss, hwm, copied = memory(os.path.join(a.work, "tree"))
    print(f"31-day tree of {n} recordings: watch up {watch_secs:.2f} s after start; first pass copied {copied}")
    print(f"  RSS while watching it: {rss:.1f} MiB (peak {hwm:.1f} MiB)")


if __name__ == "__main__":
    main()
