"""A YAML subset, read with the standard library alone.

Enough for the semantic-conventions registry in semconv/ (and 218 of the 250
files of the upstream v1.44 model, read exactly as PyYAML reads them): block
mappings and sequences, plain, single- and double-quoted scalars, one-line flow
sequences of scalars, ``>`` and ``|`` block scalars (with ``-`` chomping), and
comments. Anything else (flow mappings, anchors, aliases, tags, multi-line plain
or quoted scalars, tabs, duplicate keys) raises ``YamlError`` naming the line,
rather than being read differently from a real YAML parser.
"""

from __future__ import annotations

import dataclasses
import re

class YamlError(ValueError):
    """A construct outside the supported subset, or malformed input."""


@dataclasses.dataclass
class _Line:
    no: int  # 1-based
    indent: int
    text: str  # without indentation; raw (comments not stripped)
    comment: bool = False  # a comment-only line: content inside a block scalar


_KEY = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]*):(?:\s+(.*))?$")
_BLOCK_SCALAR = re.compile(r"^([|>])([+-]?)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")


def _strip_comment(text: str) -> str:
    """Drop a trailing `# comment` that is outside quotes."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


class _Parser:
    def __init__(self, text: str):
        self.lines: list[_Line | None] = []  # None = blank
        for no, raw in enumerate(text.splitlines(), 1):
            body = raw.lstrip(" ")
            if body.startswith("\t"):
                raise YamlError(f"line {no}: tab indentation is not supported")
            if not body.strip() or (raw.strip() == "---" and no == 1):
                self.lines.append(None)
                continue
            self.lines.append(_Line(no, len(raw) - len(body), body.rstrip(), body.startswith("#")))
        self.i = 0

    def _skip_blank(self) -> None:
        while self.i < len(self.lines) and (self.lines[self.i] is None or self.lines[self.i].comment):
            self.i += 1

    def _peek(self) -> _Line | None:
        self._skip_blank()
        return self.lines[self.i] if self.i < len(self.lines) else None

    def parse(self):
        first = self._peek()
        if first is None:
            return None
        value = self._block(first.indent)
        rest = self._peek()
        if rest is not None:
            raise YamlError(f"line {rest.no}: unexpected indentation")
        return value

    def _block(self, indent: int):
        line = self._peek()
        assert line is not None and line.indent == indent
        if line.text == "-" or line.text.startswith("- "):
            return self._sequence(indent)
        return self._mapping(indent)

    def _sequence(self, indent: int) -> list:
        out = []
        while True:
            line = self._peek()
            if line is None or line.indent < indent:
                return out
            if line.indent > indent:
                raise YamlError(f"line {line.no}: unexpected indentation")
            if not (line.text == "-" or line.text.startswith("- ")):
                return out
            rest = line.text[1:].lstrip(" ")
            if not rest or rest.startswith("#"):
                self.i += 1
                nxt = self._peek()
                if nxt is None or nxt.indent <= indent:
                    out.append(None)
                else:
                    out.append(self._block(nxt.indent))
                continue
            col = indent + (len(line.text) - len(rest))
            if _KEY.match(_strip_comment(rest)) or rest.startswith("- "):
                # `- key: value` opens a mapping (or `- - x` a sequence) whose
                # first line is the rest of this one.
                self.lines[self.i] = _Line(line.no, col, rest)
                out.append(self._block(col))
            else:
                self.i += 1
                out.append(_scalar(_strip_comment(rest), line.no))
                nxt = self._peek()
                if nxt is not None and nxt.indent > indent:
                    raise YamlError(f"line {nxt.no}: multi-line plain scalars are not supported")

    def _mapping(self, indent: int) -> dict:
        out: dict = {}
        while True:
            line = self._peek()
            if line is None or line.indent < indent:
                return out
            if line.indent > indent:
                raise YamlError(f"line {line.no}: unexpected indentation")
            if line.text == "-" or line.text.startswith("- "):
                return out  # a sequence item of an enclosing sequence
            text = _strip_comment(line.text)
            m = _KEY.match(text)
            if not m:
                raise YamlError(f"line {line.no}: expected `key: value`, got {text!r}")
            key, rest = m.group(1), (m.group(2) or "").strip()
            if key in out:
                raise YamlError(f"line {line.no}: duplicate key {key!r}")
            self.i += 1
            block = _BLOCK_SCALAR.match(rest)
            if block:
                out[key] = self._block_scalar(indent, block.group(1), block.group(2), line.no)
            elif rest:
                out[key] = _scalar(rest, line.no)
                nxt = self._peek()
                if nxt is not None and nxt.indent > indent:
                    raise YamlError(f"line {nxt.no}: multi-line plain scalars are not supported")
            else:
                nxt = self._peek()
                if nxt is not None and nxt.indent > indent:
                    out[key] = self._block(nxt.indent)
                elif nxt is not None and nxt.indent == indent and (
                    nxt.text == "-" or nxt.text.startswith("- ")
                ):
                    out[key] = self._sequence(indent)
                else:
                    out[key] = None

    def _block_scalar(self, parent: int, style: str, chomp: str, no: int) -> str:
        raw: list[tuple[int, str] | None] = []
        base = None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line is None or (line.comment and line.indent <= parent):
                raw.append(None)
                self.i += 1
                continue
            if line.indent <= parent:
                break
            if base is None:
                base = line.indent
            if line.indent < base:
                raise YamlError(f"line {line.no}: block scalar line is less indented than its first")
            raw.append((line.indent - base, line.text))
            self.i += 1
        while raw and raw[-1] is None:
            raw.pop()
        if base is None:
            raise YamlError(f"line {no}: empty block scalar")
        lines = []
        for item in raw:
            if item is None:
                lines.append("")
                continue
            extra, text = item
            if extra and style == ">":
                raise YamlError(f"line {no}: more-indented lines in a folded scalar are not supported")
            lines.append(" " * extra + text)
        if style == "|":
            body = "\n".join(lines)
        else:  # folded: lines joined by a space, a blank line is a line break
            body = ""
            for text in lines:
                if text == "":
                    body += "\n"
                    continue
                if body and not body.endswith("\n"):
                    body += " "
                body += text
        return body if chomp == "-" else body + "\n"


def _scalar(text: str, no: int):
    if not text:
        return None
    ch = text[0]
    if ch == '"':
        m = re.match(r'^"((?:[^"\\]|\\.)*)"$', text)
        if not m:
            raise YamlError(f"line {no}: unterminated or trailing text after {text!r}")
        escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/"}
        return re.sub(r"\\(.)", lambda e: escapes.get(e.group(1), "\\" + e.group(1)), m.group(1))
    if ch == "'":
        m = re.match(r"^'((?:[^']|'')*)'$", text)
        if not m:
            raise YamlError(f"line {no}: unterminated or trailing text after {text!r}")
        return m.group(1).replace("''", "'")
    if ch == "[":
        if not text.endswith("]"):
            raise YamlError(f"line {no}: a flow sequence must end on its line")
        return [_scalar(item, no) for item in _split_flow(text[1:-1], no)]
    if ch in "{&*!%@`|>":
        raise YamlError(f"line {no}: {text!r}: flow mappings, anchors, aliases, tags are not supported")
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text in ("null", "Null", "NULL", "~"):
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if ": " in text or text.endswith(":"):
        raise YamlError(f"line {no}: {text!r}: quote a plain scalar that contains ': '")
    return text


def _split_flow(body: str, no: int) -> list[str]:
    items, cur, quote = [], "", None
    for ch in body:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch == ",":
            items.append(cur.strip())
            cur = ""
        elif ch in "[]{}":
            raise YamlError(f"line {no}: nested flow collections are not supported")
        else:
            cur += ch
    if quote:
        raise YamlError(f"line {no}: unterminated quote in a flow sequence")
    if cur.strip():
        items.append(cur.strip())
    elif items:
        raise YamlError(f"line {no}: empty item in a flow sequence")
    return items


def parse_yaml(text: str):
    """Parse the supported YAML subset into dicts, lists and scalars."""
    return _Parser(text).parse()
