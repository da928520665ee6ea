"""io: input discovery, every format to grayscale pages, clear errors for bad files.

Every test file is generated here (cv2 / Pillow / pypdfium2 drawing), nothing is shipped.
"""

from __future__ import annotations

import io as _io
import os
import re
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from cheque_reader import io as cio
from cheque_reader.config import ReadOptions
from cheque_reader.errors import ImageTooLargeError, InputError
from conftest import png_header_only


def ink_image(h=60, w=160, text="42"):
    g = np.full((h, w), 255, np.uint8)
    cv2.putText(g, text, (8, h - 15), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 0, 3)
    return g


def colour_image(h=60, w=160):
    c = np.full((h, w, 3), 255, np.uint8)
    c[:, :, 0] = 230  # light blue paper (B high in BGR)
    cv2.putText(c, "7", (8, h - 15), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (0, 0, 200), 3)  # red ink
    return c


# ------------------------------------------------------------------------------ formats


def test_gray_png_is_read_exactly(tmp_path):
    g = ink_image()
    cv2.imwrite(str(tmp_path / "a.png"), g)
    (page,) = cio.load_pages(tmp_path / "a.png")
    assert page.page == 1 and page.color is None
    assert page.image.dtype == np.uint8 and np.array_equal(page.image, g)


def test_colour_jpeg_keeps_bgr_and_gives_gray(tmp_path):
    c = colour_image()
    cv2.imwrite(str(tmp_path / "c.jpg"), c, [cv2.IMWRITE_JPEG_QUALITY, 98])
    (page,) = cio.load_pages(tmp_path / "c.jpg")
    assert page.color is not None and page.color.shape == c.shape
    # red ink stays red in BGR order (channel 2 high, 0 low): the channels are not swapped
    ink = page.color[(c[:, :, 2] == 200) & (c[:, :, 0] == 0)].astype(int)
    assert len(ink) > 50 and ink[:, 2].mean() > ink[:, 0].mean() + 100
    assert np.abs(page.color.astype(int) - c).mean() < 4
    assert page.image.shape == c.shape[:2]
    assert abs(int(page.image[2, 2]) - int(cv2.cvtColor(c, cv2.COLOR_BGR2GRAY)[2, 2])) <= 3


@pytest.mark.parametrize("fmt", ["bmp", "png"])
def test_colour_lossless_exact(tmp_path, fmt):
    c = colour_image()
    path = tmp_path / f"c.{fmt}"
    cv2.imwrite(str(path), c)
    (page,) = cio.load_pages(path)
    assert np.array_equal(page.color, c)
    assert np.array_equal(page.image, cv2.cvtColor(c, cv2.COLOR_BGR2GRAY))


@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_16bit_scaled_to_uint8(tmp_path, suffix):
    g = ink_image()
    Image.fromarray(g.astype(np.uint16) * 257).save(tmp_path / f"g16.{suffix}")
    (page,) = cio.load_pages(tmp_path / f"g16.{suffix}")
    assert page.image.dtype == np.uint8
    assert np.abs(page.image.astype(int) - g).max() <= 1


@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_16bit_holding_8bit_values_is_taken_as_8bit(tmp_path, suffix):
    """A 16-bit image whose values are all 8-bit ones (``gray.astype(np.uint16)``, Pillow's
    ``convert("I;16")``) was scaled over 0-65535 to a black page of 0s and 1s: the sample cheque
    read '51,234.56' (sent to review) for '1,234.56'. Wider integers were taken so already."""
    from cheque_reader.pipeline import read_cheque

    g = ink_image()
    Image.fromarray(g.astype(np.uint16)).save(tmp_path / f"g8in16.{suffix}")
    (page,) = cio.load_pages(tmp_path / f"g8in16.{suffix}")
    assert np.array_equal(page.image, g)
    gray = cv2.imread(str(Path(__file__).resolve().parent.parent / "samples" / "cheque_01.png"), cv2.IMREAD_GRAYSCALE)
    assert read_cheque(gray.astype(np.uint16)).text == read_cheque(gray).text == "1,234.56"
    assert np.array_equal(cio._to_uint8(gray.astype(np.uint16) * 257), gray)  # a 16-bit one still scaled


def test_rgba_transparent_background_is_paper(tmp_path):
    g = ink_image()
    rgba = np.dstack([np.zeros_like(g)] * 3 + [255 - g])  # black ink, transparent elsewhere
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    (page,) = cio.load_pages(tmp_path / "rgba.png")
    assert page.image[0, 0] == 255  # transparent corner is white paper, not black
    assert np.abs(page.image.astype(int) - g).mean() < 2


@pytest.mark.parametrize("mode,suffix", [("P", "png"), ("CMYK", "jpg"), ("CMYK", "tif"), ("LA", "png"), ("1", "bmp")])
def test_other_modes(tmp_path, mode, suffix):
    g = ink_image()
    img = Image.fromarray(np.dstack([g, g, g])).convert(mode)
    path = tmp_path / f"m.{suffix}"
    img.save(path, quality=98) if suffix == "jpg" else img.save(path)
    (page,) = cio.load_pages(path)
    assert page.image.dtype == np.uint8 and page.image.shape == g.shape
    assert np.abs(page.image.astype(int) - g).mean() < 6


@pytest.mark.parametrize("suffix", ["jpg", "png", "webp", "tif"])
@pytest.mark.parametrize("orientation, stored", [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270),
                                                 (3, Image.Transpose.ROTATE_180)])
def test_exif_orientation_is_honoured_by_every_format(tmp_path, suffix, orientation, stored):
    """A phone photo is stored on its side with an EXIF orientation saying how to stand it up: every
    format gives the page upright, as a viewer shows it (OpenCV turned JPEGs only: a PNG or WebP
    stayed on its side)."""
    g = ink_image()
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.{suffix}"
    kw = {"quality": 98} if suffix == "jpg" else {"lossless": True} if suffix == "webp" else {}
    Image.fromarray(g).transpose(stored).save(path, exif=exif, **kw)
    (page,) = cio.load_pages(path)
    assert page.image.shape == g.shape
    assert np.abs(page.image.astype(int) - g).mean() < 3


def test_upright_turns_as_pillow_does():
    a = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    for orientation in range(1, 9):
        img = Image.fromarray(a)
        img.getexif()[0x0112] = orientation
        assert np.array_equal(cio.upright(a, orientation), np.asarray(ImageOps.exif_transpose(img))), orientation
    assert cio.upright(a, 0) is a and cio.upright(a, 9) is a


