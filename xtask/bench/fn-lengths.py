#!/usr/bin/env python3
"""Functions longer than a screen: code lines (not blank, not comments) from `fn` to its closing
brace, for every Rust file under the given directories; tests (`#[cfg(test)]` modules) apart.

    python3 xtask/bench/fn-lengths.py balance-cli/src [--over 60] [--all]
"""
import re, sys, pathlib

def functions(path):
    lines = path.read_text().splitlines()
    in_tests = None
    for i, line in enumerate(lines):
        if re.match(r"\s*#\[cfg\(test\)\]", line):
            in_tests = i
        m = re.match(r"^(\s*)(pub(\([a-z]+\))? )?(const )?(async )?fn (\w+)", line)
        if not m:
            continue
        indent = m.group(1)
        end = next((j for j in range(i, len(lines)) if lines[j] == indent + "}"
                    or (j == i and line.rstrip().endswith("}"))), None)
        if end is None:
            continue
        code = [l for l in lines[i:end + 1] if l.strip() and not l.strip().startswith("//")]
        yield m.group(6), i + 1, len(code), in_tests is not None and i > in_tests

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    over = 60
    if "--over" in sys.argv:
        over = int(sys.argv[sys.argv.index("--over") + 1])
        args = [a for a in args if a != str(over)]
    for root in args:
        for path in sorted(pathlib.Path(root).rglob("*.rs")):
            for name, line, count, test in functions(path):
                if count > over and ("--all" in sys.argv or not test):
                    print(f"{path}:{line}: {name} {count}{' (test)' if test else ''}")

main()
