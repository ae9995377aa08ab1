#!/usr/bin/env python3
"""The README's configuration tables are what the programs print with
--print-config-reference, row for row: key, type, default, allowed range
and meaning.

    readme_config_tables.py README SETUP STREAMER HEALTHMON           check; exit 1 on a difference
    readme_config_tables.py README SETUP STREAMER HEALTHMON --write   rewrite the README's tables
"""
import re
import subprocess
import sys

# README section (config file) -> (program index, table name it prints, or None for its only table)
SECTIONS = {
    "config/setup.config.json": (0, "setup.config.json"),
    "config/playlist.config.json": (0, "playlist.config.json"),
    "config/streaming.config.json": (1, None),
    "config/healthmon.config.json": (2, None),
}


def program_tables(binary):
    """{table name or None: [row lines]} from one program's reference."""
    out = subprocess.run([binary, "--print-config-reference"], capture_output=True, text=True, check=True).stdout
    tables, name = {}, None
    for line in out.splitlines():
        if line.endswith(":") and not line.startswith("|"):
            name = line[:-1]
        elif line.startswith("|"):
            tables.setdefault(name, []).append(line)
    return tables


def readme_table(text, section):
    """(start, end, rows) of the first table after the section heading."""
    h = re.search(r"^### `" + re.escape(section) + r"`\n", text, re.M)
    if not h:
        raise SystemExit(f"README has no section for {section}")
    rows = re.compile(r"(?:^\|.*\n)+", re.M).search(text, h.end())
    return rows.start(), rows.end(), rows.group(0).splitlines()


def main(argv):
    readme, binaries, write = argv[0], argv[1:4], "--write" in argv
    text = open(readme).read()
    printed = [program_tables(b) for b in binaries]
    bad = 0
    for section, (prog, name) in SECTIONS.items():
        want = printed[prog].get(name)
        if not want:
            raise SystemExit(f"{binaries[prog]} printed no table {name or ''}")
        start, end, have = readme_table(text, section)
        if have == want:
            continue
        if write:
            text = text[:start] + "\n".join(want) + "\n" + text[end:]
            continue
        bad += 1
        missing, extra = [r for r in want if r not in have], [r for r in have if r not in want]
        print(f"README's {section} table differs from the program's reference:")
        for r in missing:
            print(f"  program: {r}")
        for r in extra:
            print(f"  README:  {r}")
        if not missing and not extra:
            print("  (same rows, another order)")
    if write:
        with open(readme, "w") as f:
            f.write(text)
    print(f"{len(SECTIONS) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