@pytest.mark.parametrize("compression", ["group4", "tiff_lzw", "tiff_deflate", None])
def test_tiff_compressions(tmp_path, compression):
    g = ink_image()
    img = Image.fromarray(g)
    if compression == "group4":
        img = img.point(lambda v: 255 if v >= 128 else 0).convert("1")
    path = tmp_path / "t.tif"
    img.save(path, compression=compression, dpi=(200, 200)) if compression else img.save(path, dpi=(200, 200))
    (page,) = cio.load_pages(path)
    expected = np.where(g >= 128, 255, 0) if compression == "group4" else g
    assert np.array_equal(page.image, expected.astype(np.uint8))
    assert page.dpi == pytest.approx(200)



def _group4(image: np.ndarray) -> bytes:
    buf = _io.BytesIO()
    Image.fromarray(image).point(lambda v: 255 if v >= 128 else 0).convert("1").save(buf, format="TIFF", compression="group4")
    return buf.getvalue()


def damaged_group4(image: np.ndarray) -> bytes:
    """A Group 4 TIFF of ``image`` whose strip has every 7th byte of its middle half flipped."""
    data = bytearray(_group4(image))
    tags = Image.open(_io.BytesIO(bytes(data))).tag_v2
    start, length = tags[273][0], tags[279][0]  # StripOffsets, StripByteCounts (one strip)
    for i in range(start + length // 4, start + 3 * length // 4, 7):
        data[i] ^= 0x5A
    return bytes(data)


def test_a_group4_page_with_damaged_data_is_an_error_naming_what_libtiff_found(tmp_path, capfd):
    """libtiff decodes a Group 4 strip with bad code words all the same, and wrote its complaint to
    stderr with no file name: the garbled page was read as a cheque (a wrong amount, sent to review
    with no word of why) while the terminal filled with "Fax4Decode: Bad code word" lines."""
    g = np.full((200, 600), 255, np.uint8)
    for k in range(4):
        cv2.putText(g, "1234.56", (10, 45 + 45 * k), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    path = tmp_path / "item.tif"
    path.write_bytes(damaged_group4(g))
    capfd.readouterr()
    with pytest.raises(InputError, match=r"^item\.tif: damaged image data in TIFF page 1 \(libtiff: Fax4Decode: "):
        cio.load_pages(path, source="item.tif")
    assert "Fax4Decode" not in capfd.readouterr().err
    (tmp_path / "whole.tif").write_bytes(_group4(g))
    (page,) = cio.load_pages(tmp_path / "whole.tif")  # the same page undamaged decodes, silently
    assert np.array_equal(page.image, np.where(g >= 128, 255, 0).astype(np.uint8)) and capfd.readouterr().err == ""


def test_a_tiff_decode_in_one_thread_leaves_standard_error_to_the_others(tmp_path, capfd):
    """libtiff's complaints were taken off file descriptor 2, swapped process-wide under a lock: a
    TIFF page waited for any other thread's JPEG decode, and what other threads wrote meanwhile was
    caught, then written back after the page, out of its place. They come through libtiff's own
    error handler now (io.libtiff_errors), in the thread that decodes."""
    import threading

    g = np.full((200, 600), 255, np.uint8)
    for k in range(4):
        cv2.putText(g, "1234.56", (10, 45 + 45 * k), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    path = tmp_path / "item.tif"
    path.write_bytes(damaged_group4(g))
    errors: list[str] = []

    def decode(n: int) -> None:
        for _ in range(n):
            try:
                cio.load_pages(path, source="item.tif")
            except InputError as exc:
                errors.append(str(exc))

    libtiff = getattr(cio, "_LIBTIFF", None)
    if libtiff is not None and not libtiff.install():
        pytest.skip("libtiff's error handler cannot be set here: its messages are read off stderr, under the lock")
    with cio._STDERR_LOCK:  # as while another thread decodes a JPEG
        t = threading.Thread(target=decode, args=(1,))
        t.start()
        t.join(timeout=20)
        finished = not t.is_alive()
    t.join()
    assert finished, "the TIFF page waited for standard error's lock"
    capfd.readouterr()
    t = threading.Thread(target=decode, args=(30,))
    t.start()
    for k in range(300):  # another thread's own lines, while pages decode
        os.write(2, f"line {k}\n".encode())
    t.join()
    assert capfd.readouterr().err == "".join(f"line {k}\n" for k in range(300))  # all there, in order
    assert len(errors) == 31 and all("damaged image data in TIFF page 1 (libtiff: Fax4Decode: " in e for e in errors)


def test_an_lzw_page_with_damaged_data_is_an_error_naming_what_libtiff_found(tmp_path, capfd):
    """libtiff's LZW decoder says what is wrong under the name Pillow gives it the file by
    (``tempfile.tif: Using code not yet in table.``), not its function's: that line went to the
    terminal naming no file, and the row said only Pillow's "decoder error -2"."""
    g = ink_image(200, 600, "1234.56")
    buf = _io.BytesIO()
    Image.fromarray(g).save(buf, format="TIFF", compression="tiff_lzw")
    data = bytearray(buf.getvalue())
    tags = Image.open(_io.BytesIO(bytes(data))).tag_v2
    start, length = tags[273][0], tags[279][0]
    data[start + length // 3 : start + length // 3 + 40] = np.random.default_rng(0).integers(0, 256, 40, np.uint8).tobytes()
    (tmp_path / "lzw.tif").write_bytes(bytes(data))
    capfd.readouterr()
    with pytest.raises(InputError, match=r"^lzw\.tif: damaged image data in TIFF page 1 \(libtiff: Using code "
                                         r"not yet in table\): the pixels decoded are not the ones scanned$"):
        cio.load_pages(tmp_path / "lzw.tif", source="lzw.tif")
    assert "tempfile.tif" not in capfd.readouterr().err


def _cheque_gray() -> np.ndarray:
    g = np.full((300, 900), 235, np.uint8)
    g += np.random.default_rng(3).integers(0, 20, g.shape, np.uint8)  # paper grain: data all down the scan
    for k in range(5):
        cv2.putText(g, "1234.56", (10, 50 + 55 * k), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    return g


def _cheque_jpeg(*params: int) -> bytes:
    return cv2.imencode(".jpg", _cheque_gray(), [cv2.IMWRITE_JPEG_QUALITY, 90, *params])[1].tobytes()


def _damaged_scan_is_an_error(path, capfd, data: bytes, mid: int, damage: str, what: str) -> None:
    """Write ``data`` with 60 bytes from ``mid`` damaged (zeros, else random) to ``path``: loading it
    raises the damaged-data error naming libjpeg's message and ``what``, and writes nothing to stderr."""
    data = bytearray(data)
    data[mid : mid + 60] = bytes(60) if damage != "random" else np.random.default_rng(1).integers(0, 256, 60, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    capfd.readouterr()
    with pytest.raises(InputError, match=rf"^{re.escape(path.name)}: damaged image data in {what} \(libjpeg: Corrupt JPEG "
                                         r"data: .*\): the pixels decoded are not the ones scanned$"):
        cio.load_pages(path, source=path.name)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("damage", ["zeros", "random", "restart"])
def test_a_jpeg_with_damaged_data_is_an_error_naming_what_libjpeg_found(tmp_path, capfd, damage):
    """libjpeg decodes a JPEG whose compressed data is damaged in the middle all the same (the rest
    of the page shifted and smeared), and wrote "Corrupt JPEG data: premature end of data segment"
    to the terminal with no file name: the page was read as a cheque."""
    data = _cheque_jpeg(*((cv2.IMWRITE_JPEG_RST_INTERVAL, 4) if damage == "restart" else ()))
    _damaged_scan_is_an_error(tmp_path / "scan.jpg", capfd, data, len(data) // 2, damage, "JPEG image")


def test_bytes_before_a_jpeg_end_marker_are_no_damage_and_go_to_the_log(caplog):
    """libjpeg says "extraneous bytes before marker 0xd9" when bytes follow the last scan (some cameras
    write them): every pixel was decoded, and the page is read (the warning logged with its file name)."""
    with caplog.at_level("INFO", logger="cheque_reader"):
        cio._decoder_said("pad.jpg", "JPEG image", ["Corrupt JPEG data: 1 extraneous bytes before marker 0xd9"])
    assert "pad.jpg: JPEG image: Corrupt JPEG data: 1 extraneous bytes before marker 0xd9" in caplog.text
    with pytest.raises(InputError, match="before marker 0xd4"):  # inside the scan: a restart marker
        cio._decoder_said("a.jpg", "JPEG image", ["Corrupt JPEG data: 47 extraneous bytes before marker 0xd4"])


def test_opencv_refusing_a_file_says_so_in_the_log_not_on_the_terminal(tmp_path, capfd):
    """OpenCV logged "[ERROR:0@0.1] global loadsave.cpp ... imdecode_('')" on the terminal, naming no file,
    for a cut BMP (Pillow then read it, and gave the error row)."""
    buf = _io.BytesIO()
    Image.fromarray(ink_image()).save(buf, format="BMP")
    (tmp_path / "cut.bmp").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    capfd.readouterr()
    with pytest.raises(InputError, match=r"^cut\.bmp: corrupt or truncated BMP"):
        cio.load_pages(tmp_path / "cut.bmp", source="cut.bmp")
    assert capfd.readouterr().err == ""


def test_a_png_with_damaged_data_is_an_error_and_libpng_says_so_in_the_log(tmp_path, capfd, caplog):
    """OpenCV's libpng wrote "libpng error: bad adaptive filter value" to the terminal, naming no file."""
    buf = _io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 900), np.uint8)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    for k in range(len(data) // 2, len(data) // 2 + 200, 7):
        data[k] ^= 0x55
    (tmp_path / "flipped.png").write_bytes(bytes(data))
    capfd.readouterr()
    with caplog.at_level("INFO", logger="cheque_reader"), pytest.raises(InputError, match=r"^flipped\.png: corrupt"):
        cio.load_pages(tmp_path / "flipped.png", source="flipped.png")
    assert capfd.readouterr().err == "" and "flipped.png: PNG image: libpng error: " in caplog.text


def test_native_stderr_gives_back_what_was_written_and_restores_the_descriptor(capfd):
    with cio.native_stderr() as said:
        os.write(2, b"first\nsecond\n")
    os.write(2, b"after\n")
    assert said == ["first", "second"] and capfd.readouterr().err == "after\n"
    with pytest.raises(ValueError), cio.native_stderr() as said:  # restored when the block raises
        os.write(2, b"inside\n")
        raise ValueError
    os.write(2, b"again\n")
    assert said == ["inside"] and capfd.readouterr().err == "again\n"

def test_multipage_tiff_pages_in_order(tmp_path):
    frames = [Image.fromarray(ink_image(text=str(i))).convert("1") for i in range(3)]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], compression="group4")
    pages = cio.load_pages(tmp_path / "m.tif")
    assert [p.page for p in pages] == [1, 2, 3]
    for i, p in enumerate(pages):
        assert np.array_equal(p.image > 127, np.asarray(frames[i]))
    assert not np.array_equal(pages[0].image, pages[1].image)


def test_big_tiff_and_x937_files_are_mapped_not_read_and_give_the_same_pages(tmp_path, monkeypatch):
    import mmap

    from cheque_reader.x937 import X937Item, write_x937

    frames = [Image.fromarray(ink_image(text=str(i))).convert("1") for i in range(5)]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], compression="group4")
    write_x937(tmp_path / "c.x937", [X937Item(ink_image(text=str(i)), 100 + i) for i in range(4)])
    png = tmp_path / "p.png"
    cv2.imwrite(str(png), ink_image(text="7"))
    read = {name: cio.load_pages(tmp_path / name) for name in ("m.tif", "c.x937", "p.png")}
    monkeypatch.setattr(cio, "MAP_MIN_BYTES", 100)  # every file here is "big"
    for name, kind in (("m.tif", "tiff"), ("c.x937", "x937"), ("p.png", None)):
        doc = cio.open_document(tmp_path / name)
        data = doc.data
        assert isinstance(data, mmap.mmap) == (kind is not None), name  # a PNG is one page: read
        pages = [doc.page(i) for i in range(doc.n_pages)]
        assert [(p.page, p.extra) for p in pages] == [(p.page, p.extra) for p in read[name]]
        assert all(np.array_equal(a.image, b.image) for a, b in zip(pages, read[name]))
        doc.close()
        assert kind is None or data.closed


def test_pdf_pages_rendered_at_the_resolution_of_their_scan(tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    a, b = Image.fromarray(ink_image(text="1")), Image.fromarray(ink_image(text="2"))   # 160 x 60 px
    for dpi, size, rendered in [(100, (160, 60), 100), (300, (160, 60), 300), (50, (320, 120), 100)]:
        a.save(tmp_path / "d.pdf", save_all=True, append_images=[b], resolution=dpi)
        pages = cio.load_pages(tmp_path / "d.pdf")
        assert [p.page for p in pages] == [1, 2]
        # the scan's own pixels (50 dpi, below PDF_DPI_RANGE, is rendered at 100: twice its pixels)
        assert abs(pages[0].image.shape[1] - size[0]) <= 2 and abs(pages[0].image.shape[0] - size[1]) <= 2, dpi
        assert pages[0].dpi == rendered and pages[0].image.min() < 50 and pages[0].image.max() > 200
    vector = pdfium.PdfDocument.new()
    vector.new_page(144, 72)   # 2 x 1 inches, no image on it
    vector.save(tmp_path / "v.pdf")
    [page] = cio.load_pages(tmp_path / "v.pdf")
    assert page.dpi == cio.PDF_DPI and page.image.shape == (cio.PDF_DPI, 2 * cio.PDF_DPI)


def test_format_comes_from_content_not_name(tmp_path):
    g = ink_image()
    cv2.imwrite(str(tmp_path / "real.png"), g)
    os.replace(tmp_path / "real.png", tmp_path / "named.jpg")
    (page,) = cio.load_pages(tmp_path / "named.jpg")
    assert np.array_equal(page.image, g)


# ------------------------------------------------------------------------------ limits and bad files


def test_pixel_bomb_refused_before_decoding(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header_only(40000, 40000))
    t0 = time.perf_counter()
    with pytest.raises(ImageTooLargeError, match="40000x40000"):
        cio.load_pages(tmp_path / "bomb.png")
    assert time.perf_counter() - t0 < 1.0  # nothing the size of 1.6 gigapixels was decoded


class _Decoded(BaseException):
    """Raised by a Pillow load that a test forbids (a BaseException: exif_orientation's except lets it by)."""


def test_a_png_over_the_pixel_limit_is_refused_before_any_of_it_is_decoded(tmp_path, monkeypatch):
    """Its EXIF orientation was looked up first, and Pillow decodes a whole PNG to look (an eXIf chunk
    may follow the pixels): a 1.7 MB PNG of 40000x40000 white took 1.7 GB and 8 s before its refusal
    (test_pixel_bomb_refused_before_decoding's PNG holds a header and no pixels)."""
    from PIL import ImageFile

    cv2.imwrite(str(tmp_path / "a.png"), ink_image(60, 160))

    def decoded(self, *args, **kwargs):
        raise _Decoded

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    with pytest.raises(ImageTooLargeError, match="limit of 100"):
        cio.load_pages(tmp_path / "a.png", ReadOptions(max_pixels=100))


def _png_chunks(data: bytes) -> list[bytes]:
    """The chunks of a PNG, each whole (length, type, body, CRC)."""
    pos, chunks = 8, []
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        chunks.append(data[pos : pos + 12 + n])
        pos += 12 + n
    return chunks


def test_a_png_is_decoded_once_and_its_exif_after_the_pixels_still_stands_it_up(tmp_path, monkeypatch):
    """Pillow decoded every PNG whole to look for an EXIF orientation, and OpenCV decoded it again for
    its page (14 ms more a 1800x825 sample, of 28); a PNG naming no EXIF has none to look for."""
    from PIL import ImageFile

    g = ink_image(60, 160)
    cv2.imwrite(str(tmp_path / "plain.png"), g)
    buf = _io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(g).transpose(Image.Transpose.ROTATE_90).save(buf, format="PNG", exif=exif)
    chunks = _png_chunks(buf.getvalue())
    moved = [c for c in chunks if c[4:8] != b"eXIf"]
    moved.insert(len(moved) - 1, next(c for c in chunks if c[4:8] == b"eXIf"))  # after the pixels, before IEND
    assert [c[4:8] for c in moved][-3:] == [b"IDAT", b"eXIf", b"IEND"]
    (tmp_path / "turned.png").write_bytes(buf.getvalue()[:8] + b"".join(moved))
    (page,) = cio.load_pages(tmp_path / "turned.png")
    assert np.array_equal(page.image, g)  # stood up by the EXIF found after the pixels

    def decoded(self, *args, **kwargs):
        raise _Decoded

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    (page,) = cio.load_pages(tmp_path / "plain.png")  # OpenCV's decode alone
    assert np.array_equal(page.image, g)


def test_pixel_limit_is_configurable(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), ink_image(60, 160))
    cio.load_pages(tmp_path / "a.png", ReadOptions(max_pixels=60 * 160))
    with pytest.raises(ImageTooLargeError, match="limit of 9599"):
        cio.load_pages(tmp_path / "a.png", ReadOptions(max_pixels=60 * 160 - 1))
    Image.fromarray(ink_image(60, 160)).save(tmp_path / "a.tif")
    with pytest.raises(ImageTooLargeError, match="TIFF page 1"):
        cio.load_pages(tmp_path / "a.tif", ReadOptions(max_pixels=100))


def _bytes_of(fmt: str) -> bytes:
    buf = _io.BytesIO()
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300), dtype=np.uint8))
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,name", [("PNG", "t.png"), ("JPEG", "t.jpg"), ("TIFF", "t.tif")])
@pytest.mark.parametrize("frac", [0.02, 0.5, 0.95])
def test_truncated_files_say_so(tmp_path, fmt, name, frac):
    data = _bytes_of(fmt)
    (tmp_path / name).write_bytes(data[: max(8, int(len(data) * frac))])
    with pytest.raises(InputError, match="truncated|corrupt"):
        cio.load_pages(tmp_path / name)


