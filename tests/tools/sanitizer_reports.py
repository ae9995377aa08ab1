#!/usr/bin/env python3
"""Fails when AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer
wrote a report into DIR (their log_path) during the test run, and prints
each report's first lines with the program that wrote it."""
import os
import sys

folder = sys.argv[1]
reports = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
for name in reports:
    with open(os.path.join(folder, name), errors="replace") as f:
        text = f.read()
    print(f"--- {name}\n{text[:4000]}")
print(f"{len(reports)} sanitizer report(s) in {folder}")
sys.exit(1 if reports else 0)
