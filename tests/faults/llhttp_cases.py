#!/usr/bin/env python3
"""Extracts the raw requests of llhttp's test/request/*.md into files.

usage: llhttp_cases.py SRC_DIR OUT_DIR

Each ```http block becomes OUT_DIR/<md>-<n>.req, encoded as llhttp's
md-test does: the trailing newline dropped, a backslash-newline joins
lines, every newline becomes CRLF, then the escapes \\r \\n \\t \\f \\xHH
and \\ooo.  OUT_DIR/MANIFEST has one line per case: "file<TAB>verdict"
where verdict is "error" when llhttp's expected log ends in an error
(strict or lenient), else "ok".
"""
import os
import re
import sys

ESC = re.compile(r"\\(r|n|t|f|x[0-9a-fA-F]{2}|[0-7]{1,3})")


def decode(text):
    if text.endswith("\n"):
        text = text[:-1]
    text = text.replace("\\\n", "")
    text = text.replace("\n", "\r\n")

    def one(m):
        s = m.group(1)
        if s == "r":
            return "\r"
        if s == "n":
            return "\n"
        if s == "t":
            return "\t"
        if s == "f":
            return "\f"
        if s[0] == "x":
            return chr(int(s[1:], 16))
        return chr(int(s, 8))

    text = ESC.sub(one, text)
    # escapes are bytes; any other character is written as UTF-8
    return b"".join(c.encode("latin-1") if ord(c) < 256 else c.encode("utf-8")
                    for c in text)


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    manifest = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".md"):
            continue
        lines = open(os.path.join(src, name), encoding="utf-8").read().split("\n")
        i, n = 0, 0
        while i < len(lines):
            if lines[i].strip() != "```http":
                i += 1
                continue
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            body = "\n".join(lines[i + 1:j]) + "\n"
            # the expected events follow in a ```log block
            k = j + 1
            while k < len(lines) and lines[k].strip() not in ("```log", "```http"):
                k += 1
            verdict = "ok"
            if k < len(lines) and lines[k].strip() == "```log":
                m = k + 1
                while m < len(lines) and lines[m].strip() != "```":
                    if " error code=" in lines[m]:
                        verdict = "error"
                    m += 1
            n += 1
            fn = "%s-%03d.req" % (name[:-3], n)
            with open(os.path.join(out, fn), "wb") as f:
                f.write(decode(body))
            manifest.append("%s\t%s" % (fn, verdict))
            i = j + 1
    with open(os.path.join(out, "MANIFEST"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    print("llhttp_cases: %d requests" % len(manifest))


if __name__ == "__main__":
    main()