def _cut_pages(path):
    """(page number, image or the error's message) for every page of a file ``open_document`` finds."""
    out = []
    with cio.open_document(path) as doc:
        for i in range(doc.n_pages):
            try:
                out.append((i + 1, doc.page(i).image))
            except InputError as exc:
                out.append((i + 1, str(exc)))
    return out


@pytest.mark.parametrize("writer", ["libtiff sample", "pillow group4", "pillow 8-bit"])
@pytest.mark.parametrize("frac", [0.4, 0.6, 0.9, 0.98])
@pytest.mark.parametrize("mapped", [False, True])
def test_a_cut_multipage_tiff_keeps_the_pages_before_the_cut(tmp_path, monkeypatch, writer, frac, mapped):
    """Group 4 files put each page's directory after its data: a cut lost the whole file (one error
    row, "Missing dimensions"). Every page before the cut decodes as in the whole file, then one error."""
    whole = tmp_path / "whole.tif"
    if writer == "libtiff sample":
        whole.write_bytes((Path(__file__).resolve().parent.parent / "samples" / "batch_13.tif").read_bytes())
    else:
        frames = [Image.fromarray(ink_image(300, 500, text=f"{i}{i}")) for i in range(4)]
        if writer == "pillow group4":
            frames = [f.convert("1") for f in frames]
        extra = {"compression": "group4"} if writer == "pillow group4" else {}
        frames[0].save(whole, save_all=True, append_images=frames[1:], **extra)
    data = whole.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: int(len(data) * frac)])
    full = cio.load_pages(whole)
    if mapped:
        monkeypatch.setattr(cio, "MAP_MIN_BYTES", 100)
    got = _cut_pages(cut)
    errors = [(n, v) for n, v in got if isinstance(v, str)]
    good = [(n, v) for n, v in got if not isinstance(v, str)]
    assert errors and errors[-1][0] == len(got) and len(got) <= len(full), [(n, v) for n, v in errors]
    assert "truncated" in errors[-1][1] and len(errors) <= 2  # the page whose data is cut, and the rest
    if writer == "libtiff sample":  # its directories follow their pages' data: all the cut costs is the rest
        assert len(errors) == 1 and "cannot be found" in errors[0][1] and "any page after it" in errors[0][1]
    assert good and all(np.array_equal(v, full[n - 1].image) for n, v in good)
    assert [n for n, _ in good] == list(range(1, len(good) + 1))


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_text("just some notes, not a picture\n"), "not a supported image.*text file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: os.symlink(p.name, p), "symlink loop"),
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), "corrupt or truncated PNG"),
    ],
    ids=["empty", "text", "directory", "symlink-loop", "missing", "garbage-png"],
)
def test_bad_files_have_clear_messages(tmp_path, make, match):
    path = tmp_path / "x.png"
    make(path)
    with pytest.raises(InputError, match=match) as info:
        cio.load_pages(path, source="x.png")
    assert str(info.value).startswith("x.png: ")


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.png"
    cv2.imwrite(str(path), ink_image())
    if os.geteuid() == 0:  # root reads anything: make open() refuse as the OS would
        def refuse(*a, **k):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(cio, "open", refuse, raising=False)
    else:
        path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        cio.load_pages(path)


