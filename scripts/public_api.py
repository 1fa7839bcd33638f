#!/usr/bin/env python3
"""Lists teleport's public API from the HTML of `cargo doc`: every item with its kind and
path, the fields, variants and inherent methods of each type, the methods of each trait,
and the re-exports of each module. One line per entry, sorted.

Usage: public_api.py DOC_DIR   (DOC_DIR is target/doc/teleport)
"""
import html
import os
import re
import sys

KINDS = {
    "structs": "struct", "enums": "enum", "unions": "union", "traits": "trait",
    "functions": "fn", "types": "type", "constants": "const", "statics": "static",
    "macros": "macro", "attributes": "attr", "derives": "derive",
    "trait-aliases": "trait-alias",
}
MEMBERS = {
    "structfield": "field", "variant": "variant", "method": "method",
    "tymethod": "method", "associatedconstant": "assoc-const",
    "associatedtype": "assoc-type",
}
TRAIT_IMPLS = (
    'id="trait-implementations"',
    'id="synthetic-implementations',
    'id="blanket-implementations',
)


def members(page, kind):
    text = open(page, encoding="utf-8").read()
    if kind == "trait":
        # The trait's own items come before its implementors.
        text = text.split('id="implementors"', 1)[0].split('id="foreign-impls"', 1)[0]
    else:
        # Fields, variants and inherent impls only: no trait, auto or blanket impls, which
        # rustdoc puts after them.
        for section in TRAIT_IMPLS:
            text = text.split(section, 1)[0]
    found = set()
    for prefix, name in re.findall(r'id="([a-z]+)\.([A-Za-z0-9_]+)"', text):
        if prefix in MEMBERS:
            found.add((MEMBERS[prefix], name))
    return found


def main():
    doc = sys.argv[1]
    lines = set()
    listing = open(os.path.join(doc, "all.html"), encoding="utf-8").read()
    for section, body in re.findall(r'<h3 id="([a-z-]+)">[^<]*</h3><ul class="all-items">(.*?)</ul>', listing):
        kind = KINDS.get(section, section)
        for href, path in re.findall(r'<a href="([^"]+)">([^<]+)</a>', body):
            path = "teleport::" + html.unescape(path)
            lines.add(f"{kind} {path}")
            if kind in ("struct", "enum", "union", "trait"):
                for member, name in members(os.path.join(doc, href), kind):
                    lines.add(f"{member} {path}::{name}")
    for folder, _, files in os.walk(doc):
        if "index.html" not in files:
            continue
        module = os.path.relpath(folder, os.path.dirname(doc)).replace(os.sep, "::")
        lines.add(f"mod {module}")
        text = open(os.path.join(folder, "index.html"), encoding="utf-8").read()
        for name in re.findall(r'id="reexport\.([A-Za-z0-9_]+)"', text):
            lines.add(f"use {module}::{name}")
    print("\n".join(sorted(lines)))


main()
