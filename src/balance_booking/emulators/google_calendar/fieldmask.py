"""The `fields` partial-response selector: `items(id,start/dateTime),nextPageToken`."""

from __future__ import annotations

from typing import Any

# A parsed mask: each selected key maps to a sub-mask, or None to keep the whole value.
Mask = dict[str, "Mask | None"]


class FieldMaskError(ValueError):
    """A `fields` value that does not parse."""


def parse_fields(text: str) -> Mask:
    mask, position = _parse_list(text.replace(" ", ""), 0)
    if position != len(text.replace(" ", "")):
        raise FieldMaskError(text)
    return mask


def _parse_list(text: str, position: int) -> tuple[Mask, int]:
    mask: Mask = {}
    while True:
        position = _parse_field(text, position, mask)
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return mask, position


def _parse_field(text: str, position: int, into: Mask) -> int:
    start = position
    while position < len(text) and text[position] not in ",()":
        position += 1
    path = [part for part in text[start:position].split("/") if part]
    if not path:
        raise FieldMaskError(text)
    sub: Mask | None = None
    if position < len(text) and text[position] == "(":
        sub, position = _parse_list(text, position + 1)
        if position >= len(text) or text[position] != ")":
            raise FieldMaskError(text)
        position += 1
    node = into
    for name in path[:-1]:
        child = node.get(name)
        if child is None:
            child = {}
            node[name] = child
        node = child
    last = path[-1]
    existing = node.get(last)
    if isinstance(existing, dict) and sub is not None:
        existing.update(sub)
    else:
        node[last] = sub
    return position


def apply_mask(value: Any, mask: Mask | None) -> Any:
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply_mask(item, mask) for item in value]
    if isinstance(value, dict):
        return {key: apply_mask(value[key], sub) for key, sub in mask.items() if key in value}
    return value