def test_pdf_faults(tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    empty = pdfium.PdfDocument.new()
    empty.save(tmp_path / "empty.pdf")
    with pytest.raises(InputError, match="no pages"):
        cio.load_pages(tmp_path / "empty.pdf")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n\x00\x01 this is not a PDF body\n")
    with pytest.raises(InputError, match="corrupt PDF"):
        cio.load_pages(tmp_path / "broken.pdf")
    # standard security handler, revision 2: the empty user password does not open it
    enc = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
           b"2 0 obj<</Type/Pages/Kids[4 0 R]/Count 1>>endobj\n"
           b"4 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
           b"3 0 obj<</Filter/Standard/V 1/R 2/O<" + b"ab" * 32 + b">/U<" + b"cd" * 32 + b">/P -4>>endobj\n"
           b"trailer<</Root 1 0 R/Encrypt 3 0 R/ID[<00112233445566778899aabbccddeeff>"
           b"<00112233445566778899aabbccddeeff>]>>\n%%EOF\n")
    (tmp_path / "enc.pdf").write_bytes(enc)
    with pytest.raises(InputError, match="encrypted PDF"):
        cio.load_pages(tmp_path / "enc.pdf")
    # PDFium's last-error code is stale after the encrypted file: still "no pages", not "encrypted"
    with pytest.raises(InputError, match="no pages"):
        cio.load_pages(tmp_path / "empty.pdf")


