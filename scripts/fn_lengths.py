#!/usr/bin/env python3
"""Counts the lengths of the functions in non-test Rust code.

A function's length is its non-blank, non-comment lines from `fn` to its
closing brace. Test code is left out: files named tests.rs or *_tests.rs and
`#[cfg(test)]` items. Prints the functions over the limit, longest first, and
the count per 10 kLOC of non-test code (the measure issue 15 sets: at most 3
functions over 100 lines per 10 kLOC, none over 150).

usage: scripts/fn_lengths.py [SRC_DIR [LIMIT]]
"""
import os
import re
import sys


def strip(text):
    """Blanks out comments, strings and char literals, keeping line breaks."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def block_end(code, open_brace):
    depth = 0
    for j in range(open_brace, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def drop_test_items(code):
    """Blanks `#[cfg(test)]` items (keeping line breaks)."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]", code)
        if not m:
            return code
        k = m.end()
        semi = code.find(";", k)
        brace = code.find("{", k)
        if brace < 0 or (0 <= semi < brace):
            end = semi
        else:
            end = block_end(code, brace)
        code = code[: m.start()] + "\n" * code.count("\n", m.start(), end + 1) + code[end + 1 :]


def functions(code):
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        # The body is the first `{` at depth 0 of the signature's brackets.
        depth, j = 0, m.end()
        while j < len(code):
            ch = code[j]
            if ch in "(<[":
                depth += 1
            elif ch in ")>]":
                depth -= 1
            elif ch == ";" and depth <= 0:
                j = -1
                break
            elif ch == "{" and depth <= 0:
                break
            j += 1
        if j < 0 or j >= len(code):
            continue
        end = block_end(code, j)
        body = code[m.start() : end + 1]
        lines = sum(1 for l in body.split("\n") if l.strip())
        yield m.group(1), code.count("\n", 0, m.start()) + 1, lines


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    total, found = 0, []
    for root, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(".rs") or f == "tests.rs" or f.endswith("_tests.rs"):
                continue
            path = os.path.join(root, f)
            code = drop_test_items(strip(open(path, encoding="utf-8").read()))
            total += sum(1 for l in code.split("\n") if l.strip())
            for name, line, n in functions(code):
                if n > limit:
                    found.append((n, f"{path}:{line}", name))
    found.sort(reverse=True)
    for n, where, name in found:
        print(f"{n:5}  {name:<28} {where}")
    per = len(found) / total * 10000 if total else 0.0
    print(f"{len(found)} functions over {limit} lines in {total} lines of non-test code = {per:.2f} per 10 kLOC; longest {found[0][0] if found else 0}")


if __name__ == "__main__":
    main()
