"""Input files to grayscale pages.

Formats are recognised by their content, not their name: PNG, JPEG, BMP, GIF, WebP, TIFF
(multi-page, Group 4 bitonal, LZW, 16-bit), PDF (``pypdfium2``, the ``[pdf]`` extra)
and ANSI X9.37 / X9.100-187 image cash letters (:mod:`cheque_reader.x937`, one page
per item). A page stored on its side with an EXIF orientation (a phone photo) is turned upright,
whatever its format (:func:`upright`). The pixel count is checked from the header, before decoding, against
``ReadOptions.max_pixels``. Every problem with a file is an
:class:`~cheque_reader.errors.InputError` whose message says what is wrong.

>>> import numpy as np, cv2, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "a.png")
>>> cv2.imwrite(path, np.full((20, 30), 255, np.uint8))
True
>>> [(p.page, p.image.shape) for p in load_pages(path)]
[(1, (20, 30))]
"""

from __future__ import annotations

import collections
import contextlib
import errno
import glob
import logging
import mmap
import os
import re
import sys
import threading
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .config import IMAGE_SUFFIXES, UNREAD_IMAGE_SUFFIXES, ReadOptions
from .errors import ImageTooLargeError, InputError
from .types import Page

log = logging.getLogger("cheque_reader")

#: Resolution a PDF page is rendered at when it holds no scanned image (vector pages); a page that
#: holds one is rendered at the resolution of its largest image (:func:`_pdf_render_dpi`), within
#: ``PDF_DPI_RANGE``: a 300 dpi scan rendered at 200 read worse (2 of 3 samples sent to review).
PDF_DPI = 200
PDF_DPI_RANGE = (100, 600)

_GLOB_CHARS = set("*?[")
_STDERR_LOCK = threading.Lock()  # native_stderr: file descriptor 2 swapped by one thread at a time
#: PDFium is not thread-safe, not even across documents (pypdfium2's documentation: simultaneous calls
#: "would crash or corrupt the process"): every call into it is made holding this lock, so that
#: ``read_cheque`` of PDFs on a thread pool (a web service's uploads) renders one page at a time.
_PDFIUM_LOCK = threading.RLock()
#: Python's warnings filters and Pillow's pixel limit are process-wide, and the blocks that change them
#: for a moment (:func:`quiet_warnings`, :func:`_pil_open`) put back what they found on the way out: run
#: in several threads at once, their restores crossed, and the process kept another thread's state for
#: good (8 threads reading TIFFs: an 'ignore' filter for every warning left in 1 of 3 runs, the host
#: application's own warnings silenced; Pillow's decompression-bomb limit could be left off likewise).
#: They run one at a time.
_GLOBALS_LOCK = threading.RLock()


@contextlib.contextmanager
def quiet_warnings(category: type[Warning] = Warning) -> Iterator[None]:
    """Ignore the warnings of ``category`` while the block runs (Pillow's "Corrupt EXIF data", a
    deprecation notice), one such block at a time in the process (:data:`_GLOBALS_LOCK`): unlike
    ``warnings.catch_warnings`` alone, safe when several threads read at once.

    >>> with quiet_warnings():
    ...     warnings.warn("not shown")
    """
    with _GLOBALS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield
#: A line as libtiff's default handlers write it: its function's name, a colon (``TIFFFillStrip: ...``).
_LIBTIFF_LINE = re.compile(r"[A-Za-z_]\w*: ")

#: libtiff's error messages (not its warnings) that say a page's compressed pixels are damaged: its codecs'
#: decoders (``Fax4Decode: Bad code word at line 261``, ``LZWDecode: ...``) and strip or tile data it
#: cannot read. libtiff writes them to standard error and decodes on (:func:`_libtiff_said`).
LIBTIFF_DAMAGE = re.compile(r"(\w*Decode\w*|TIFFFill(Strip|Tile)|TIFFRead(Encoded|Raw)(Strip|Tile)): (?!Warning,)"
                            r"|Using code not yet in table")
#: libjpeg's warnings (it decodes on) that say a JPEG's compressed pixels are damaged: the data of its scan
#: ends early, holds codes no table has, or loses its place between restart markers; "extraneous bytes
#: before marker 0xd9" (bytes after the last scan, which some cameras write) is no damage (:func:`_decoder_said`).
JPEG_DAMAGE = re.compile(r"Corrupt JPEG data: (premature end of data segment|bad (Huffman|arithmetic) code"
                         r"|found marker 0x\w+ instead of RST|\d+ extraneous bytes before marker 0xd[0-7])"
                         r"|Premature end of JPEG file")
#: A line OpenCV's log, libjpeg or libpng writes to standard error while OpenCV decodes.
_DECODER_LINE = re.compile(r"\[\s*(ERROR|WARN|INFO|DEBUG)\b|Corrupt JPEG data|Premature end of JPEG|Warning: "
                           r"|libpng (error|warning): ")
#: The name Pillow hands libtiff a TIFF by: some of libtiff's lines start with it, not with a function's
#: name (its LZW decoder's ``tempfile.tif: Using code not yet in table.``); it names no file of ours.
_PILLOW_TIFF_NAME = "tempfile.tif: "


@dataclass(frozen=True)
class InputFile:
    """One input to read: ``path`` is what is opened, ``source`` what the result rows say.

    ``source`` is the path as given, or relative to the folder given for files found in a folder
    (unless that name is another file's too: :func:`iter_inputs`), as :func:`source_name` writes it.

    >>> InputFile("/mnt/scans/2026-11/0001.tif", "2026-11/0001.tif").source
    '2026-11/0001.tif'
    """

    path: str
    source: str


