#!/usr/bin/env python3
"""31 days of small recordings for the benchmarks: bench-tree.py SOURCE CHANNELS FILES [--aged].

--aged: each file's time is its recording's end (at most 10 minutes ago), as a recorder
leaves it; without it, the time it was written here (every recording looks fresh)."""
import datetime
import os
import sys

root, channels, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
aged = "--aged" in sys.argv[4:]
now = datetime.datetime.now()
today = now.date()
for d in range(31):
    day = today - datetime.timedelta(days=d)
    for ch in range(1, channels + 1):
        folder = os.path.join(root, day.strftime("%Y/%m/%d"), f"ch{ch:02d}")
        os.makedirs(folder, exist_ok=True)
        for h in range(files):
            name = f"{h // 2:02d}.{30 * (h % 2):02d}.00-{h // 2:02d}.{30 * (h % 2) + 29:02d}.59[R][0@0][0].dav"
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(b"DHAV" + bytes(60))
            if aged:
                start = datetime.datetime.combine(day, datetime.time())
                end = start + datetime.timedelta(hours=h // 2, minutes=30 * (h % 2) + 29, seconds=59)
                t = min(end, now - datetime.timedelta(minutes=10)).timestamp()
                os.utime(path, (t, t))