def test_tiny_and_blank_images_are_pages(tmp_path):
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((1, 1), np.uint8))
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((300, 600), 255, np.uint8))
    assert cio.load_pages(tmp_path / "one.png")[0].image.shape == (1, 1)
    assert cio.load_pages(tmp_path / "blank.png")[0].image.min() == 255


def test_file_size_limit(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), ink_image())
    with pytest.raises(InputError, match="more than the limit"):
        cio.load_pages(tmp_path / "a.png", ReadOptions(max_file_bytes=10))


# ------------------------------------------------------------------------------ discovery


def test_iter_inputs_folders_globs_lists(tmp_path):
    for rel in ["b.png", "a/z.TIF", "a/b/c.jpg", ".hidden.png", "a/.x/d.png", "notes.txt", "scan 1,\"q\".pdf"]:
        p = tmp_path / "in" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    (tmp_path / "in" / "dir.png").mkdir()
    found = cio.iter_inputs([tmp_path / "in"])
    assert [f.source for f in found] == ["a/b/c.jpg", "a/z.TIF", "b.png", "dir.png", "scan 1,\"q\".pdf"]
    assert all(os.path.exists(f.path) for f in found)
    assert [f.source for f in cio.iter_inputs([tmp_path / "in"], recursive=False)] == ["b.png", "dir.png", "scan 1,\"q\".pdf"]
    pattern = str(tmp_path / "in" / "a" / "**" / "*.jpg")
    assert [f.path for f in cio.iter_inputs([pattern])] == [str(tmp_path / "in" / "a" / "b" / "c.jpg")]
    assert [f.source for f in cio.iter_inputs(["nothing-*.png", "gone.png"])] == ["nothing-*.png", "gone.png"]
    lst = tmp_path / "list.txt"
    lst.write_text(f"{tmp_path / 'in' / 'b.png'}\n\n{tmp_path / 'in' / 'a'}\n")
    assert [f.source for f in cio.iter_inputs(cio.read_from_list(lst))] == [str(tmp_path / "in" / "b.png"), "b/c.jpg", "z.TIF"]


def test_a_file_s_content_given_as_an_input_is_a_type_error_naming_read_cheque():
    """``read_folder([blob])`` (a scan kept in a database) raised "'bytes' object has no attribute
    'encode'"."""
    from cheque_reader.batch import read_folder

    blob = cv2.imencode(".png", ink_image())[1].tobytes()
    for inputs in ([blob], [bytearray(blob)], blob):
        with pytest.raises(TypeError, match=r"not bytes.*read_cheque reads a file's content"):
            read_folder(inputs)


