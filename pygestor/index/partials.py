"""The files of a download in progress: `.<file>.part`, and the range parts of a large file
fetched over several byte ranges at once (`pygestor.fetch_ranges`).

A range part is `.<file>.part-<start>`: the bytes of the file from `<start>` on, as many as have
arrived (its size is its progress). Range 0 is `.<file>.part` itself. Each part ends where the
next one starts (the last at the file's size), so the parts on disk describe their own layout:
no other state is kept, and any subset of them is a valid layout. Downloads, `remove`,
`sync --repair` and space accounting all find them through here.
"""

from __future__ import annotations

from ..storage.base import FileInfo, Storage

RANGE_MARK = "-"  # between `.part` and the start of a range part


def range_part_key(partial: str, start: int) -> str:
    """The key of the range part of `partial` (a `.part` key) that starts at byte `start`."""
    return f"{partial}{RANGE_MARK}{start}"


def range_start(name: str) -> tuple[str, int] | None:
    """(the `.part` name, start) of a range part's file name `.<file>.part-<start>`, else None.
    Only a canonical decimal start counts (no sign, no leading zero), so a name maps to one
    part."""
    base, mark, digits = name.rpartition(".part" + RANGE_MARK)
    if not mark or not base.startswith(".") or len(base) < 2:
        return None
    if not digits.isascii() or not digits.isdigit() or str(int(digits)) != digits:
        return None
    start = int(digits)
    return (f"{base}.part", start) if start > 0 else None


def range_parts(
    storage: Storage, partial: str, listed: list[FileInfo] | None = None
) -> dict[int, FileInfo]:
    """The range parts of `partial` on disk, by start (regular files only). `listed`: the
    listing of its folder when the caller already has it."""
    folder, _, name = partial.rpartition("/")
    found: dict[int, FileInfo] = {}
    for info in storage.list(folder) if listed is None else listed:
        parsed = range_start(info.key.rpartition("/")[2])
        if parsed is not None and parsed[0] == name and info.kind == "file":
            found[parsed[1]] = info
    return found


def bytes_on_disk(storage: Storage, partial: str, size: int, *, ranged: bool) -> int:
    """The bytes of a download in progress already on disk (at most `size`): the `.part` file,
    plus its range parts when `ranged` (a file large enough to be split) and the `.part` exists
    (one listing of the folder then; any other file costs one stat, as before)."""
    found = storage.info(partial)
    if found is None:
        return 0
    total = found.size
    if ranged and size > found.size:
        total += sum(p.size for p in range_parts(storage, partial).values())
    return min(total, size)
