#!/usr/bin/env python3
"""31 days of small recordings for the benchmarks: bench-tree.py SOURCE CHANNELS FILES."""
import datetime
import os
import sys

root, channels, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
today = datetime.date.today()
for d in range(31):
    day = today - datetime.timedelta(days=d)
    for ch in range(1, channels + 1):
        folder = os.path.join(root, day.strftime("%Y/%m/%d"), f"ch{ch:02d}")
        os.makedirs(folder, exist_ok=True)
        for h in range(files):
            name = f"{h // 2:02d}.{30 * (h % 2):02d}.00-{h // 2:02d}.{30 * (h % 2) + 29:02d}.59[R][0@0][0].dav"
            with open(os.path.join(folder, name), "wb") as f:
                f.write(b"DHAV" + bytes(60))