def test_folders_give_gif_and_webp_scans_and_name_the_files_they_leave(tmp_path, caplog):
    folder = tmp_path / "in"
    folder.mkdir()
    for suffix in (".gif", ".webp"):
        Image.fromarray(ink_image()).save(folder / f"scan{suffix}")
    for name in ("notes.txt", "truth.csv"):
        (folder / name).write_bytes(b"x")
    with caplog.at_level("INFO", logger="cheque_reader"):
        found = cio.iter_inputs([folder])
    assert [f.source for f in found] == ["scan.gif", "scan.webp"]
    for f in found:
        (page,) = cio.load_pages(f.path)
        assert np.abs(page.image.astype(int) - ink_image()).mean() < 2     # decoded, not just listed
    assert "2 file(s) not read" in caplog.text and "notes.txt, truth.csv" in caplog.text


def test_a_folders_hidden_files_are_left_out_and_named_with_v(tmp_path, caplog):
    """-v "names the files left out": a hidden scan (.scan.png) or folder was left out unnamed."""
    folder = tmp_path / "in"
    (folder / ".old").mkdir(parents=True)
    for name in ("scan.png", ".scan.png", "._scan.png", ".old/a.png"):
        cv2.imwrite(str(folder / name), ink_image())
    with caplog.at_level("INFO", logger="cheque_reader"):
        found = cio.iter_inputs([folder])
    assert [f.source for f in found] == ["scan.png"]
    assert "3 hidden file(s) or folder(s) not read (their names begin with a dot): ._scan.png, .old, .scan.png" in caplog.text

def test_names_that_are_not_utf8_are_sources_with_backslash_escapes_and_open_by_their_path(tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"l\xe0t")  # Latin-1 names: invalid UTF-8
    os.makedirs(os.path.join(folder, b"sub"))
    for name in (b"ch\xe8que.png", b"sub/\xff.png", "ünï.png".encode()):
        with open(os.path.join(folder, name), "wb") as f:  # (cv2.imwrite crashes on such a path)
            f.write(cv2.imencode(".png", ink_image())[1].tobytes())
    found = cio.iter_inputs([os.fsdecode(folder)])
    assert [f.source for f in found] == ["ch\\xe8que.png", "sub/\\xff.png", "ünï.png"]
    assert [f.source.encode("utf-8") for f in found]  # every source can be written as UTF-8
    for f in found:
        (page,) = cio.load_pages(f.path, source=f.source)
        assert page.source == f.source and np.array_equal(page.image, ink_image())
    direct = os.fsdecode(os.path.join(folder, b"ch\xe8que.png"))
    assert [f.source for f in cio.iter_inputs([direct])] == [os.fsencode(direct).decode("utf-8", "backslashreplace")]


def test_a_list_naming_a_file_that_is_not_utf8_opens_it_as_a_folder_would(tmp_path):
    name = os.path.join(os.fsencode(tmp_path), b"ch\xe8que.png")
    with open(name, "wb") as f:
        f.write(cv2.imencode(".png", ink_image())[1].tobytes())
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"\n".join([name, os.fsencode(tmp_path / "missing.png"), b""]))
    listed = cio.read_from_list(listing)
    assert listed == [os.fsdecode(name), str(tmp_path / "missing.png")]
    [found] = cio.iter_inputs(listed[:1])
    assert found.source.endswith("ch\\xe8que.png")
    (page,) = cio.load_pages(found.path, source=found.source)
    assert np.array_equal(page.image, ink_image())


def test_a_list_written_with_a_byte_order_mark_and_crlf_names_its_first_file(tmp_path):
    """A list saved by Notepad or PowerShell as UTF-8 with a BOM gave its first file an error row:
    '\ufeff/path/a.png: no such file'."""
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join([os.fsencode(tmp_path / "a.png"), b"b.png", b""]))
    assert cio.read_from_list(listing) == [str(tmp_path / "a.png"), "b.png"]


def test_the_same_name_in_two_inputs_gives_every_file_its_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for rel in ["b1/scan.png", "b1/sub/a.png", "b2/scan.png", "b2/c.png", "one/scan.png", "z.png"]:
        os.makedirs(os.path.dirname(rel) or ".", exist_ok=True)
        with open(rel, "wb") as f:
            f.write(b"x")
    assert [f.source for f in cio.iter_inputs(["b1"])] == ["scan.png", "sub/a.png"]  # one folder: as before
    assert [f.source for f in cio.iter_inputs(["b1", "z.png"])] == ["scan.png", "sub/a.png", "z.png"]  # no clash
    both = cio.iter_inputs(["b1", "b2/"])
    assert [f.source for f in both] == ["b1/scan.png", "b1/sub/a.png", "b2/c.png", "b2/scan.png"]
    assert [f.source for f in both] == [f.path for f in both]
    assert [f.source for f in cio.iter_inputs(["b*"])] == ["b1/scan.png", "b1/sub/a.png", "b2/c.png", "b2/scan.png"]
    assert [f.source for f in cio.iter_inputs(["one", "scan.png"])] == ["one/scan.png", "scan.png"]
    assert [f.source for f in cio.iter_inputs(["b1", "b1"])] == ["scan.png", "sub/a.png"] * 2  # the same files


def test_iter_inputs_survives_folder_symlink_loop(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "sub" / "a.png").write_bytes(b"x")
    os.symlink(tmp_path / "in", tmp_path / "in" / "sub" / "back")
    assert [f.source for f in cio.iter_inputs([tmp_path / "in"])] == ["sub/a.png"]


def test_sniff():
    assert cio.sniff(png_header_only(2, 2)) == "png"
    assert cio.sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert cio.sniff(b"II*\x00....") == "tiff" and cio.sniff(b"MM\x00*....") == "tiff"
    assert cio.sniff(b"%PDF-1.7") == "pdf" and cio.sniff(b"BM....") == "bmp"
    assert cio.sniff(b"hello world") is None


def test_a_list_of_paths_relative_to_its_own_folder_is_warned_about(tmp_path, monkeypatch, caplog):
    """Listed relative paths are relative to the current folder (as tar -T takes them); a list written
    in the scans' folder (ls > scans/list.txt) gave each page 'no such file' without saying why."""
    scans = tmp_path / "scans"
    scans.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(scans / name), ink_image())
    listing = scans / "list.txt"
    listing.write_text("a.png\nb.png\n")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level("WARNING", logger="cheque_reader"):
        assert cio.read_from_list(listing) == ["a.png", "b.png"]  # as listed: relative to the current folder
    assert "2 listed path(s) (a.png, b.png) are not found from the current folder" in caplog.text
    assert os.path.join(str(scans), "a.png") in caplog.text
    caplog.clear()
    (scans / "good.txt").write_text("scans/a.png\n")  # relative to the current folder: no warning
    with caplog.at_level("WARNING", logger="cheque_reader"):
        assert cio.read_from_list(scans / "good.txt") == ["scans/a.png"]
        monkeypatch.chdir(scans)  # run from the list's folder: its names are found
        assert cio.read_from_list("list.txt") == ["a.png", "b.png"]
    assert caplog.text == ""


