"""ANSI X9.37 / X9.100-187 image cash letter files: a reader, and a small writer for tests.

An image cash letter is a sequence of records, each preceded by its length as a 4-byte
big-endian integer. The record type is the first two characters of the record; the text
fields are EBCDIC (code page 037) or ASCII, found from the first record (``"01"``, the file
header). Records used here (positions 1-based, as the standard numbers them):

- Type 25, check detail (80 characters): item amount in cents at 48-57, ECE institution
  item sequence number at 58-72. It opens an item.
- Type 31, return record (80 characters), in a return file (returned items) in place of the
  Type 25: item amount at 32-41, ECE institution item sequence number at 54-68. It opens an item.
- Type 50, image view detail: view side indicator at 32 (``0`` front, ``1`` back).
- Type 52, image view data: fixed fields to position 106, then three variable parts each
  after its length field: image reference key (length at 102-106), digital signature
  (5-character length), image data (7-character length). The image data is binary (a TIFF,
  normally Group 4 bitonal), never EBCDIC-converted.

Layouts follow DSTU X9.37-2003 / X9.100-187 as documented by e.g. the moov-io
``imagecashletter`` project. One page per item: its front image, with ``extra`` =
``{"item_sequence": ..., "micr_amount": ...}`` (amount as a decimal string, ``"123.45"``); a read
item's row adds ``micr_match`` (:func:`micr_match`).

>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "cash.x937")
>>> img = np.full((40, 100), 255, np.uint8)
>>> write_x937(path, [X937Item(img, amount_cents=12345, sequence="000000000000001")])
>>> doc = X937Document.from_path(path)
>>> doc.n_pages, doc.page(0).extra["micr_amount"]
(1, '123.45')
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Sequence

import numpy as np

from .config import ReadOptions
from .errors import InputError

#: Extra result columns an X9.37 item adds: its record's sequence number and amount, and whether the
#: amount read is that amount (:func:`micr_match`).
X937_COLUMNS = ("item_sequence", "micr_amount", "micr_match")

_EBCDIC = "cp037"
_FIRST = {b"01": "ascii", b"\xf0\xf1": _EBCDIC}
_MAX_RECORD = 100_000_000

log = logging.getLogger("cheque_reader")


def looks_like_x937(data: bytes) -> bool:
    """Whether ``data`` starts like an image cash letter: a length prefix then a file header ``01``.

    >>> looks_like_x937(b"\\x00\\x00\\x00\\x50" + b"01" + b" " * 78)
    True
    """
    if len(data) < 6:
        return False
    n = int.from_bytes(data[:4], "big")
    return 2 <= n <= _MAX_RECORD and data[4:6] in _FIRST


@dataclass
class _Item:
    sequence: str
    amount: str
    image_offset: int = -1
    image_length: int = 0
    error: str = ""
    where: str = ""  # for a row that stands for no single item: what it stands for


#: Length of the fixed-length records read here (Type 25, Type 31, Type 99), as the standard fixes it.
_FIXED_LENGTH = 80

#: The records that open an item, by type: (name, item amount, ECE institution item sequence number), the
#: fields as 0-based slices of the record.
_ITEM_RECORDS = {
    "25": ("check detail record (Type 25)", slice(47, 57), slice(57, 72)),
    "31": ("return record (Type 31)", slice(31, 41), slice(53, 68)),
}


class X937Document:
    """An opened image cash letter: one page per item, a check detail (Type 25) or, in a return
    file, a return record (Type 31).

    A file cut off inside an item keeps the items before it; the cut item's page raises
    :class:`InputError` saying where the file ends (one row per item). Nothing is lost silently:
    when a damaged record length stops the walk before the file's end, one more page (its last)
    stands for the rest of the file and raises saying where and why the walk stopped; and when
    the file control record (Type 99; else the Type 90 records) counts more items than were
    found, one more page raises saying so. A Type 25 or 31 record that is not 80 bytes is a
    damaged item (its page raises), not a garbage sequence number.

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "cash_letter.x937"
    >>> write_x937(path, [X937Item(np.full((300, 700), 255, np.uint8), amount_cents=123456)])
    >>> doc = X937Document(str(path), path.read_bytes())
    >>> doc.n_pages, dict(doc.page(0).extra)
    (1, {'item_sequence': '000000000000001', 'micr_amount': '1234.56'})
    """

    kind = "x937"

    def __init__(self, source: str, data: bytes, options: ReadOptions = ReadOptions()):
        self.source, self.data, self.options = source, data, options
        self.encoding = _FIRST.get(data[4:6]) if len(data) >= 6 else None
        if self.encoding is None:
            raise InputError(f"{source}: not an X9.37 file (no file header record '01' at the start)")
        self.items: list[_Item] = []
        self.truncated = ""
        self._parse()
        if not self.items:
            raise InputError(
                f"{source}: X9.37 file has no check items" + (f" ({self.truncated})" if self.truncated else "")
            )
        self.n_pages = len(self.items)

    @classmethod
    def from_path(cls, path: str | Path, options: ReadOptions = ReadOptions()) -> "X937Document":
        from .io import read_bytes

        return cls(os.fspath(path), read_bytes(path, options), options)

    def _text(self, raw) -> str:
        return bytes(raw).decode(self.encoding, errors="replace")

    def _parse(self) -> None:
        # records as views of the data, not copies: the images are not copied here
        data, pos, end = memoryview(self.data), 0, len(self.data)
        item: _Item | None = None
        side = None  # view side of the last Type 50 record
        file_count, letter_count = None, None  # items counted by the Type 99 record, by the Type 90s
        while pos < end:
            if end - pos < 4:
                self.truncated = f"file ends inside a record length at byte {pos}"
                break
            n = int.from_bytes(data[pos : pos + 4], "big")
            start = pos + 4
            if n < 2 or n > _MAX_RECORD:
                self.truncated = f"bad record length {n} at byte {pos}"
                break
            if start + n > end and self._tail_count() is not None:  # the file is whole: the length is damaged
                self.truncated = f"bad record length {n} at byte {pos}: runs past the end of the file"
                break
            if start + n > end:
                rtype = self._text(data[start : start + 2]) if end - start >= 2 else "?"
                self.truncated = (
                    f"file cut off mid-record: type {rtype} record at byte {pos} needs {n} bytes, "
                    f"only {end - start} left"
                )
                break
            rec = data[start : start + n]
            rtype = self._text(rec[:2])
            pos = start + n
            if rtype in _ITEM_RECORDS:
                name, amount_at, sequence_at = _ITEM_RECORDS[rtype]
                if n != _FIXED_LENGTH:
                    item = _Item(sequence="", amount="", error=(
                        f"damaged {name} at byte {pos - n - 4}: {n} bytes, not {_FIXED_LENGTH}"))
                else:
                    item = _Item(sequence=self._text(rec[sequence_at]).strip(), amount=_amount(self._text(rec[amount_at])))
                self.items.append(item)
                side = None
            elif rtype == "50":
                side = self._text(rec[31:32])
            elif rtype == "52" and item is not None and item.image_offset < 0 and side in (None, "0"):
                try:
                    off, length = self._image_span(rec)
                except ValueError as exc:
                    item.error = f"bad image view data record: {exc}"
                    continue
                item.image_offset, item.image_length = start + off, length
            elif rtype in ("70", "90", "99", "20", "10"):
                item = None
                if rtype == "99":
                    file_count = _count(self._text(rec[16:24]))
                elif rtype == "90":
                    letter_count = (letter_count or 0) + (_count(self._text(rec[8:16])) or 0)
        found = len(self.items)
        if self.truncated and self.items and self.items[-1].image_offset < 0 and not self.items[-1].error:
            self.items[-1].error = f"X9.37 {self.truncated}"
        elif self.truncated and item is None and not self.items:
            pass
        elif self.truncated and (file_count is not None or not self._stopped_early()):
            # after the file control record (trailing bytes), or the file was cut after the last
            # complete item: no item lost, but the file is damaged
            log.warning("%s: X9.37 %s", self.source, self.truncated)
        if self.truncated and self.items and file_count is None and self._stopped_early():
            # a damaged length: the items after it (if any) cannot be found
            stated = self._tail_count()
            counted = f"; the file control record counts {stated} items" if stated is not None else ""
            self.items.append(_Item(sequence="", amount="", where=f"rest of the file after item {found}", error=(
                f"X9.37 record walk stopped: {self.truncated}; the {end - pos} bytes from there on are not read"
                f"{counted}, {found} found before it")))
        elif not self.truncated and self.items:
            stated = file_count if file_count is not None else letter_count
            if stated is not None and stated > found:
                which = "file control record (Type 99)" if file_count is not None else "cash letter control records (Type 90)"
                self.items.append(_Item(sequence="", amount="", where=f"items missing after item {found}", error=(
                    f"the {which} counts {stated} items, {found} found: {stated - found} missing (damaged records?)")))
            elif stated is not None and stated < found:
                log.warning("%s: X9.37 control records count %d items, %d found", self.source, stated, found)

    def _stopped_early(self) -> bool:
        """Whether the walk stopped before the file's end: a bad record length, or a record that
        seems to run past the end of a file that still ends with its file control record."""
        return self.truncated.startswith("bad record length") or self._tail_count() is not None

    def _tail_count(self) -> int | None:
        """The item count of the file control record (Type 99) that ends the file, if it does."""
        tail = self.data[-_FIXED_LENGTH - 4 :]
        if len(tail) < _FIXED_LENGTH + 4 or int.from_bytes(tail[:4], "big") != _FIXED_LENGTH:
            return None
        if self._text(tail[4:6]) != "99":
            return None
        return _count(self._text(tail[4 + 16 : 4 + 24]))

    def _image_span(self, rec: bytes) -> tuple[int, int]:
        """(offset in the record, length) of the image data of a Type 52 record; ``ValueError`` saying
        which length field is damaged (its row said "invalid literal for int() with base 10: 'ab cd'").
        """

        def length(at: int, width: int, name: str) -> int:
            text = self._text(rec[at : at + width])
            if len(text) < width:
                raise ValueError(f"the record ends before its {name} length (byte {at} of {len(rec)})")
            if not text.strip():  # a numeric-blank field left blank: none
                return 0
            if not text.strip().isdigit():
                raise ValueError(f"its {name} length is {text!r}, not a number")
            return int(text)

        # the standard's fields 14-19: positions 102-105 the image reference key's length (4 digits; 5
        # were read, so that every item of a bank's file was an error row), the key, 5 digits the
        # digital signature's length, the signature, 7 digits the image data's length, the data
        pos = 101
        pos += 4 + length(pos, 4, "image reference key")
        pos += 5 + length(pos, 5, "digital signature")
        data_len = length(pos, 7, "image data")
        pos += 7
        if pos + data_len > len(rec):
            raise ValueError(f"image data length {data_len} runs past the end of the record")
        return pos, data_len

    def page(self, index: int):
        from .io import _ImageDocument, _TiffDocument, sniff

        item = self.items[index]
        extra = {"item_sequence": item.sequence, "micr_amount": item.amount}
        where = item.where or f"item {index + 1} (sequence {item.sequence or '?'})"

        def fail(message: str) -> InputError:
            exc = InputError(f"{self.source}: {where}: {message}")
            exc.extra = extra  # the item's columns stay on its error row
            return exc

        if item.error:
            raise fail(item.error)
        if item.image_offset < 0 or item.image_length == 0:
            raise fail("no front image")
        blob = self.data[item.image_offset : item.image_offset + item.image_length]
        kind = sniff(blob)
        # X9.100-187's image view formats (Type 50 field 5) include PNG (20) and JFIF (21) beside TIFF (00)
        if kind not in ("tiff", "png", "jpeg"):
            raise fail(f"front image is not a TIFF, PNG or JPEG ({kind or 'unknown data'})")
        try:
            doc = (_TiffDocument(self.source, blob, self.options) if kind == "tiff"
                   else _ImageDocument(self.source, bytes(blob), kind, self.options))
            try:
                p = doc.page(0)
            finally:
                doc.close()
        except InputError as exc:
            raise fail(f"front image: {str(exc).removeprefix(self.source + ': ')}") from exc
        from dataclasses import replace

        return replace(p, page=index + 1, extra=extra)

    def close(self) -> None:
        from .io import close_mapped

        close_mapped(self.data)  # a big file is mapped, not read (io.MAP_MIN_BYTES)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _count(field: str) -> int | None:
    """A count field of a control record, ``None`` when it is not digits."""
    field = field.strip()
    return int(field) if field.isdigit() else None


def _amount(field: str) -> str:
    """The item amount field (cents, zero padded) as a decimal string: ``'0000012345'`` -> ``'123.45'``."""
    digits = field.strip()
    if not digits.isdigit():
        return digits
    cents = int(digits)
    return f"{cents // 100}.{cents % 100:02d}"


def micr_match(amount: str | None, micr_amount: str | None) -> str:
    """``"true"`` when the amount read is the item's MICR amount (its Type 25 or 31 record: what the
    bank of first deposit encoded), ``"false"`` when it is another, ``""`` when either is missing
    (no amount read, no amount encoded: zeros). Two sources agreeing on an amount is the check a
    back office runs on its encoding; a ``false`` is an encoding error or a misread (a decimal point
    lost reads 100 times the amount), and a person should see the item either way.

    >>> micr_match("1234.56", "1234.56"), micr_match("123456.00", "1234.56"), micr_match(None, "1.00"), micr_match("5.00", "0.00")
    ('true', 'false', '', '')
    """
    from decimal import Decimal, InvalidOperation

    try:
        read, encoded = Decimal(amount or ""), Decimal(micr_amount or "")
    except InvalidOperation:
        return ""
    return "" if encoded == 0 else str(read == encoded).lower()


# --------------------------------------------------------------------------------------------
# Writer (tests and benchmarks)


@dataclass(frozen=True)
class X937Item:
    """One item to write: front image (TIFF bytes, or a grayscale array encoded as Group 4).

    >>> X937Item(np.full((300, 700), 255, np.uint8), amount_cents=50, sequence="17").amount_cents
    50
    """

    front: bytes | np.ndarray
    amount_cents: int = 0
    sequence: str = ""
    back: bytes | np.ndarray | None = None


def tiff_g4(image: np.ndarray, dpi: int = 200) -> bytes:
    """A grayscale image as a bitonal Group 4 TIFF, thresholded at Otsu's level as a bitonal
    scanner's software does (as ``synth.save_scan``'s ``"tiff-g4"``): light ink is kept.

    >>> tiff_g4(np.full((8, 8), 255, np.uint8))[:4]
    b'II*\\x00'
    """
    import cv2
    from PIL import Image

    _, bw = cv2.threshold(np.ascontiguousarray(image), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bw = Image.fromarray(bw).convert("1")
    buf = BytesIO()
    bw.save(buf, format="TIFF", compression="group4", dpi=(dpi, dpi))
    return buf.getvalue()


#: Items per bundle in :func:`write_x937`: the bundle control record (Type 70) counts them in 4 digits.
BUNDLE_MAX_ITEMS = 9999


def write_x937(path: str | Path, items: Sequence[X937Item], *, encoding: str = "ebcdic", returns: bool = False) -> None:
    """Write a minimal, well-formed image cash letter: bundles of at most :data:`BUNDLE_MAX_ITEMS`
    items, one front (and back) image per item.

    ``encoding`` is ``"ebcdic"`` (code page 037, as banks exchange them) or ``"ascii"``. With
    ``returns``, a return file: collection type ``03`` and a return record (Type 31) per item.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from cheque_reader.io import load_pages
    >>> path = Path(tempfile.mkdtemp()) / "cash_letter.x937"
    >>> write_x937(path, [X937Item(np.full((300, 700), 255, np.uint8), amount_cents=c) for c in (123456, 50)])
    >>> [(p.page, p.extra["micr_amount"]) for p in load_pages(path)]
    [(1, '1234.56'), (2, '0.50')]
    """
    enc = {"ebcdic": _EBCDIC, "ascii": "ascii"}[encoding]
    today = _dt.date(2024, 1, 2).strftime("%Y%m%d")
    out = bytearray()

    def rec(*fields: str, binary: bytes = b"", tail: str = "") -> None:
        text = "".join(fields)
        body = text.encode(enc) + binary + tail.encode(enc)
        out.extend(len(body).to_bytes(4, "big"))
        out.extend(body)

    def fixed(*fields: str) -> None:
        text = "".join(fields)
        assert len(text) <= 80, (len(text), text[:2])
        rec(text.ljust(80))

    routing = "12345678"
    fixed("01", "03", "T", "0" + routing, "0" + routing, today, "1200", "N", "DEST BANK".ljust(18),
          "ORIGIN BANK".ljust(18), "A", "US", "    ", " ")
    fixed("10", "03" if returns else "01", "0" + routing, "0" + routing, today, today, "1200", "I", "G", "00000001",
          "CONTACT".ljust(14), "0000000000", " ", "  ", " ")
    total = n_images = 0
    bundles = [items[b : b + BUNDLE_MAX_ITEMS] for b in range(0, len(items), BUNDLE_MAX_ITEMS)] or [items]
    for k, bundle in enumerate(bundles):
        fixed("20", "01", "0" + routing, "0" + routing, today, today, f"{k + 1:010d}", f"{k + 1:04d}", "01",
              "0" + routing, " " * 5, " " * 12)
        bundle_total = bundle_images = 0
        for i, item in enumerate(bundle, start=k * BUNDLE_MAX_ITEMS):
            seq = (item.sequence or f"{i + 1:015d}")[:15].rjust(15, "0")
            bundle_total += int(item.amount_cents)
            n_views = 2 if item.back is not None else 1
            if returns:  # return reason A (insufficient funds), no addenda, returned once
                fixed("31", routing, "0", "123456789/".rjust(20), f"{int(item.amount_cents):010d}", "A", f"{0:02d}",
                      "G", today, seq, " ", "1", "B", "1", " " * 8)
            else:
                fixed("25", " " * 15, " ", routing, "0", "123456789/".rjust(20), f"{int(item.amount_cents):010d}",
                      seq, "G", " ", "1", "Y", f"{0:02d}", "0", "B")
            for side, image in (("0", item.front), ("1", item.back))[:n_views]:
                blob = image if isinstance(image, (bytes, bytearray)) else tiff_g4(image)
                bundle_images += 1
                fixed("50", "1", "0" + routing, today, "00", "00", f"{len(blob):07d}", side, "00", "0", "  ",
                      "00000", "0000000", "0000000", "0", " " * 8, " " * 15)
                key = f"IMG{i + 1:06d}{side}"
                head = ("52" + "0" + routing + today + "01" + seq + " " * 16 + " " * 16 + " " * 16 + "0"
                        + "0000" * 4 + f"{len(key):04d}" + key + f"{0:05d}" + f"{len(blob):07d}")
                rec(head, binary=bytes(blob))
        fixed("70", f"{len(bundle):04d}", f"{bundle_total:012d}", f"{bundle_total:012d}", f"{bundle_images:05d}",
              " " * 20, " " * 25)
        total += bundle_total
        n_images += bundle_images
    fixed("90", f"{len(bundles):06d}", f"{len(items):08d}", f"{total:014d}", f"{n_images:09d}", "ORIGIN BANK".ljust(18),
          today, " " * 15)
    n_records = 2 + 2 * len(bundles) + len(items) + 2 * n_images + 2
    fixed("99", f"{1:06d}", f"{n_records:08d}", f"{len(items):08d}", f"{total:016d}", "CONTACT".ljust(14),
          "0000000000", " " * 16)
    Path(path).write_bytes(bytes(out))
