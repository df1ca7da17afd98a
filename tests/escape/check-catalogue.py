#!/usr/bin/python3.11
"""The escape catalogue (tests/escape/README.md) names tests that exist.

Every backticked name in a row's Test column must be a guest test
(tests/guest/meson.build) or an end-to-end script (tests/e2e/NAME.sh); a
quoted check after a script's name must be in that script, so the table
cannot point at a check that was renamed or removed. It must also list at
least 60 techniques (issue 6).
"""
import os
import re
import sys

src = os.environ.get("SRC_DIR") or os.path.join(os.path.dirname(__file__), "..")
readme = open(os.path.join(src, "escape", "README.md"), encoding="utf-8").read()
guest_build = open(os.path.join(src, "guest", "meson.build"), encoding="utf-8").read()

hatches = set(re.findall(r"'([a-z0-9_-]+)': '[^']*'", guest_build))
guest = {"escape-" + h for h in hatches} | set(re.findall(r"\['([a-z0-9-]+)', '[a-z]+',", guest_build))

failures = 0
rows = 0
for line in readme.splitlines():
    cells = [c.strip() for c in line.split("|")]
    if len(cells) < 7 or not cells[1].isdigit():
        continue
    rows += 1
    test = cells[5]
    # `name` "check" pairs, and bare `name`s.
    for m in re.finditer(r'`([a-z0-9_-]+)`(?:\s+"([^"]+)")?', test):
        name, check = m.group(1), m.group(2)
        script = os.path.join(src, "e2e", name + ".sh")
        if os.path.exists(script):
            if check and check not in open(script, encoding="utf-8").read():
                print(f"row {cells[1]}: {name}.sh has no check \"{check}\"")
                failures += 1
        elif name not in guest:
            print(f"row {cells[1]}: no guest test or e2e script named {name}")
            failures += 1
        elif check:
            print(f"row {cells[1]}: {name} is a guest test; the quoted check is for scripts")
            failures += 1
if rows < 60:
    print(f"only {rows} techniques; the catalogue should hold at least 60")
    failures += 1
print(f"escape catalogue: {rows} techniques, {failures} problem(s)")
sys.exit(1 if failures else 0)
