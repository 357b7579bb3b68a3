#!/usr/bin/env python3
"""Turn qscale's Markdown docs into a man page, so docs/ stays the one source.

The docs use a small, regular subset of Markdown (headings, paragraphs, bullet
and numbered lists, fenced code, pipe tables, `code`, **bold**, *italic*,
links), and a man page needs the parts of several of them in one page with
man's own section order. Converting that subset here keeps the build free of a
document converter and lets one page gather several docs.

Mapping: the first file's H1 is the page itself; its text before the first H2
is DESCRIPTION; a "Synopsis" H2 moves up under NAME. Its H2s are sections,
deeper headings subsections. In every further file the H1 is a section and
its H2s subsections. Tables become tbl tables, code spans bold, links their
text. The output is plain ASCII roff.

Usage: mkman.py --name N --section S --summary TEXT --version V -o OUT FILE.md...
"""
import argparse
import os
import re
import sys
import time

# Characters of the docs with a readable groff name; others become \[uXXXX].
GLYPHS = {
    "\u2192": "\\(->",
    "\u2190": "\\(<-",
    "\u00d7": "\\(mu",
    "\u2014": "\\(em",
    "\u2013": "\\(en",
    "\u2026": "...",
    "\u2264": "\\(<=",
    "\u2265": "\\(>=",
    "\u00a0": "\\ ",
}

INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])"
                    r"|\[([^\]]+)\]\(([^)]*)\)")


def escape(text, code=False):
    """Escape text for roff; in code, hyphens are minus signs (copy-paste safe)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-" and code:
            out.append("\\-")
        elif ord(ch) > 127:
            out.append(GLYPHS.get(ch, "\\[u%04X]" % ord(ch)))
        else:
            out.append(ch)
    return "".join(out)


def inline(text):
    """Render one paragraph's inline Markdown as roff font changes."""
    out = []
    pos = 0
    for m in INLINE.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + escape(m.group(1), code=True) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + inline(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append("\\fI" + inline(m.group(3)) + "\\fR")
        else:
            out.append(inline(m.group(4)))
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def textline(s):
    """One output text line: never read as a request, never blank."""
    s = s.strip()
    if s.startswith(".") or s.startswith("'"):
        s = "\\&" + s
    return s


def cells(row):
    """Split a pipe-table row on the pipes that are not escaped."""
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)]


def table(rows):
    """A pipe table as a tagged list: one entry per row, tagged by its first cell.

    Reference tables here run to four columns of prose, which no terminal
    width fits as a grid; man pages list such things with .TP (as systemd's
    do), the middle columns as "Header: value" lines and the last as text.
    """
    head = cells(rows[0])
    n = len(head)
    out = []
    for r in rows[2:]:
        r = (cells(r) + [""] * n)[:n]
        out.extend([".TP", textline(inline(r[0]))])
        for h, c in zip(head[1:-1], r[1:-1]):
            if c:
                out.extend([textline(inline(h[:1].upper() + h[1:]) + ": " + inline(c)), ".br"])
        if n > 1 and r[-1]:
            out.append(textline(inline(r[-1])))
        elif out[-1] == ".br":
            out.pop()
    return out


class Page:
    """Collects roff lines per section, so SYNOPSIS can move up."""

    def __init__(self):
        self.sections = []  # (title, lines)

    def section(self, title):
        self.sections.append((title, []))

    def add(self, *lines):
        if not self.sections:
            self.section("DESCRIPTION")
        self.sections[-1][1].extend(lines)


LIST_ITEM = re.compile(r"^(\s*)([-*]|\d+\.)\s+(.*)$")


def convert(path, page, first):
    """Append one Markdown file to the page."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    in_comment = False
    para = []
    depth = []  # indents of the open lists

    def flush():
        if para:
            page.add(textline(inline(" ".join(s.strip() for s in para))))
            para.clear()

    def close_lists(indent=-1):
        while depth and depth[-1] > indent:
            depth.pop()
            if depth:
                page.add(".RE")

    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if in_comment or line.lstrip().startswith("<!--"):
            in_comment = "-->" not in line
            continue
        if line.startswith("```"):
            flush()
            close_lists()
            block = []
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            i += 1
            page.add(".PP", ".RS 4", ".nf")
            page.add(*[textline(escape(b, code=True)) or "\\&" for b in block])
            page.add(".fi", ".RE")
            continue
        m = re.match(r"^(#+)\s+(.*)$", line)
        if m:
            flush()
            close_lists()
            level, title = len(m.group(1)), m.group(2).strip()
            if first and level == 1:
                continue
            if level == 1 or (first and level == 2):
                page.section(title.upper())
            elif level == 2 or (first and level == 3):
                page.add(".SS " + inline(title))
            else:
                page.add(".PP", "\\fB" + inline(title) + "\\fR")
            continue
        if line.startswith("|"):
            flush()
            close_lists()
            rows = [line]
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            page.add(*table(rows))
            continue
        m = LIST_ITEM.match(line)
        if m:
            flush()
            indent = len(m.group(1))
            close_lists(indent)
            if not depth or depth[-1] < indent:
                if depth:
                    page.add(".RS")
                depth.append(indent)
            mark = "\\(bu" if m.group(2) in "-*" else m.group(2)
            page.add(".IP %s 4" % mark)
            para.append(m.group(3))
            continue
        if not line.strip():
            flush()
            continue
        if para:
            para.append(line)
            continue
        if depth:
            # After a blank line: a paragraph of the item it is indented under.
            indent = len(line) - len(line.lstrip())
            close_lists(indent - 1)
            page.add('.IP "" 4' if depth else ".PP")
        else:
            page.add(".PP")
        para.append(line)
    flush()
    close_lists()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--section", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--manual", default="qscale")
    ap.add_argument("--see-also", default="")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("docs", nargs="+")
    args = ap.parse_args()

    # Reproducible: the package's date when building one, else the docs' own.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        epoch = max(os.stat(d).st_mtime for d in args.docs)
    date = time.strftime("%Y-%m-%d", time.gmtime(int(float(epoch))))

    page = Page()
    for n, doc in enumerate(args.docs):
        convert(doc, page, n == 0)

    out = ['.\\" Generated by docs/mkman.py from %s; edit those, not this.'
           % ", ".join(os.path.basename(d) for d in args.docs),
           '.TH "%s" "%s" "%s" "qscale %s" "%s"' % (args.name.upper(), args.section, date,
                                                   args.version, args.manual),
           ".SH NAME", "%s \\- %s" % (escape(args.name), escape(args.summary))]
    order = sorted(page.sections, key=lambda s: s[0] != "SYNOPSIS")
    for title, body in order:
        out.append('.SH "%s"' % escape(title))
        # A section opens with its own paragraph; a leading .PP is redundant.
        while body and body[0] == ".PP":
            body = body[1:]
        out.extend(body)
    if args.see_also:
        out.append(".SH \"SEE ALSO\"")
        out.append(", ".join(fmt_ref(ref) for ref in args.see_also.split(",")))
    text = "\n".join(out) + "\n"
    with open(args.output, "w", encoding="ascii") as f:
        f.write(text)
    return 0


def fmt_ref(ref):
    """NAME(S) as man pages cite each other: the name bold, the section plain."""
    m = re.match(r"^(.+)\((\w+)\)$", ref.strip())
    if not m:
        return escape(ref.strip())
    return "\\fB%s\\fR(%s)" % (escape(m.group(1)), m.group(2))


if __name__ == "__main__":
    sys.exit(main())