def source_name(name: str) -> str:
    r"""``name`` as the ``source`` of result rows: a name that is not valid UTF-8 (its undecodable
    bytes held as surrogates, as Python decodes file names) with those bytes written as backslash
    escapes, so that every output (CSV, JSONL, Parquet, digits, annotations) and ``--resume`` can
    hold it; any other name as it is. The file itself is opened by its real path.

    >>> source_name("ok.png"), source_name(os.fsdecode(b"ch\xe8que.png"))
    ('ok.png', 'ch\\xe8que.png')
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def source_path(source: str) -> str:
    r"""The file a ``source`` names, :func:`source_name` undone: when the name as written is no file,
    its ``\xNN`` escapes are read as the bytes they stand for (the review page and ``finetune`` open
    the scans of a run by their ``source``: a name that is not UTF-8 was 'no such file').

    >>> source_path("ok.png") == "ok.png", source_path("ch\\xe8que.png") == os.fsdecode(b"ch\xe8que.png")
    (True, True)
    """
    if "\\x" not in source or os.path.exists(source):
        return source
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 source.encode("utf-8", "surrogateescape"))
    return os.fsdecode(raw)


def _input(path: str, source: str) -> InputFile:
    return InputFile(path, source_name(source))


# --------------------------------------------------------------------------------------------
# Finding the inputs


def read_from_list(path: str | Path) -> list[str]:
    """Input paths from a text file, one per line (blank lines and a byte-order mark skipped,
    ``\r\n`` line ends taken); ``"-"``: from standard input (``find scans -name '*.png' |
    cheque-reader read --from-list -``). Bytes that are not UTF-8
    are kept as the file system keeps them (``surrogateescape``), so a listed name opens the file
    a folder would have given.

    A relative path is relative to the current folder, as ``tar -T`` and ``xargs`` take it (``find
    scans -name '*.png' > list.txt`` lists ``scans/a.png``), not to the list's folder; when listed
    paths are missing there but lie beside the list (``ls > scans/list.txt``), a warning says so.

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "list.txt")
    >>> _ = open(f, "w").write("a.png\\n\\n b c.tif \\n")
    >>> read_from_list(f)
    ['a.png', ' b c.tif ']
    """
    try:
        # utf-8-sig: a byte-order mark (Notepad's "UTF-8 with BOM", PowerShell's Out-File) is no part of
        # the first path, which was "no such file" with it
        if os.fspath(path) == "-":
            path = "standard input"
            text = sys.stdin.buffer.read().decode("utf-8-sig", errors="surrogateescape")
        else:
            text = Path(path).read_text(encoding="utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the input list: {_reason(exc)}") from exc
    if "\0" in text:  # a binary file given as the list: its NUL bytes are in no path
        raise InputError(f"{path}: not a list of paths, one per line (it holds NUL bytes: find -print0's "
                         "output? list them with -print)")
    paths = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    here = Path(path).parent if path != "standard input" else Path(".")
    beside = [p for p in paths if not os.path.isabs(p) and not os.path.lexists(p) and os.path.lexists(here / p)]
    if beside and os.path.abspath(here) != os.path.abspath("."):
        log.warning("%s: %d listed path(s) (%s) are not found from the current folder, but are beside the list: "
                    "relative paths in a list are relative to the current folder (run from %s, or list them as "
                    "%s)", path, len(beside), ", ".join(beside[:3]) + (", ..." if len(beside) > 3 else ""),
                    here, os.path.join(here, beside[0]))
    return paths


#: The file :func:`mark_output_folder` writes into the folders of pictures cheque-reader makes (the
#: review page's, ``--annotate``'s): a folder found in a folder being read that holds it is left out.
OUTPUT_MARKER = ".cheque-reader-output"


def mark_output_folder(folder: str | Path, what: str) -> None:
    """Write :data:`OUTPUT_MARKER` into ``folder``: its pictures (``what``) are no scans, and a
    ``read`` of a folder that holds it (``review/`` made in the scans folder) leaves them out.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> mark_output_folder(folder, "review pictures")
    >>> [p.name for p in folder.iterdir()] == [OUTPUT_MARKER]
    True
    """
    marker = Path(folder) / OUTPUT_MARKER
    if not marker.is_file():
        marker.write_text(f"{what}, written by cheque-reader: `cheque-reader read` leaves out a folder that holds "
                          f"this file when it finds it in a folder it reads.\n", encoding="utf-8")


def iter_inputs(inputs: Sequence[str | Path | InputFile], *, recursive: bool = True) -> list[InputFile]:
    """The files to read, in order: folders (sorted, recursive), globs and plain paths (an
    :class:`InputFile` is taken as it is: a file with its ``source`` chosen).

    Inside folders only files with a known suffix (``config.IMAGE_SUFFIXES``, and
    ``config.UNREAD_IMAGE_SUFFIXES``: a HEIC photo gets its error row saying what it is) are taken and
    hidden names (starting with ``.``) are skipped, and so are the folders of cheque-reader's own
    pictures (the review page's, ``--annotate``'s: they hold :data:`OUTPUT_MARKER`), with a
    warning; a folder given by name is read whatever it holds. A directory whose name has an image suffix
    (``x.png/``) is listed as an input so that it gets its error row. A path that does not exist
    is kept, so that it gets an error row too.

    A file found in a folder is named (``source``) relative to the folder given; but when two
    different files would get the same name that way (``b1/scan.png`` and ``b2/scan.png``, both
    ``scan.png``), every file of the run is named by its path as given instead, so that no row,
    and no ``--resume`` skip, can stand for the wrong file.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(d, "sub"))
    >>> for name in ("b.png", "sub/a.tif", "sub/b.png", "notes.txt"):
    ...     _ = open(os.path.join(d, name), "wb").write(b"x")
    >>> [f.source for f in iter_inputs([d, "missing.png"])]
    ['b.png', 'sub/a.tif', 'sub/b.png', 'missing.png']
    >>> [os.path.relpath(f.source, d) for f in iter_inputs([d, os.path.join(d, "sub")])]
    ['b.png', 'sub/a.tif', 'sub/b.png', 'sub/a.tif', 'sub/b.png']
    """
    out: list[InputFile] = []
    for item in inputs:
        if isinstance(item, InputFile):  # a file named already (the CLI's ``-``: standard input's scan)
            out.append(item)
            continue
        if isinstance(item, (bytes, bytearray, memoryview)):  # a blob ('bytes' had no attribute 'encode')
            raise TypeError("an input is a path (str or os.PathLike), a folder or a glob, not bytes: "
                            "read_cheque reads a file's content")
        item = os.fspath(item)
        if os.path.isdir(item):
            out.extend(_walk(item, recursive))
        elif not os.path.lexists(item) and _GLOB_CHARS & set(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                out.append(_input(item, item))
            for m in matches:
                if os.path.isdir(m):
                    out.extend(_walk(m, recursive))
                else:
                    out.append(_input(m, m))
        else:
            out.append(_input(item, item))
    # by absolute path (no system call a file: a folder of 20,000 scans costs 0.04 s), only when inputs may overlap
    given = collections.Counter(os.path.abspath(f.path) for f in out) if len(inputs) > 1 else collections.Counter()
    twice = [p for p, n in given.items() if n > 1 and os.path.isfile(p)]
    if twice:  # a folder and a file in it, or one file twice: its pages get a row each time, without a word
        log.warning("%d file(s) given more than once (%s): their pages get a row each time they are given",
                    len(twice), ", ".join(twice[:3]) + (", ..." if len(twice) > 3 else ""))
    paths_named: dict[str, set[str]] = {}
    for f in out:
        paths_named.setdefault(f.source, set()).add(f.path)
    same = [name for name, paths in paths_named.items() if len(paths) > 1]
    if same:  # a file given itself has its path as given as its name already
        log.info("%d file name(s) found in more than one input (%s): the results name every file by its "
                 "path as given", len(same), ", ".join(same[:3]))
        out = [_input(f.path, f.path) for f in out]
    return out


def _walk(folder: str, recursive: bool) -> Iterator[InputFile]:
    seen: set[str] = set()

    def visit(directory: str, rel: str) -> Iterator[InputFile]:
        real = os.path.realpath(directory)
        if real in seen:  # a symlinked folder seen before (or a loop)
            log.warning("skipping %s: folder already read (symlink loop?)", directory)
            return
        seen.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield _input(directory, rel or directory)  # unreadable folder: its error row
            log.warning("cannot list %s: %s", directory, exc)
            return
        skipped, hidden = [], []
        for entry in entries:
            if entry.name.startswith("."):  # macOS's ._scan.png (no image), .git, .DS_Store
                hidden.append(entry.name)
                continue
            name_rel = f"{rel}/{entry.name}" if rel else entry.name
            has_suffix = entry.name.lower().endswith(IMAGE_SUFFIXES + UNREAD_IMAGE_SUFFIXES)
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir and not has_suffix:
                if recursive and os.path.isfile(os.path.join(entry.path, OUTPUT_MARKER)):
                    log.warning("%s left out: it holds cheque-reader's own pictures (%s), not scans",
                                entry.path, OUTPUT_MARKER)
                elif recursive:
                    yield from visit(entry.path, name_rel)
            elif has_suffix:
                yield _input(entry.path, name_rel)
            else:
                skipped.append(entry.name)
        if skipped:  # shown with -v: a scan saved under another suffix is found here
            log.info("%s: %d file(s) not read, their names are not those of scans (%s): %s%s", directory,
                     len(skipped), " ".join(IMAGE_SUFFIXES), ", ".join(skipped[:5]), ", ..." if len(skipped) > 5 else "")
        if hidden:  # as the others: -v names every file left out
            log.info("%s: %d hidden file(s) or folder(s) not read (their names begin with a dot): %s%s", directory,
                     len(hidden), ", ".join(hidden[:5]), ", ..." if len(hidden) > 5 else "")

    yield from visit(folder, "")


# --------------------------------------------------------------------------------------------
# Opening files


class Document:
    """An opened input: ``n_pages`` pages, each decoded on demand by :meth:`page`.

    ``page(i)`` (0-based) raises :class:`InputError` for a page that cannot be read, so that
    one bad page of a multi-page file costs only its own row.

    >>> import tempfile, cv2
    >>> path = Path(tempfile.mkdtemp()) / "scan.png"
    >>> _ = cv2.imwrite(str(path), np.full((40, 120), 255, np.uint8))
    >>> doc = open_document(path, source="scan.png")
    >>> doc.n_pages, doc.page(0).image.shape
    (1, (40, 120))
    """

    kind = "image"

    def __init__(self, source: str, n_pages: int):
        self.source = source
        self.n_pages = n_pages

    def page(self, index: int) -> Page:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Document":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sniff(data: bytes) -> str | None:
    """The format of a file from its first bytes: png, jpeg, tiff, bmp, pdf, x937, gif, webp or None.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n"), sniff(b"hello")
    ('png', None)
    """
    from .x937 import looks_like_x937

    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"BM"):
        return "bmp"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if looks_like_x937(data):
        return "x937"
    return None


#: TIFF and X9.37 files at least this big are mapped into memory, not read: they hold many pages,
#: and each worker reading some of them held a private copy of the whole file. An X9.37 file of
#: 20,000 items (114 MB), 2 workers: PSS summed over the processes 517 MB read, 409 MB mapped (the
#: file's pages are the page cache's, shared; RSS counts them in each process: 665 MB either way).
#: A mapped file cut short by another program while it is read can kill the worker reading it; the
#: engine then reads the file again as it is (its items up to the cut, an error row for the item cut).
MAP_MIN_BYTES = 16 * 2**20


def close_mapped(data) -> None:
    """Close ``data`` if it is a mapped file (a view of it still alive, e.g. in a traceback: left to
    the garbage collector); anything else is left alone.

    >>> mapped = mmap.mmap(-1, 16)
    >>> close_mapped(mapped), mapped.closed, close_mapped(b"bytes")
    (None, True, None)
    """
    if isinstance(data, mmap.mmap):
        try:
            data.close()
        except BufferError:
            pass


def read_bytes(path: str | Path, options: ReadOptions = ReadOptions(), source: str | None = None) -> bytes:
    """The bytes of an input file; every OS problem is an :class:`InputError` saying what is wrong.

    >>> read_bytes("no-such-scan.png")
    Traceback (most recent call last):
    cheque_reader.errors.InputError: no-such-scan.png: no such file
    """
    return _file_data(path, options, source, may_map=False)


def _file_data(path: str | Path, options: ReadOptions, source: str | None, may_map: bool = True):
    """:func:`read_bytes`, or a read-only ``mmap`` of a TIFF or X9.37 file of :data:`MAP_MIN_BYTES` or more."""
    source = source if source is not None else os.fspath(path)
    if "\0" in os.fspath(path):  # os.stat raises ValueError: a traceback, or an 'internal error' row
        raise InputError(f"{source}: not a file name (it holds a NUL byte)")
    if not os.fspath(path):  # ': no such file' named nothing (an empty cell of a list of paths)
        raise InputError(f"{source}: an empty path names no file" if source else "an empty path names no file")
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(f"{source}: {_reason(exc)}") from exc
    import stat as _stat

    if _stat.S_ISDIR(st.st_mode):
        raise InputError(f"{source}: is a directory, not an image file")
    if not _stat.S_ISREG(st.st_mode):
        raise InputError(f"{source}: not a regular file")
    if st.st_size == 0:
        raise InputError(f"{source}: empty file (0 bytes)")
    if st.st_size > options.max_file_bytes:
        raise InputError(f"{source}: file is {st.st_size} bytes, more than the limit of {options.max_file_bytes}")
    try:
        with open(path, "rb") as f:
            kind = sniff(head := f.read(1024))
            if may_map and kind is None:  # told from its first 64 KiB: a stray 2 GB file was read whole, twice
                raise InputError(f"{source}: not a supported image file ({_describe(head + f.read(65536 - 1024))})")
            if may_map and st.st_size >= MAP_MIN_BYTES and kind in ("tiff", "x937"):
                return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            f.seek(0)
            return f.read()
    except (OSError, ValueError) as exc:  # ValueError: mmap of a file emptied meanwhile
        raise InputError(f"{source}: {_reason(exc) if isinstance(exc, OSError) else exc}") from exc


def open_document(path: str | Path, options: ReadOptions = ReadOptions(), source: str | None = None) -> Document:
    """Open an input file: read it, recognise its format and parse its header(s).

    Raises :class:`InputError` when the file as a whole cannot be read.

    >>> import tempfile, cv2
    >>> path = Path(tempfile.mkdtemp()) / "scan.png"
    >>> _ = cv2.imwrite(str(path), np.full((40, 120), 255, np.uint8))
    >>> type(open_document(path)).__name__, open_document(path).n_pages
    ('_ImageDocument', 1)
    """
    source = source if source is not None else os.fspath(path)
    data = _file_data(path, options, source)
    try:
        return _document(source, data, options)
    except BaseException:
        close_mapped(data)
        raise


def open_bytes(data: bytes | bytearray | memoryview, options: ReadOptions = ReadOptions(),
               source: str = "<bytes>") -> Document:
    """Open an input held in memory (an image kept as a blob in a database), as :func:`open_document`
    opens a file: the same formats, recognised by their first bytes, and the same size limit.

    >>> import cv2
    >>> png = cv2.imencode(".png", np.full((40, 120), 255, np.uint8))[1].tobytes()
    >>> with open_bytes(png) as doc:
    ...     doc.n_pages, doc.page(0).source, doc.page(0).image.shape
    (1, '<bytes>', (40, 120))
    >>> open_bytes(b"")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.InputError: <bytes>: empty (0 bytes)
    """
    data = bytes(data)
    if not data:
        raise InputError(f"{source}: empty (0 bytes)")
    if len(data) > options.max_file_bytes:
        raise InputError(f"{source}: {len(data)} bytes, more than the limit of {options.max_file_bytes}")
    return _document(source, data, options)


def _document(source: str, data, options: ReadOptions) -> Document:
    kind = sniff(data)
    if kind in ("png", "jpeg", "bmp", "gif", "webp"):
        return _ImageDocument(source, data, kind, options)
    if kind == "tiff":
        return _TiffDocument(source, data, options)
    if kind == "pdf":
        return _PdfDocument(source, data, options)
    if kind == "x937":
        from .x937 import X937Document

        return X937Document(source, data, options)
    raise InputError(f"{source}: not a supported image file ({_describe(data)})")


def iter_pages(path: str | Path, options: ReadOptions = ReadOptions(), source: str | None = None) -> Iterator[Page]:
    """The pages of a file, decoded one at a time; raises :class:`InputError` at the first bad one.

    >>> import tempfile, cv2
    >>> path = Path(tempfile.mkdtemp()) / "scan.png"
    >>> _ = cv2.imwrite(str(path), np.full((40, 120), 255, np.uint8))
    >>> [(p.source, p.page, p.image.dtype) for p in iter_pages(path, source="scan.png")]
    [('scan.png', 1, dtype('uint8'))]
    """
    with open_document(path, options, source) as doc:
        for i in range(doc.n_pages):
            yield doc.page(i)


def load_pages(path: str | Path, options: ReadOptions = ReadOptions(), source: str | None = None) -> list[Page]:
    """All pages of an input file (grayscale ``image``, BGR ``color`` for colour sources).

    Raises :class:`InputError` (or :class:`ImageTooLargeError`) with a clear message when the
    file, or one of its pages, cannot be read.

    >>> import tempfile, cv2
    >>> path = Path(tempfile.mkdtemp()) / "scan.png"
    >>> _ = cv2.imwrite(str(path), np.full((40, 120), 255, np.uint8))
    >>> page = load_pages(path)[0]
    >>> page.image.shape, page.color is None
    ((40, 120), True)
    """
    return list(iter_pages(path, options, source))


class PageReader:
    """Page ``n`` of a file, decoded on demand, for those that come back to pages of a run one by one
    (the review page's crops, ``finetune``'s corrections). The file last opened stays open for the
    next call; :meth:`close` (or ``with``) closes it.

    Only the page asked for is decoded: reading a whole file for it held every item of a long X9.37
    file in memory, and one bad page (a TIFF cut short after page 2) lost the good ones before it.

    >>> import tempfile, os, cv2
    >>> f = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> _ = cv2.imwrite(f, np.full((40, 120), 255, np.uint8))
    >>> with PageReader() as pages:
    ...     pages.page(f, 1).image.shape
    (40, 120)
    """

    def __init__(self, options: ReadOptions | None = None):
        self.options = options or ReadOptions()
        self.path: str | None = None
        self.doc: Document | None = None
        self.error: InputError | None = None

    def page(self, path: str | Path, page: int) -> Page:
        """Page ``page`` (1-based) of ``path``; :class:`InputError` when the file or that page cannot be read."""
        key = os.fspath(path)
        if key != self.path:
            self.close()
            self.path = key
            try:  # a source with \xNN escapes (a name that is not UTF-8) opens the file it names
                self.doc = open_document(source_path(key), self.options, source=key)
            except InputError as exc:
                self.error = exc
        if self.doc is None:
            raise self.error or InputError(f"{key}: cannot be read")
        if not 1 <= int(page) <= self.doc.n_pages:
            raise InputError(f"{key}: no page {page} (it has {self.doc.n_pages})")
        return self.doc.page(int(page) - 1)

    def close(self) -> None:
        if self.doc is not None:
            self.doc.close()
        self.path, self.doc, self.error = None, None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# Formats


def check_pixels(source: str, width: int, height: int, options: ReadOptions, what: str = "image") -> None:
    """Refuse an image whose header claims more than ``options.max_pixels`` pixels (before decoding).

    >>> check_pixels("big.tif", 2400, 1100, ReadOptions())   # a 300 dpi cheque: fine
    >>> check_pixels("big.tif", 20000, 20000, ReadOptions())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cheque_reader.errors.ImageTooLargeError: big.tif: image is 20000x20000 = 400000000 pixels, more than the limit ...
    """
    if width <= 0 or height <= 0:
        raise InputError(f"{source}: {what} has no pixels ({width}x{height})")
    if width * height > options.max_pixels:
        raise ImageTooLargeError(
            f"{source}: {what} is {width}x{height} = {width * height} pixels, more than the limit of "
            f"{options.max_pixels} (ReadOptions.max_pixels); refused before decoding"
        )


class _MappedFile:
    """A read-only ``mmap`` as the file Pillow reads: ``getvalue`` hands libtiff the mapping itself
    (as it is given a ``BytesIO``'s buffer), where a file-like object without it would be read
    whole for every page."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self.mapped = mapped

    def read(self, n: int = -1) -> bytes:
        return self.mapped.read(n)

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        self.mapped.seek(pos, whence)
        return self.mapped.tell()

    def tell(self) -> int:
        return self.mapped.tell()

    def getvalue(self) -> mmap.mmap:
        return self.mapped


def _pil_open(source: str, data, what: str):
    from PIL import Image, UnidentifiedImageError

    with _GLOBALS_LOCK:  # another thread's restore must not cross this one's
        limit = Image.MAX_IMAGE_PIXELS
        try:
            # our own limit (check_pixels, configurable) replaces Pillow's fixed one
            Image.MAX_IMAGE_PIXELS = None
            with quiet_warnings():  # "Corrupt EXIF data" and the like
                return Image.open(_MappedFile(data) if isinstance(data, mmap.mmap) else BytesIO(data))
        except UnidentifiedImageError as exc:
            raise InputError(f"{source}: corrupt or truncated {what}: its header cannot be read") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InputError(f"{source}: corrupt or truncated {what}: {exc}") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = limit


#: What a PNG that holds an orientation holds: an eXIf chunk, ImageMagick's EXIF text, XMP (Pillow reads each).
_PNG_EXIF_KEYS = (b"eXIf", b"Raw profile type exif", b"XML:com.adobe.xmp")


class _ImageDocument(Document):
    """PNG, JPEG, BMP, GIF, WebP: one page, decoded by OpenCV at full resolution; a GIF or WebP of
    several frames has a page a frame (its first was read alone: the others had no row, and no word
    said so), the frames after the first decoded by Pillow.
    """

    def __init__(self, source: str, data: bytes, kind: str, options: ReadOptions):
        super().__init__(source, 1)
        self.data, self.kind, self.options = data, kind, options
        what = kind.upper()
        img = _pil_open(source, data, f"{what} image")
        # before the EXIF orientation is looked up: Pillow decodes a whole PNG to find it (a 40000x40000
        # PNG of 1.7 MB took 1.7 GB and 8 s before it was refused "before decoding")
        check_pixels(source, *img.size, options, f"{what} image")
        if kind == "jpeg" and not _jpeg_complete(data):
            raise InputError(f"{source}: truncated JPEG (the data ends before the end-of-image marker)")
        if kind == "png" and b"IEND" not in data[-64:]:
            raise InputError(f"{source}: truncated PNG (no IEND chunk at the end of the file)")
        if kind in ("gif", "webp"):
            try:
                self.n_pages = max(1, int(getattr(img, "n_frames", 1)))
            except (OSError, ValueError, SyntaxError, EOFError):  # frames cut short: the first is read
                self.n_pages = 1
        self.size, self.mode = img.size, img.mode
        self.dpi = _dpi_of(img)
        # Pillow decodes a whole PNG to look for its EXIF (a chunk after the pixels), and OpenCV decodes
        # it again for the page: a PNG that names no EXIF or XMP anywhere has no orientation to look for
        no_exif = kind == "png" and "exif" not in img.info and not any(data.find(k) >= 0 for k in _PNG_EXIF_KEYS)
        self.orientation = 1 if no_exif else exif_orientation(img)

    def page(self, index: int) -> Page:
        import cv2

        what = self.kind.upper()
        if index:
            return self._frame(index)
        arr = None
        if self.kind in ("png", "jpeg", "bmp", "webp"):
            flag = cv2.IMREAD_UNCHANGED if self.kind in ("png", "bmp", "webp") else (
                cv2.IMREAD_GRAYSCALE if self.mode == "L" else cv2.IMREAD_COLOR
            )
            try:
                with native_stderr() as said:  # libjpeg's warnings, OpenCV's log: no file named
                    # the EXIF orientation is turned here, for every format alike (OpenCV turns a JPEG's
                    # only, and not with IMREAD_UNCHANGED: a PNG or WebP stayed on its side)
                    arr = cv2.imdecode(np.frombuffer(self.data, np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION)
            except cv2.error:
                arr = None
            _decoder_said(self.source, f"{what} image", said)
        if arr is None:  # GIF, unusual modes, or OpenCV refused: let Pillow try
            img = _pil_open(self.source, self.data, f"{what} image")
            arr = _pil_decode(self.source, img, what)
            return _page(self.source, 1, upright(arr, exif_orientation(img)), self.dpi, rgb=True)
        return _page(self.source, 1, upright(arr, self.orientation), self.dpi, rgb=False)

    def _frame(self, index: int) -> Page:
        """Frame ``index`` (0-based, after the first) of a GIF or WebP, as its page ``index + 1``."""
        what = f"{self.kind.upper()} frame {index + 1}"
        img = _pil_open(self.source, self.data, f"{self.kind.upper()} image")
        try:
            img.seek(index)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise InputError(f"{self.source}: corrupt or truncated {what}: {exc}") from exc
        check_pixels(self.source, *img.size, self.options, what)
        arr = _pil_decode(self.source, img, what)
        return _page(self.source, index + 1, upright(arr, self.orientation), self.dpi, rgb=True)


class _TiffDocument(Document):
    """TIFF, one page per directory; decoded by Pillow (libtiff: Group 4, LZW, 16-bit).

    The pages are counted on the chain of directories itself (:func:`_tiff_chain`). Where the
    chain breaks (a file cut short), the pages of the whole directories before the break are pages
    and one more page, whose :meth:`page` raises, stands for the rest. (Pillow's ``n_frames`` raised
    at such a break, or took it for the end: a cut Group 4 file, whose directories follow their
    pages' data, was one error row, its good pages lost with it.)
    """

    def __init__(self, source: str, data, options: ReadOptions):
        self.data = data  # bytes, or an mmap of a big file (closed with the document)
        self.img = _pil_open(source, data, "TIFF image")
        self.options = options
        n, self.broken = _tiff_chain(data)
        if n + self.broken == 0:  # (Pillow refuses such a file first)
            raise InputError(f"{source}: corrupt TIFF: it has no page")
        super().__init__(source, n + self.broken)

    def page(self, index: int) -> Page:
        what = f"TIFF page {index + 1}"
        if self.broken and index == self.n_pages - 1:
            raise InputError(f"{self.source}: truncated or corrupt TIFF: page {index + 1} cannot be found (the file "
                             f"is cut short or damaged before it ends); it and any page after it are lost")
        try:
            with libtiff_errors() as said:  # libtiff says there what is wrong with the page, and goes on
                try:
                    self.img.seek(index)
                except Exception as exc:  # EOFError, OSError, TypeError ("Missing dimensions"): a broken directory
                    raise InputError(f"{self.source}: cannot read {what}: {exc}") from exc
                check_pixels(self.source, *self.img.size, self.options, what)
                arr = _pil_decode(self.source, self.img, what)
        except InputError:
            _libtiff_said(self.source, what, said)  # damaged data says more than Pillow's "decoder error -2"
            raise
        _libtiff_said(self.source, what, said)
        if self.img.tag_v2.get(TIFF_COMPRESSION) == TIFF_JPEG:  # libtiff says nothing of damaged JPEG strips
            _check_jpeg_strips(self.source, what, self.data, self.img.tag_v2)
        return _page(self.source, index + 1, arr, _dpi_of(self.img), rgb=True)

    def close(self) -> None:
        self.img.close()
        close_mapped(self.data)


#: TIFF tags: Compression, its value for JPEG ("new-style", TIFF 6.0 Technote 2), the strips' or
#: tiles' offsets and byte counts, and JPEGTables (the tables the strips' abbreviated streams share).
TIFF_COMPRESSION, TIFF_JPEG = 259, 7
_TIFF_STRIPS = ((273, 279), (324, 325))
_TIFF_JPEG_TABLES = 347


def _check_jpeg_strips(source: str, what: str, data, tags) -> None:
    """Raise :class:`InputError` when a JPEG-compressed TIFF page's data is damaged, as a ``.jpg``'s is
    (:func:`_decoder_said`): libtiff decodes such a strip all the same and, inside Pillow, says nothing.
    Each strip or tile (with the page's shared tables) goes through libjpeg once more at an eighth of
    its size: all its compressed data is read (the damage libjpeg finds is in it), little is drawn.

    >>> _check_jpeg_strips("a.tif", "TIFF page 1", b"", {})   # no strips: nothing to check
    """
    import cv2

    tables = tags.get(_TIFF_JPEG_TABLES) or b""
    offsets, counts = next(((tags.get(o), tags.get(c)) for o, c in _TIFF_STRIPS if tags.get(o)), ((), ()))
    for offset, count in zip(offsets or (), counts or ()):
        strip = bytes(data[offset : offset + count])
        if tables[:2] == strip[:2] == b"\xff\xd8" and tables[-2:] == b"\xff\xd9":  # tables, then the strip's own
            strip = tables[:-2] + strip[2:]
        with native_stderr() as said:
            cv2.imdecode(np.frombuffer(strip, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
        _decoder_said(source, what, said)


def _tiff_chain(data) -> tuple[int, bool]:
    """``(pages, broken)``: how many whole directories (pages) the chain of a TIFF file leads to, and
    whether it breaks before its end: at a directory that runs past the end of ``data`` (a file cut
    short), a link past it, or a loop.

    >>> head = b"II*" + bytes(1) + (8).to_bytes(4, "little")  # little-endian TIFF, a directory at 8
    >>> ifd = (1).to_bytes(2, "little") + bytes(12)           # one entry, then the link to the next
    >>> last, to_99 = bytes(4), (99).to_bytes(4, "little")
    >>> _tiff_chain(head + ifd + last), _tiff_chain(head + ifd + to_99), _tiff_chain(head + ifd)
    ((1, False), (1, True), (0, True))
    """
    order = "little" if bytes(data[:2]) == b"II" else "big"
    big = int.from_bytes(data[2:4], order) == 43  # BigTIFF
    head, entry, link = (8, 20, 8) if big else (2, 12, 4)
    at = 8 if big else 4  # the link to the first directory
    offset = int.from_bytes(data[at : at + link], order)
    n, seen = 0, set()
    while offset:
        if offset in seen or offset + head > len(data):
            return n, True
        seen.add(offset)
        at = offset + head + entry * int.from_bytes(data[offset : offset + head], order)
        if at + link > len(data):
            return n, True
        n += 1
        offset = int.from_bytes(data[at : at + link], order)
    return n, False


class _PdfDocument(Document):
    """PDF, rendered page by page by pypdfium2 at the resolution of the scan it holds (:func:`_pdf_render_dpi`)."""

    kind = "pdf"

    def __init__(self, source: str, data: bytes, options: ReadOptions):
        try:
            import pypdfium2 as pdfium
        except ImportError as exc:
            raise InputError(
                f"{source}: reading PDF needs pypdfium2: pip install 'cheque-reader[pdf]'"
            ) from exc
        self.options = options
        with _PDFIUM_LOCK:
            self._open(pdfium, source, data)

    def _open(self, pdfium, source: str, data: bytes) -> None:
        try:
            self.pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            msg = str(exc)
            # PDFium's error code is process-global and stale after some failures, so the
            # file itself says whether it is encrypted
            if b"/Encrypt" in data:
                raise InputError(f"{source}: encrypted PDF (needs a password)") from exc
            if _empty_page_tree(data) or "Success" in msg or "password" in msg.lower():
                raise InputError(f"{source}: PDF has no pages") from exc
            raise InputError(f"{source}: corrupt PDF: {msg}") from exc
        n = len(self.pdf)
        if n == 0:
            self.pdf.close()
            raise InputError(f"{source}: PDF has no pages")
        super().__init__(source, n)

    def page(self, index: int) -> Page:
        import pypdfium2 as pdfium

        what = f"PDF page {index + 1}"
        with _PDFIUM_LOCK:
            pg = bitmap = None
            try:
                pg = self.pdf[index]
                dpi = _pdf_render_dpi(pg)
                scale = dpi / 72.0
                w_pt, h_pt = pg.get_size()
                check_pixels(self.source, round(w_pt * scale), round(h_pt * scale), self.options, what)
                bitmap = pg.render(scale=scale)
                arr = bitmap.to_numpy().copy()  # BGR(A), pdfium's native order
            except pdfium.PdfiumError as exc:
                raise InputError(f"{self.source}: cannot render {what}: {exc}") from exc
            finally:  # closed here, holding the lock, not by a finalizer in whatever thread drops them
                for handle in (bitmap, pg):
                    if handle is not None:
                        handle.close()
        return _page(self.source, index + 1, arr, dpi, rgb=False)

    def close(self) -> None:
        with _PDFIUM_LOCK:
            self.pdf.close()


def _pdf_render_dpi(pg) -> float:
    """The resolution to render a PDF page at: that of the largest image on it (a scanned cheque, as
    placed on the page), within :data:`PDF_DPI_RANGE`; :data:`PDF_DPI` for a page with no image."""
    import pypdfium2.raw as pdfium_c

    best = (0, None)
    try:
        for obj in pg.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
            meta = obj.get_metadata()
            area = int(meta.width) * int(meta.height)
            if area > best[0] and meta.horizontal_dpi > 0:
                best = (area, round(float(meta.horizontal_dpi), 1))
    except Exception:  # noqa: BLE001 - an image pdfium cannot describe: the default resolution
        return float(PDF_DPI)
    low, high = PDF_DPI_RANGE
    return float(min(max(best[1], low), high)) if best[1] else float(PDF_DPI)


def _empty_page_tree(data: bytes) -> bool:
    """Whether a PDF's page tree says it has no pages (``/Count 0`` and no page object).

    >>> _empty_page_tree(b"<</Count 0/Kids[]/Type/Pages>>"), _empty_page_tree(b"<</Type/Pages/Count 1>><</Type/Page>>")
    (True, False)
    """
    import re

    return re.search(rb"/Count\s*0(?![0-9])", data) is not None and re.search(rb"/Type\s*/Page(?!s)", data) is None


# --------------------------------------------------------------------------------------------
# Pixels


@contextlib.contextmanager
def native_stderr() -> Iterator[list[str]]:
    """The lines native code writes to standard error while the block runs, taken off the terminal into
    a list: libjpeg inside OpenCV writes a damaged JPEG's "Corrupt JPEG data: premature end of data
    segment" there with no file name (with ``fprintf``: OpenCV's log level, ``cv2.utils.logging``, does
    not reach it, and OpenCV gives no other way to learn of it), and decodes on; so does libtiff where
    :func:`libtiff_errors` cannot set its handler. File descriptor 2 is process-wide: one block runs at
    a time in a process (threads wait: a lock, ``_STDERR_LOCK``), and what another thread writes to it
    meanwhile is caught too, then written back after the block, out of its place (a decode is
    milliseconds; :func:`_decoder_said` and :func:`_libtiff_said` write back what is not the decoder's).

    >>> with native_stderr() as said:
    ...     _ = os.write(2, b"Fax4Decode: Bad code word at line 3 of strip 0 (x 5).\\n")
    >>> said
    ['Fax4Decode: Bad code word at line 3 of strip 0 (x 5).']
    """
    said: list[str] = []
    if hasattr(os, "memfd_create"):  # Linux: in memory
        sink = open(os.memfd_create("cheque_reader-stderr"), "w+b", buffering=0)  # noqa: SIM115 (closed below)
    else:
        import tempfile

        sink = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115
    with _STDERR_LOCK, sink:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            yield said
        finally:  # the list is filled when the block raises too
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said.extend(sink.read().decode("utf-8", "replace").splitlines())


class _LibtiffErrors:
    """libtiff's error messages, taken by a handler of its own (``TIFFSetErrorHandler``, through
    ctypes) rather than off file descriptor 2: each thread's decode gets its own lines, no lock is
    held, and other threads' standard error is left alone. libtiff formats them as its default handler
    does (``module: message.``); in a thread not collecting, they go on to standard error so.

    Only where Pillow's libtiff is found among the libraries this process has loaded (Linux:
    ``/proc/self/maps``) and takes the handler; elsewhere :func:`libtiff_errors` is :func:`native_stderr`.
    """

    def __init__(self):
        self.local = threading.local()
        self.lib = self.handler = self.address = None
        self.lock = threading.Lock()
        self.tried = self.installed = False

    def install(self) -> bool:
        """Whether the handler is in place (set again if another library replaced it)."""
        with self.lock:
            if not self.tried:
                self.tried = True
                try:
                    self._load()
                except (OSError, AttributeError, ValueError) as exc:  # no such library or symbol: stderr it is
                    log.debug("libtiff's error handler cannot be set (%s): its messages are read off stderr", exc)
                    self.lib = None
            if self.lib is None:
                return False
            previous = self.lib.TIFFSetErrorHandler(self.address)
            if self.installed and previous != self.address:
                log.debug("libtiff's error handler had been replaced: set again")
            self.installed = True
            return True

    def _load(self) -> None:
        import ctypes

        import PIL
        from PIL import Image

        Image.init()  # Pillow's C module, and the libtiff it links, loaded
        site = os.path.dirname(os.path.dirname(PIL.__file__))  # the wheel's own libraries: site/pillow.libs
        with open("/proc/self/maps") as maps:
            paths = {line.split(maxsplit=5)[-1].strip() for line in maps if "libtiff" in line}
        ours = sorted(p for p in paths if os.path.basename(p).startswith("libtiff")
                      and os.path.dirname(p) == os.path.join(site, "pillow.libs"))
        if len(ours) != 1:
            raise OSError(f"Pillow's libtiff not found among {sorted(paths)}")
        lib = ctypes.CDLL(ours[0])
        libc = ctypes.CDLL(None)
        libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]
        lib.TIFFSetErrorHandler.restype = ctypes.c_void_p
        lib.TIFFSetErrorHandler.argtypes = [ctypes.c_void_p]

        def handler(module, fmt, args) -> None:  # libtiff's TIFFErrorHandler(module, fmt, va_list)
            buf = ctypes.create_string_buffer(1024)
            libc.vsnprintf(buf, len(buf), fmt, args)
            line = (f"{module.decode('utf-8', 'replace')}: " if module else "") + buf.value.decode("utf-8", "replace")
            said = getattr(self.local, "said", None)
            if said is None:
                os.write(2, (line + ".\n").encode())
            else:
                said.append(line + ".")

        self.handler = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)(handler)
        self.address = ctypes.cast(self.handler, ctypes.c_void_p).value
        self.lib = lib


_LIBTIFF = _LibtiffErrors()


@contextlib.contextmanager
def libtiff_errors() -> Iterator[list[str]]:
    """The error messages libtiff gives while the block runs, in this thread, as :func:`native_stderr`
    gives what native code writes to standard error (which it is where libtiff's handler cannot be set).

    >>> with libtiff_errors() as said:
    ...     pass
    >>> said
    []
    """
    if not _LIBTIFF.install():
        with native_stderr() as said:
            yield said
        return
    said: list[str] = []
    outer = getattr(_LIBTIFF.local, "said", None)
    _LIBTIFF.local.said = said
    try:
        yield said
    finally:
        _LIBTIFF.local.said = outer


def _libtiff_said(source: str, what: str, lines: list[str]) -> None:
    """Raise :class:`InputError` when libtiff said, decoding a page, that its compressed pixels are damaged
    (:data:`LIBTIFF_DAMAGE`): a Group 4 strip with bad code words decodes to an image all the same, and
    was read as the cheque (a damaged X9.37 item read ``281947`` for ``201940``). What else it said (a
    multi-page file's broken directory chain, unknown tags) is logged with the file's name; lines
    that are not libtiff's are written back to standard error.

    >>> _libtiff_said("a.tif", "TIFF page 1", ["TIFFReadDirectory: Warning, Unknown field with tag 700"])
    >>> _libtiff_said("a.tif", "TIFF page 1", ["Fax4Decode: Bad code word at line 3 of strip 0 (x 5)."])
    Traceback (most recent call last):
    ...
    cheque_reader.errors.InputError: a.tif: damaged image data in TIFF page 1 (libtiff: Fax4Decode: Bad code word at line 3 of strip 0 (x 5)): the pixels decoded are not the ones scanned
    """
    said = [(line.removeprefix(_PILLOW_TIFF_NAME), line.startswith(_PILLOW_TIFF_NAME) or bool(_LIBTIFF_LINE.match(line)))
            for line in lines]  # (the line, whether libtiff wrote it)
    for line, libtiff in said:
        if not libtiff and line.strip():  # another thread's, written while the page decoded (before a raise: it
            sys.stderr.write(line + "\n")   # was lost with a damaged page's error)
    damage = [line for line, _ in said if LIBTIFF_DAMAGE.match(line)]
    if damage:
        more = f" and {len(damage) - 1} more such errors" if len(damage) > 1 else ""
        raise InputError(f"{source}: damaged image data in {what} (libtiff: {damage[0].rstrip('.')}{more}): "
                         "the pixels decoded are not the ones scanned")
    for line, libtiff in said:
        if libtiff:
            log.info("%s: %s: libtiff: %s", source, what, line)


def _decoder_said(source: str, what: str, lines: list[str]) -> None:
    """Raise :class:`InputError` when libjpeg said, as OpenCV decoded a file, that its compressed pixels
    are damaged (:data:`JPEG_DAMAGE`): it decodes such a JPEG all the same, the page below the damage
    shifted and smeared, and it was read as the cheque. What else OpenCV, libjpeg or libpng said
    (OpenCV refusing a cut BMP or a PNG failing its checksum, which Pillow then tries) is logged with
    the file's name; other lines (another thread's) are written back to standard error.

    >>> _decoder_said("a.jpg", "JPEG image", ["Corrupt JPEG data: 2 extraneous bytes before marker 0xd9"])
    >>> _decoder_said("a.jpg", "JPEG image", ["Corrupt JPEG data: premature end of data segment"])
    Traceback (most recent call last):
    ...
    cheque_reader.errors.InputError: a.jpg: damaged image data in JPEG image (libjpeg: Corrupt JPEG data: premature end of data segment): the pixels decoded are not the ones scanned
    """
    for line in lines:  # another thread's lines first: they were lost with a damaged file's error
        if not _DECODER_LINE.match(line) and line.strip():
            sys.stderr.write(line + "\n")
    damage = [line for line in lines if JPEG_DAMAGE.match(line)]
    if damage:
        more = f" and {len(damage) - 1} more such errors" if len(damage) > 1 else ""
        raise InputError(f"{source}: damaged image data in {what} (libjpeg: {damage[0].rstrip('.')}{more}): "
                         "the pixels decoded are not the ones scanned")
    for line in lines:
        if _DECODER_LINE.match(line):
            log.info("%s: %s: %s", source, what, line)


def _pil_decode(source: str, img, what: str) -> np.ndarray:
    """Pillow image -> numpy (gray 2-D, or RGB / RGBA 3-D), 16-bit and odd modes handled."""
    try:
        with quiet_warnings():
            img.load()
        mode = img.mode
        if mode == "1":  # bitonal (Group 4)
            return bitonal_array(img)
        if mode in ("L", "RGB", "RGBA"):
            return np.asarray(img)
        if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
            return _to_uint8(np.asarray(img))
        if mode in ("LA", "PA") or (mode == "P" and "transparency" in img.info):
            return np.asarray(img.convert("RGBA"))
        return np.asarray(img.convert("RGB"))  # P, CMYK, YCbCr, LAB, ...
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"{source}: corrupt or truncated {what}: {exc}") from exc


def bitonal_array(img) -> np.ndarray:
    """A loaded mode ``"1"`` Pillow image as ``uint8``, 255 where a pixel is set and 0 elsewhere.

    Pillow keeps such an image a byte a pixel: read in place through the Arrow interface (Pillow 11.2
    and later, with pyarrow) and thresholded once, 0.23 against 0.65-0.73 ms a 1600 x 734 Group 4
    page (freed memory kept, as in the worker processes) through numpy's array interface (Pillow
    packs the pixels to bits and numpy unpacks them to booleans), which is taken without pyarrow.

    >>> from PIL import Image
    >>> img = Image.new("1", (3, 2)); img.putpixel((1, 0), 1); img.putpixel((2, 1), 1)
    >>> bitonal_array(img).tolist()
    [[0, 255, 0], [0, 0, 255]]
    """
    import cv2

    pa = sys.modules.get("pyarrow")  # imported with pandas where installed: not imported here for this alone
    if hasattr(pa, "ArrowException") and hasattr(img, "__arrow_c_array__"):  # (not one still being imported)
        try:
            flat = pa.array(img).to_numpy(zero_copy_only=True)
        except (TypeError, ValueError, NotImplementedError, pa.ArrowException):
            flat = None
        if flat is not None and flat.dtype == np.uint8 and flat.size == img.size[0] * img.size[1]:
            return cv2.threshold(flat.reshape(img.size[1], img.size[0]), 0, 255, cv2.THRESH_BINARY)[1]
    return np.asarray(img).astype(np.uint8) * np.uint8(255)


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale a 16-bit (or int/float) image to uint8 over its type's range (floats: 0-1 or min-max);
    integers that are all 8-bit values (``gray.astype(np.uint16)``) are taken as they are: scaled, they
    were a black page of 0s and 1s, read wrong."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind in "iu" and arr.max(initial=0) > 255:
        return (arr.astype(np.float32) * (255.0 / 65535.0) + 0.5).clip(0, 255).astype(np.uint8)
    if arr.dtype.kind == "f":
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        if lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return np.nan_to_num((arr - lo) * scale).clip(0, 255).astype(np.uint8)
    return arr.clip(0, 255).astype(np.uint8)


def _page(source: str, number: int, arr: np.ndarray, dpi: float | None, rgb: bool) -> Page:
    """A :class:`Page` from decoded pixels; ``rgb`` says the channel order is RGB (Pillow), not BGR."""
    import cv2

    arr = _to_uint8(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return Page(source, number, np.ascontiguousarray(arr), dpi=dpi)
    if arr.ndim != 3 or arr.shape[2] not in (2, 3, 4):
        raise InputError(f"{source}: page {number} has an unsupported pixel layout {arr.shape}")
    if arr.shape[2] == 2:  # gray + alpha
        gray = arr[:, :, 0].astype(np.float32)
        alpha = arr[:, :, 1].astype(np.float32) / 255.0
        gray = (gray * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
        return Page(source, number, gray, dpi=dpi)
    if arr.shape[2] == 4:  # composite on white paper: transparent areas are paper
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = (arr[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    color = np.ascontiguousarray(arr[:, :, ::-1] if rgb else arr)
    return Page(source, number, cv2.cvtColor(color, cv2.COLOR_BGR2GRAY), color=color, dpi=dpi)


def exif_orientation(img) -> int:
    """The EXIF orientation (1-8) of a Pillow image, 1 when it has none or a bad one. Read it after
    the image is loaded: Pillow turns a TIFF upright itself when it loads it, and drops the tag.

    >>> import io as _bytes_io
    >>> from PIL import Image
    >>> exif = Image.Exif()
    >>> exif[0x0112] = 6  # stored turned 90 degrees: a phone held upright
    >>> buf = _bytes_io.BytesIO()
    >>> Image.new("L", (10, 5)).save(buf, "JPEG", exif=exif)
    >>> img = Image.open(buf)
    >>> _ = img.load()
    >>> exif_orientation(img), exif_orientation(Image.new("L", (10, 5)))
    (6, 1)
    """
    try:
        value = int(img.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - damaged EXIF data: the pixels as stored
        return 1
    return value if 1 <= value <= 8 else 1


def upright(arr: np.ndarray, orientation: int) -> np.ndarray:
    """``arr`` (rows first; any channels) turned as EXIF ``orientation`` says, so that it shows as a
    viewer shows it (a phone photo stored on its side stands up); 1 (or any other value) leaves it.

    >>> a = np.array([[1, 2, 3], [4, 5, 6]])
    >>> upright(a, 6).tolist(), upright(a, 8).tolist(), upright(a, 3).tolist()
    ([[4, 1], [5, 2], [6, 3]], [[3, 6], [2, 5], [1, 4]], [[6, 5, 4], [3, 2, 1]])
    """
    turned = {
        2: lambda a: a[:, ::-1],                 # mirrored
        3: lambda a: a[::-1, ::-1],              # upside down
        4: lambda a: a[::-1],                    # mirrored upside down
        5: lambda a: a.swapaxes(0, 1),           # transposed
        6: lambda a: a.swapaxes(0, 1)[:, ::-1],  # turned 90 degrees clockwise to stand up
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: a.swapaxes(0, 1)[::-1],     # turned 90 degrees anticlockwise to stand up
    }.get(orientation)
    return arr if turned is None else np.ascontiguousarray(turned(arr))


def _dpi_of(img) -> float | None:
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else None
    except (TypeError, ValueError, IndexError):
        return None
    return value if value and value > 1 else None


def _jpeg_complete(data: bytes) -> bool:
    """Whether the JPEG data ends with its end-of-image marker (trailing padding allowed)."""
    # 0xFFD9 cannot occur inside entropy-coded data (0xFF is stuffed), so a marker near the
    # end means the scan data is complete; trailing bytes after it are tolerated.
    return b"\xff\xd9" in data[-4096:]


#: Formats told by their first bytes that are not read, for the error row: ``(prefix, offset, what)``.
_UNSUPPORTED = (
    (b"ftypheic", 4, "a HEIC photo (an iPhone's format): save it as JPEG or PNG"),
    (b"ftypheix", 4, "a HEIC photo (an iPhone's format): save it as JPEG or PNG"),
    (b"ftypmif1", 4, "a HEIF photo: save it as JPEG or PNG"),
    (b"ftypavif", 4, "an AVIF image: save it as JPEG or PNG"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "a JPEG 2000 image: save it as TIFF, JPEG or PNG"),
    (b"\xffO\xffQ", 0, "a JPEG 2000 codestream: save it as TIFF, JPEG or PNG"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", 0, "a JPEG XL image: save it as JPEG or PNG"),
    (b"\xff\x0a", 0, "a JPEG XL image: save it as JPEG or PNG"),
    (b"PK\x03\x04", 0, "a ZIP archive: unpack it and read its folder"),
    (b"\x1f\x8b", 0, "a gzip-compressed file: unpack it first"),
)


def _describe(data: bytes) -> str:
    """What unsupported content looks like, for its error row.

    >>> _describe(bytes(5000)), _describe(b"total,1234")
    ('it holds only zero bytes', 'it looks like a text file')
    >>> _describe(bytes([0, 0, 0, 24]) + b"ftypheic" + bytes(4) + b"mif1heic")
    "it is a HEIC photo (an iPhone's format): save it as JPEG or PNG"
    """
    head = data[:512]
    for prefix, at, what in _UNSUPPORTED:
        if head[at : at + len(prefix)] == prefix:
            return f"it is {what}"
    if not any(data[:65536]):
        return "it holds only zero bytes"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    # NUL and other control bytes are UTF-8 too: binary data (a HEIC photo) was 'a text file'
    if text is not None and not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return "it looks like a text file"
    return f"unknown content starting with {data[:8]!r}"


def _names_a_file(data: bytes) -> bool:
    """Whether ``data`` is the name of a file that exists.

    >>> _names_a_file(b"/"), _names_a_file(b"no-such-file.png"), _names_a_file(b"a\\nb")
    (True, False, False)
    """
    try:
        return b"\n" not in data and os.path.lexists(os.fsdecode(data))
    except (ValueError, OSError):  # a NUL byte, a name too long
        return False


def _reason(exc: OSError) -> str:
    """A short, clear reason for an OS error."""
    code = getattr(exc, "errno", None)
    return {
        errno.ENOENT: "no such file",
        errno.ELOOP: "symlink loop (too many levels of symbolic links)",
        errno.EACCES: "permission denied (file is not readable)",
        errno.EPERM: "operation not permitted",
        errno.EISDIR: "is a directory, not an image file",
        errno.ENOTDIR: "a part of the path is not a directory",
        errno.ENAMETOOLONG: "file name too long",
    }.get(code, getattr(exc, "strerror", None) or str(exc))