def test_a_path_holding_a_nul_byte_is_an_input_error_and_a_list_holding_them_is_refused(tmp_path):
    """A NUL byte in a path (a list written by find -print0, a path from a program) made os.stat raise
    ValueError: a traceback from `read --from-list`, an 'internal error' row from read_folder."""
    with pytest.raises(InputError, match="NUL byte"):
        cio.load_pages(str(tmp_path / "a\0b.png"))
    listing = tmp_path / "list.txt"
    listing.write_bytes(os.fsencode(tmp_path / "a.png") + b"\0" + os.fsencode(tmp_path / "b.png") + b"\0")
    with pytest.raises(InputError, match="NUL bytes.*-print0"):
        cio.read_from_list(listing)


def test_a_file_given_more_than_once_is_warned_about(tmp_path, caplog):
    """read samples/ samples/cheque_01.png (or one file twice) gave that page two rows without a word."""
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "b.png").write_bytes(b"x")
    with caplog.at_level("WARNING", logger="cheque_reader"):
        found = cio.iter_inputs([tmp_path, tmp_path / "a.png"])
    assert [f.source for f in found] == ["a.png", "b.png", str(tmp_path / "a.png")]  # still a row each time
    assert f"1 file(s) given more than once ({tmp_path / 'a.png'})" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="cheque_reader"):
        cio.iter_inputs([tmp_path / "a.png", tmp_path / "b.png", tmp_path / "missing.png"])
    assert "more than once" not in caplog.text


@pytest.mark.parametrize("suffix", ["gif", "webp"])
def test_each_frame_of_a_gif_or_webp_is_a_page(tmp_path, suffix):
    """A GIF or WebP of three frames gave one row, its first frame's: the others were lost without a word."""
    frames = [Image.fromarray(ink_image(text=t)) for t in ("12", "345", "6789")]
    path = tmp_path / f"three.{suffix}"
    kw = {"lossless": True} if suffix == "webp" else {}
    frames[0].save(path, save_all=True, append_images=frames[1:], **kw)
    pages = cio.load_pages(path)
    assert [p.page for p in pages] == [1, 2, 3]
    for p, t in zip(pages, ("12", "345", "6789")):
        assert np.abs(p.image.astype(int) - ink_image(text=t)).max() <= 2  # each its own frame
    one = tmp_path / f"one.{suffix}"
    frames[0].save(one, **kw)
    assert len(cio.load_pages(one)) == 1


def test_a_gif_cut_short_in_its_second_frame_keeps_its_first():
    buf = _io.BytesIO()
    frames = [Image.fromarray(ink_image(text=t)) for t in ("12", "345")]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    data = buf.getvalue()
    with cio.open_bytes(data[: len(data) - 40]) as doc:
        assert doc.n_pages == 2 and doc.page(0).image.shape == (60, 160)
        with pytest.raises(InputError, match="corrupt or truncated GIF frame 2"):
            doc.page(1)


@pytest.mark.parametrize(("data", "said"), [
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(40),
     "it is a HEIC photo (an iPhone's format): save it as JPEG or PNG"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(20), "it is a JPEG 2000 image"),
    (b"PK\x03\x04" + b"scans/a.png" + bytes(20), "it is a ZIP archive: unpack it"),
    (b"\x01\x02abc\x00\x00\x00def", r"unknown content starting with b'\x01\x02abc\x00\x00\x00'"),
    (b"amount,1234\r\n", "it looks like a text file"),
])
def test_a_file_of_a_format_not_read_says_what_it_is(tmp_path, data, said):
    """A HEIC photo (a phone's cheque picture) was 'not a supported image file (it looks like a text file)':
    its first bytes, NULs and ASCII, decode as UTF-8."""
    path = tmp_path / "cheque.jpg"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        cio.load_pages(path)
    assert str(info.value).startswith(f"{path}: not a supported image file ({said}")


def test_a_folders_phone_photos_in_a_format_not_read_are_inputs_that_say_so(tmp_path):
    """A folder's IMG_0001.HEIC was left out without a word (shown only with -v): its cheque had no row."""
    cv2.imwrite(str(tmp_path / "a.png"), ink_image())
    (tmp_path / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(40))
    (tmp_path / "notes.txt").write_text("not a scan")
    found = cio.iter_inputs([tmp_path])
    assert [f.source for f in found] == ["IMG_0001.HEIC", "a.png"]
    with pytest.raises(InputError, match="IMG_0001.HEIC: not a supported image file .it is a HEIC photo"):
        cio.load_pages(found[0].path)


