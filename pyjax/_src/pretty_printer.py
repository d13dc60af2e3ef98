"""A Wadler-style pretty printer: documents of text, breaks, groups and nesting.

The jaxpr printer (``core.pp_jaxpr``) builds its text from these documents so that
lines wrap where JAX's wrap. Plain text only: no colours, annotations or source maps.
"""
from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Doc", "nil", "text", "concat", "brk", "group", "nest", "join"]

_FLAT, _BREAK = 0, 1


class Doc:
  """A document; ``str(doc)`` or ``doc.format(width)`` lays it out."""
  __slots__ = ()

  def __add__(self, other: Doc) -> Doc:
    return concat([self, other])

  def __str__(self):
    return self.format()

  def format(self, width: int = 80, **_) -> str:
    return _format(self, width)


class _Nil(Doc):
  __slots__ = ()


class _Text(Doc):
  __slots__ = ("text",)

  def __init__(self, s: str):
    self.text = s


class _Concat(Doc):
  __slots__ = ("children",)

  def __init__(self, children):
    self.children = children


class _Break(Doc):
  __slots__ = ("text",)

  def __init__(self, s: str):
    self.text = s


class _Group(Doc):
  __slots__ = ("child",)

  def __init__(self, child: Doc):
    self.child = child


class _Nest(Doc):
  __slots__ = ("n", "child")

  def __init__(self, n: int, child: Doc):
    self.n = n
    self.child = child


_NIL = _Nil()


def nil() -> Doc:
  return _NIL


def text(s: str, *_, **__) -> Doc:
  return _Text(s)


def concat(children: Sequence[Doc]) -> Doc:
  return _Concat(list(children))


def brk(s: str = " ") -> Doc:
  """A break: ``s`` when its group fits on the line, else a newline and indentation."""
  return _Break(s)


def group(doc: Doc) -> Doc:
  """Lays out ``doc``'s breaks flat if the whole group fits the line, else as newlines."""
  return _Group(doc)


def nest(n: int, doc: Doc) -> Doc:
  return _Nest(n, doc)


def join(sep: Doc, docs: Sequence[Doc]) -> Doc:
  docs = list(docs)
  if not docs:
    return _NIL
  if len(docs) == 1:
    return docs[0]
  xs = [docs[0]]
  for d in docs[1:]:
    xs.append(sep)
    xs.append(d)
  return concat(xs)


def _fits(width: int, agenda: list) -> bool:
  """Whether the (flat) group on ``agenda`` fits in ``width`` columns."""
  while width >= 0 and agenda:
    m, doc = agenda.pop()
    t = type(doc)
    if t is _Text:
      width -= len(doc.text)
    elif t is _Concat:
      agenda.extend((m, d) for d in reversed(doc.children))
    elif t is _Break:
      if m == _BREAK:
        return True
      width -= len(doc.text)
    elif t is _Nest:
      agenda.append((m, doc.child))
    elif t is _Group:
      agenda.append((_FLAT, doc.child))
  return width >= 0


def _format(doc: Doc, width: int) -> str:
  lines: list[str] = []
  line: list[str] = []
  k = 0
  agenda = [(0, _BREAK, doc)]
  while agenda:
    i, m, d = agenda.pop()
    t = type(d)
    if t is _Text:
      line.append(d.text)
      k += len(d.text)
    elif t is _Concat:
      agenda.extend((i, m, c) for c in reversed(d.children))
    elif t is _Break:
      if m == _BREAK:
        lines.append("".join(line))
        line = [" " * i]
        k = i
      else:
        line.append(d.text)
        k += len(d.text)
    elif t is _Nest:
      agenda.append((i + d.n, m, d.child))
    elif t is _Group:
      flat = _fits(width - k, [(_FLAT, d.child)])
      agenda.append((i, _FLAT if flat else _BREAK, d.child))
  lines.append("".join(line))
  return "\n".join(lines)
