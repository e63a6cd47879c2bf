#!/usr/bin/env python3
"""Counts what a user can name or call from a crate's root, from its rustdoc HTML.

    cargo doc -p balance-api --no-deps && python3 xtask/bench/public-items.py target/doc/balance_api

Each item page counts 1 (modules, types, functions, constants), plus its inherent methods,
associated constants, public fields and enum variants (the part of the page before its trait
implementations); each re-export without a page of its own counts 1. Trait impls don't count.
Prints one line per item, then the total.
"""
import pathlib
import re
import sys


def items(doc: pathlib.Path, prefix: str):
    index = (doc / "index.html").read_text()
    # Re-exports that rustdoc lists without inlining (e.g. `pub use rust_decimal::Decimal`).
    for path in re.findall(r'<code>pub use ((?:<a [^>]*>)?[A-Za-z_0-9:]+(?:</a>)?);</code>', index):
        name = re.sub(r"<[^>]*>", "", path).rsplit("::", 1)[-1]
        yield f"{prefix}{name} (re-export)"
    for page in sorted(doc.glob("*.html")):
        kind, _, name = page.stem.partition(".")
        if kind not in {"struct", "enum", "fn", "constant", "type", "trait", "macro", "static", "union"}:
            continue
        yield f"{prefix}{name}"
        text = page.read_text()
        own = text.split('id="trait-implementations"')[0]
        for member_kind, member in re.findall(
            r'id="(method|variant|structfield|associatedconstant)\.([A-Za-z_0-9]+)"', own
        ):
            yield f"{prefix}{name}::{member} ({member_kind})"
    for sub in sorted(p for p in doc.iterdir() if p.is_dir() and (p / "index.html").exists()):
        yield f"{prefix}{sub.name} (module)"
        yield from items(sub, f"{prefix}{sub.name}::")


def main():
    doc = pathlib.Path(sys.argv[1])
    found = sorted(set(items(doc, "")))
    for item in found:
        print(item)
    print(f"total: {len(found)}")


if __name__ == "__main__":
    main()