def test_a_big_file_of_no_known_format_is_told_from_its_first_bytes(tmp_path):
    """A stray 1.5 GB file (a .dat dump in the scans folder) was read whole to say 'not a supported image
    file': 3 GB in the worker, 5 s."""
    import tracemalloc

    path = tmp_path / "dump.dat"
    with open(path, "wb") as f:  # 300 MB, sparse: nothing of it on the disk
        f.write(b"backup of 2024-01-02\n")
        f.truncate(300 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"dump.dat: not a supported image file \(unknown content"):
            cio.load_pages(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, peak


def test_native_stderr_in_threads_at_once_leaves_standard_error_as_it_was(capfd):
    """Two threads swapping file descriptor 2 unlocked can each restore the other's capture file:
    everything written to standard error after them went on into a closed file."""
    import threading

    seen: dict[int, list[list[str]]] = {0: [], 1: []}

    def work(k: int) -> None:
        for _ in range(50):
            with cio.native_stderr() as said:
                os.write(2, f"thread {k}\n".encode())
                time.sleep(0.001)  # the other thread comes in here, as during a decode
            seen[k].append(said)

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
    assert all(said == [f"thread {k}"] for k in (0, 1) for said in seen[k])


@pytest.mark.parametrize("damage", ["zeros", "random"])
def test_a_jpeg_compressed_tiff_page_with_damaged_data_is_an_error_naming_what_libjpeg_found(tmp_path, capfd, damage):
    """A TIFF page whose strips are JPEG data (compression 7, gray scans of capture systems) decoded
    all the same when that data was damaged (libtiff, inside Pillow, said nothing), and the page was
    read as a cheque; the same damage in a .jpg was an error row."""
    g = _cheque_gray()
    buf = _io.BytesIO()
    Image.fromarray(g).save(buf, format="TIFF", compression="jpeg", quality=90)
    whole = buf.getvalue()
    (tmp_path / "whole.tif").write_bytes(whole)
    assert cio.load_pages(tmp_path / "whole.tif", source="whole.tif")[0].image.shape == g.shape  # undamaged: read
    tags = Image.open(_io.BytesIO(whole)).tag_v2
    assert tags[259] == 7
    start, length = tags[273][0], tags[279][0]  # the first strip
    _damaged_scan_is_an_error(tmp_path / "scan.tif", capfd, whole, start + length // 2, damage, "TIFF page 1")


@pytest.mark.parametrize("arrow", [True, False])
def test_bitonal_array_equals_numpys_booleans_times_255(arrow, monkeypatch, tmp_path):
    """Group 4 pages read in place through the Arrow interface (or, without pyarrow, through numpy's),
    the same pixels as ``np.asarray(img).astype(np.uint8) * 255``: random bits of random sizes, the
    pages of a multi-page Group 4 TIFF, and a mode "1" image whose bytes are any of 0-255."""
    if arrow:
        pytest.importorskip("pyarrow")  # (bitonal_array takes it when imported, as pandas does)
    else:
        monkeypatch.setitem(sys.modules, "pyarrow", None)
    rng = np.random.default_rng(3)
    images = []
    for _ in range(30):
        h, w = (int(v) for v in rng.integers(1, 90, 2))
        images.append(Image.fromarray(rng.random((h, w)) < rng.random()).convert("1"))
    frames = [Image.fromarray(rng.random((40, 70)) < 0.3).convert("1") for _ in range(3)]
    frames[0].save(tmp_path / "g4.tif", save_all=True, append_images=frames[1:], compression="group4")
    multi = Image.open(tmp_path / "g4.tif")
    for i in range(3):
        multi.seek(i)
        multi.load()
        images.append(multi.copy())
    images.append(Image.frombytes("1", (256, 1), bytes(range(256)), "raw", "L"))
    for img in images:
        got = cio.bitonal_array(img)
        want = np.asarray(img).astype(np.uint8) * np.uint8(255)
        assert got.dtype == np.uint8 and got.shape == want.shape and np.array_equal(got, want)


def test_an_empty_path_is_an_error_saying_so():
    """``read_cheque("")`` and an empty input of ``read_folder`` (an empty cell of a list of paths)
    gave the error ': no such file', which names nothing."""
    from cheque_reader import read_cheque, read_folder

    assert read_cheque("").error == "an empty path names no file"
    assert read_cheque("", source="row 17").error == "row 17: an empty path names no file"
    row = read_folder([""]).iloc[0]
    assert row["status"] == "error" and row["error"] == "an empty path names no file"
    with pytest.raises(InputError, match="^an empty path names no file$"):
        cio.load_pages("")


def test_pdfium_is_called_by_one_thread_at_a_time(monkeypatch):
    """PDFium is not thread-safe, not even across documents (pypdfium2: simultaneous calls "would crash or
    corrupt the process"), and a web service's read_cheque of PDF uploads on a thread pool opened and
    rendered them in several threads at once."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    pdfium = pytest.importorskip("pypdfium2")
    buf = _io.BytesIO()
    Image.new("L", (200, 100), 255).save(buf, "PDF", resolution=100)
    data = buf.getvalue()
    inside, most, lock = [0], [0], threading.Lock()

    def watched(fn):
        def call(*args, **kwargs):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            try:
                time.sleep(0.005)  # a wide window for another thread's call
                return fn(*args, **kwargs)
            finally:
                with lock:
                    inside[0] -= 1
        return call

    monkeypatch.setattr(pdfium.PdfDocument, "__init__", watched(pdfium.PdfDocument.__init__))
    monkeypatch.setattr(pdfium.PdfPage, "render", watched(pdfium.PdfPage.render))

    def first_page(i):
        with cio.open_bytes(data, ReadOptions(), f"up{i}.pdf") as doc:
            return doc.page(0).image.shape

    with ThreadPoolExecutor(4) as pool:
        shapes = list(pool.map(first_page, range(16)))
    assert set(shapes) == {(100, 200)} and most[0] == 1, most


def test_decodes_in_two_threads_leave_the_warnings_filters_as_they_were(monkeypatch):
    """Each decode quieted Pillow's warnings with ``warnings.catch_warnings()``, which saves the process's
    filters on the way in and puts them back on the way out: a second thread's block begun inside the
    first's saved the first's 'ignore' and put it back last, and every warning of the host application was
    silenced from then on (8 threads reading the sample TIFFs: 1 run of 3)."""
    import threading
    import warnings

    from PIL import Image

    first_in, second_in, first_done = threading.Event(), threading.Event(), threading.Event()
    real_load = Image.Image.load

    def load(self):
        if threading.current_thread().name == "first":
            first_in.set()
            second_in.wait(1.0)  # the second decode begins inside this one (where nothing keeps it out)
        else:
            second_in.set()
            first_done.wait(1.0)  # ... and ends after it
        return real_load(self)

    monkeypatch.setattr(Image.Image, "load", load)
    before = list(warnings.filters)

    def decode(done=None):
        cio._pil_decode("a.png", Image.new("L", (4, 3), 255), "image")
        if done is not None:
            done.set()

    first = threading.Thread(target=decode, args=(first_done,), name="first")
    second = threading.Thread(target=decode, name="second")
    first.start()
    assert first_in.wait(5)
    second.start()
    first.join(10)
    second.join(10)
    assert list(warnings.filters) == before


def test_another_threads_stderr_lines_caught_with_a_damaged_page_are_written_back(capsys):
    """What other threads wrote to standard error while a page decoded (a web service's log lines) is caught
    with the decoder's words and written back; with a damaged page's error it was lost."""
    theirs = "GET /cheques/17 200 (a log line of the host application)"
    with pytest.raises(InputError, match="damaged image data"):
        cio._libtiff_said("a.tif", "TIFF page 1", ["Fax4Decode: Bad code word at line 3 of strip 0 (x 5).", theirs])
    with pytest.raises(InputError, match="damaged image data"):
        cio._decoder_said("a.jpg", "JPEG image", ["Corrupt JPEG data: premature end of data segment", theirs])
    err = capsys.readouterr().err
    assert err == f"{theirs}\n{theirs}\n"
