"""X9.37 image cash letters: round trip through our writer, record positions, damaged files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cheque_reader import io as cio
from cheque_reader.errors import InputError
from cheque_reader.x937 import X937Document, X937Item, looks_like_x937, tiff_g4, write_x937


def cheque(i: int, h=120, w=300) -> np.ndarray:
    g = np.full((h, w), 255, np.uint8)
    cv2.putText(g, f"{i:03d}", (10, 80), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 4)
    return g


def records(data: bytes):
    """(offset, body) of every record, walking the 4-byte big-endian length prefixes."""
    pos, out = 0, []
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        out.append((pos, data[pos + 4 : pos + 4 + n]))
        pos += 4 + n
    return out


@pytest.mark.parametrize("encoding", ["ebcdic", "ascii"])
def test_round_trip(tmp_path, encoding):
    items = [X937Item(cheque(i), amount_cents=100 * i + 7, sequence=f"{9000 + i:015d}") for i in range(6)]
    path = tmp_path / "cash.x937"
    write_x937(path, items, encoding=encoding)
    pages = cio.load_pages(path)
    assert [p.page for p in pages] == [1, 2, 3, 4, 5, 6]
    for i, p in enumerate(pages):
        assert p.extra == {"item_sequence": f"{9000 + i:015d}", "micr_amount": f"{i}.{7:02d}"}
        otsu = cv2.threshold(cheque(i), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]  # the writer's level
        assert np.array_equal(p.image, otsu)


def test_record_layout_follows_the_standard(tmp_path):
    """Check the writer against the standard's positions, independently of the reader."""
    path = tmp_path / "c.x937"
    write_x937(path, [X937Item(cheque(1), amount_cents=123456, sequence="000000000004242")])
    recs = records(path.read_bytes())
    types = [r[:2].decode("cp037") for _, r in recs]
    assert types == ["01", "10", "20", "25", "50", "52", "70", "90", "99"]
    assert all(len(r) == 80 for (_, r), t in zip(recs, types) if t != "52")
    detail = recs[3][1].decode("cp037")
    assert detail[47:57] == "0000123456"  # field 7, item amount, positions 48-57
    assert detail[57:72] == "000000000004242"  # field 8, item sequence number, positions 58-72
    view = recs[4][1].decode("cp037")
    assert view[31] == "0"  # view side indicator, position 32: front
    data52 = recs[5][1]
    key_len = int(data52[101:105].decode("cp037"))  # length of image reference key, positions 102-105
    assert data52[105 : 105 + key_len].decode("cp037").startswith("IMG")  # the key, field 15
    p = 105 + key_len
    sig_len = int(data52[p : p + 5].decode("cp037"))
    p += 5 + sig_len
    img_len = int(data52[p : p + 7].decode("cp037"))
    blob = data52[p + 7 :]
    assert img_len == len(blob) and blob[:4] == b"II*\x00"
    assert int(view[24:31]) == img_len  # image view data size, positions 25-31


def test_more_items_than_a_bundle_holds_go_into_several_bundles(tmp_path, monkeypatch):
    from cheque_reader import x937

    monkeypatch.setattr(x937, "BUNDLE_MAX_ITEMS", 3)  # 9,999 in the standard's 4-digit count
    blob = tiff_g4(cheque(0))
    path = tmp_path / "c.x937"
    write_x937(path, [X937Item(blob, amount_cents=100 + i) for i in range(7)])
    recs = [r.decode("cp037", errors="replace") for _, r in records(path.read_bytes())]
    types = [r[:2] for r in recs]
    assert types == ["01", "10"] + ["20"] + ["25", "50", "52"] * 3 + ["70"] + ["20"] + ["25", "50", "52"] * 3 + ["70"] \
        + ["20", "25", "50", "52", "70", "90", "99"]
    controls = [r for r in recs if r[:2] == "70"]
    assert [int(r[2:6]) for r in controls] == [3, 3, 1]  # items per bundle
    assert [int(r[6:18]) for r in controls] == [303, 312, 106]  # their amounts
    assert int(next(r for r in recs if r[:2] == "90")[2:8]) == 3  # bundles in the cash letter
    assert int(recs[-1][8:16]) == len(recs)  # records in the file
    doc = X937Document.from_path(path)
    assert doc.n_pages == 7 and [doc.page(i).extra["micr_amount"] for i in range(7)] == [f"1.{i:02d}" for i in range(7)]


def test_front_image_chosen_over_back(tmp_path):
    front, back = cheque(1), np.full((120, 300), 0, np.uint8)
    write_x937(tmp_path / "c.x937", [X937Item(front, 500, back=back), X937Item(cheque(2), 600, back=back)])
    pages = cio.load_pages(tmp_path / "c.x937")
    assert len(pages) == 2
    assert pages[0].image.mean() > 200 and pages[1].image.mean() > 200  # the dark back is never taken


def test_tiff_bytes_items_and_detection(tmp_path):
    blob = tiff_g4(cheque(3))
    write_x937(tmp_path / "c.icl", [X937Item(blob, 1)], encoding="ascii")
    data = (tmp_path / "c.icl").read_bytes()
    assert looks_like_x937(data) and cio.sniff(data) == "x937"
    assert not looks_like_x937(b"\x00\x00\x00\x50" + b"XX" + b" " * 78)
    assert cio.load_pages(tmp_path / "c.icl")[0].extra["micr_amount"] == "0.01"


def _cut_file(tmp_path, n=5, cut_in_item=4):
    path = tmp_path / "cut.x937"
    write_x937(path, [X937Item(cheque(i), 100 + i) for i in range(n)])
    data = path.read_bytes()
    recs = records(data)
    details = [off for off, r in recs if r[:2] == b"\xf2\xf5"]
    images = [(off, r) for off, r in recs if r[:2] == b"\xf5\xf2"]
    off, rec = images[cut_in_item - 1]
    assert off > details[cut_in_item - 1]
    path.write_bytes(data[: off + 4 + len(rec) // 2])  # the item's image record cut in half
    return path


def test_file_cut_mid_record_keeps_complete_items(tmp_path):
    path = _cut_file(tmp_path)
    doc = X937Document.from_path(path)
    assert doc.n_pages == 4 and "cut off mid-record" in doc.truncated
    for i in range(3):
        assert doc.page(i).extra["micr_amount"] == f"1.{i:02d}"
    with pytest.raises(InputError, match="cut off mid-record") as info:
        doc.page(3)
    assert info.value.extra["micr_amount"] == "1.03"
    with pytest.raises(InputError, match="item 4"):
        cio.load_pages(path)  # the all-or-nothing loader says which item


def test_file_cut_inside_a_length_prefix(tmp_path):
    path = tmp_path / "c.x937"
    write_x937(path, [X937Item(cheque(1), 1), X937Item(cheque(2), 2)])
    recs = records(path.read_bytes())
    second_image = [off for off, r in recs if r[:2] == b"\xf5\xf2"][1]
    path.write_bytes(path.read_bytes()[: second_image + 2])
    doc = X937Document.from_path(path)
    assert doc.n_pages == 2 and "record length" in doc.truncated
    doc.page(0)
    with pytest.raises(InputError):
        doc.page(1)


@pytest.mark.parametrize("data,match", [
    (b"\x00\x00\x00\x50" + "01".encode("cp037") + b"\x40" * 78, "no check items"),
    (b"\x00\x00\x00\x50" + "01".encode("cp037") + b"\x40" * 10, "no check items.*cut off"),
])
def test_files_without_items(tmp_path, data, match):
    (tmp_path / "e.x937").write_bytes(data)
    with pytest.raises(InputError, match=match):
        cio.load_pages(tmp_path / "e.x937")


def test_item_without_image_is_an_error_page(tmp_path):
    path = tmp_path / "c.x937"
    write_x937(path, [X937Item(cheque(1), 1), X937Item(cheque(2), 2)])
    data = bytearray(path.read_bytes())
    # turn the first item's Type 52 into an unknown record type "53": its image is gone
    first52 = [off for off, r in records(bytes(data)) if r[:2] == b"\xf5\xf2"][0]
    data[first52 + 5] = ord("3".encode("cp037"))
    path.write_bytes(bytes(data))
    doc = X937Document.from_path(path)
    with pytest.raises(InputError, match="no front image"):
        doc.page(0)
    assert doc.page(1).extra["micr_amount"] == "0.02"


def _damaged(tmp_path, record_type: bytes, item: int, length: int | None = None, new_type: bytes | None = None):
    """Five items, then item ``item``'s record of ``record_type`` given ``length`` or ``new_type``."""
    path = tmp_path / "damaged.x937"
    write_x937(path, [X937Item(cheque(i), 100 + i) for i in range(5)])
    data = bytearray(path.read_bytes())
    off = [o for o, r in records(bytes(data)) if r[:2] == record_type][item - 1]
    if length is not None:
        data[off : off + 4] = length.to_bytes(4, "big")
    if new_type is not None:
        data[off + 4 : off + 6] = new_type
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_length_gives_one_error_page_for_the_rest_of_the_file(tmp_path):
    doc = X937Document.from_path(_damaged(tmp_path, b"\xf5\xf2", 2, length=0x7FFFFFFF))  # item 2's Type 52
    assert doc.n_pages == 3  # item 1, item 2 (no image), the rest: items 3-5 are not silently dropped
    assert doc.page(0).extra["micr_amount"] == "1.00"
    with pytest.raises(InputError, match="item 2 .*bad record length 2147483647"):
        doc.page(1)
    with pytest.raises(InputError, match=r"rest of the file after item 2: .*walk stopped: bad record length 2147483647 "
                                         r"at byte \d+.*counts 5 items, 2 found") as info:
        doc.page(2)
    assert info.value.extra == {"item_sequence": "", "micr_amount": ""}


@pytest.mark.parametrize("length", [60, 1000])
def test_a_type_25_record_of_the_wrong_length_is_a_damaged_item_not_a_garbage_sequence(tmp_path, length):
    doc = X937Document.from_path(_damaged(tmp_path, b"\xf2\xf5", 4, length=length))
    assert doc.n_pages == 5
    assert [doc.page(i).extra["micr_amount"] for i in range(3)] == ["1.00", "1.01", "1.02"]
    with pytest.raises(InputError, match=f"item 4 .*damaged check detail record .*{length} bytes, not 80") as info:
        doc.page(3)
    assert info.value.extra == {"item_sequence": "", "micr_amount": ""}
    with pytest.raises(InputError, match="rest of the file after item 4: .*walk stopped.*counts 5 items, 4 found"):
        doc.page(4)


def test_fewer_items_than_the_file_control_record_counts_is_an_error_page(tmp_path):
    doc = X937Document.from_path(_damaged(tmp_path, b"\xf2\xf5", 3, new_type="29".encode("cp037")))
    assert doc.n_pages == 5  # four items found and one page for the missing one
    assert [doc.page(i).extra["micr_amount"] for i in range(4)] == ["1.00", "1.01", "1.03", "1.04"]
    with pytest.raises(InputError, match=r"Type 99\) counts 5 items, 4 found: 1 missing"):
        doc.page(4)
    padded = tmp_path / "padded.x937"  # bytes after the file control record lose nothing: no extra page
    write_x937(padded, [X937Item(cheque(i), 100 + i) for i in range(5)])
    padded.write_bytes(padded.read_bytes() + b"\x00" * 100)
    assert X937Document.from_path(padded).n_pages == 5


def test_a_length_running_past_the_end_of_a_whole_file_stands_for_the_rest(tmp_path):
    doc = X937Document.from_path(_damaged(tmp_path, b"\xf5\xf2", 2, length=0x00100000))
    assert doc.n_pages == 3
    with pytest.raises(InputError, match="rest of the file after item 2: .*bad record length 1048576 .*runs past the end"):
        doc.page(2)


def test_tiff_g4_keeps_light_ink(tmp_path):
    light = np.full((120, 300), 250, np.uint8)
    cv2.putText(light, "17640", (10, 80), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 170, 4)  # pale ink, above 128
    write_x937(tmp_path / "c.x937", [X937Item(light, 1764000)])
    page = cio.load_pages(tmp_path / "c.x937")[0]
    assert page.image[light <= 180].max() == 0 and page.image[light == 250].min() == 255  # 128 dropped the ink


def _standard_52(front: bytes, key: str, signature: bytes, key_len: str | None = None) -> bytes:
    """A Type 52 record laid out by the standard itself (not by write_x937), in EBCDIC: fields 1-13 in
    positions 1-101, then the image reference key's length in 102-105 (4 digits), the key, the digital
    signature's length (5), the signature, the image data's length (7) and the image."""
    head = "52" + "012345678" + "20240102" + "01" + "000000000000001" + " " * 48 + "0" + "0000" * 4
    assert len(head) == 101
    text = head + (key_len if key_len is not None else f"{len(key):04d}") + key
    body = text.encode("cp037") + f"{len(signature):05d}".encode("cp037") + signature
    body += f"{len(front):07d}".encode("cp037") + front
    return len(body).to_bytes(4, "big") + body


def test_an_image_view_data_record_laid_out_by_the_standard_is_read(tmp_path):
    """The reader took the key's length for 5 digits (102-106): every item of a bank's file, whose
    Type 52 records hold it in 4, was an error row ("invalid literal for int() with base 10")."""
    path = tmp_path / "c.x937"
    write_x937(path, [X937Item(cheque(1), 101), X937Item(cheque(2), 202), X937Item(cheque(3), 303)])
    data = path.read_bytes()
    out, fronts = b"", []
    for off, rec in records(data):
        if rec[:2] != "52".encode("cp037"):
            out += data[off : off + 4 + len(rec)]
            continue
        front = tiff_g4(cheque(len(fronts) + 1))
        fronts.append(front)
        key, sig, key_len = [("", b"", None), ("REF-0002", b"\x01\x02\x03", None), ("", b"", "    ")][len(fronts) - 1]
        out += _standard_52(front, key, sig, key_len)  # no key; a key and a signature; a blank length
    path.write_bytes(out)
    pages = cio.load_pages(path)
    assert [p.extra["micr_amount"] for p in pages] == ["1.01", "2.02", "3.03"]
    for i, p in enumerate(pages):
        otsu = cv2.threshold(cheque(i + 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
        assert np.array_equal(p.image, otsu)


def test_a_damaged_image_view_data_length_is_named_in_words(tmp_path):
    """A length field that is no number gave the row "invalid literal for int() with base 10: 'ab cd'"."""
    path = tmp_path / "c.x937"
    write_x937(path, [X937Item(cheque(1), 101), X937Item(cheque(2), 202)])
    data = bytearray(path.read_bytes())
    off = next(o for o, r in records(bytes(data)) if r[:2] == "52".encode("cp037"))
    data[off + 4 + 101 : off + 4 + 105] = "ab c".encode("cp037")
    path.write_bytes(bytes(data))
    doc = X937Document.from_path(path)
    with pytest.raises(InputError, match=r"item 1 .*bad image view data record: its image reference key length is "
                                         r"'ab c', not a number$"):
        doc.page(0)
    assert doc.page(1).extra["micr_amount"] == "2.02"


def test_png_and_jpeg_fronts_are_read(tmp_path):
    """X9.100-187 allows PNG and JFIF image views beside TIFF: such items were error rows ('front image is
    not a TIFF (png)')."""
    png = cv2.imencode(".png", cheque(1))[1].tobytes()
    jpg = cv2.imencode(".jpg", cheque(2), [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    path = tmp_path / "c.x937"
    write_x937(path, [X937Item(png, 101), X937Item(jpg, 202), X937Item(b"GIF89a" + bytes(40), 303)])
    doc = X937Document.from_path(path)
    assert np.array_equal(doc.page(0).image, cheque(1)) and doc.page(0).extra["micr_amount"] == "1.01"
    assert np.abs(doc.page(1).image.astype(int) - cheque(2)).mean() < 2 and doc.page(1).page == 2
    with pytest.raises(InputError, match=r"item 3 .*front image is not a TIFF, PNG or JPEG \(gif\)"):
        doc.page(2)


@pytest.mark.parametrize("encoding", ["ebcdic", "ascii"])
def test_a_return_file_reads_one_page_per_return_record(tmp_path, encoding):
    """Returned items (a return file: Type 31 records where a presentment has Type 25) are read as items."""
    items = [X937Item(cheque(i), amount_cents=2500 * i + 1, sequence=f"{700 + i:015d}") for i in range(3)]
    path = tmp_path / "returns.x937"
    write_x937(path, items, encoding=encoding, returns=True)
    recs = records(path.read_bytes())
    codec = "cp037" if encoding == "ebcdic" else "ascii"
    assert [r[:2].decode(codec) for _, r in recs].count("31") == 3 and not any(r[:2] == "25".encode(codec) for _, r in recs)
    detail = [r for _, r in recs if r[:2] == "31".encode(codec)][1].decode(codec)  # the second item's
    assert detail[31:41] == "0000002501" and detail[53:68] == f"{701:015d}"  # fields 5 and 10, positions 32-41, 54-68
    pages = cio.load_pages(path)
    assert [p.extra for p in pages] == [{"item_sequence": f"{700 + i:015d}", "micr_amount": f"{25 * i}.01"} for i in range(3)]
    otsu = cv2.threshold(cheque(2), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    assert np.array_equal(pages[2].image, otsu)


def test_a_return_record_of_the_wrong_length_is_a_damaged_item(tmp_path):
    path = tmp_path / "returns.x937"
    write_x937(path, [X937Item(cheque(i), amount_cents=100 + i) for i in range(3)], returns=True)
    data = bytearray(path.read_bytes())
    offset, body = [(o, r) for o, r in records(bytes(data)) if r[:2] == b"\xf3\xf1"][1]  # the second item's
    data[offset : offset + 4 + len(body)] = (60).to_bytes(4, "big") + body[:60]
    path.write_bytes(bytes(data))
    doc = X937Document.from_path(path)
    assert doc.page(0).extra["micr_amount"] == "1.00" and doc.page(2).extra["micr_amount"] == "1.02"
    with pytest.raises(InputError, match="damaged return record \\(Type 31\\) .*60 bytes, not 80"):
        doc.page(1)


def test_an_item_whose_group4_data_is_damaged_is_an_error_page_and_the_others_are_read(tmp_path):
    """A damaged front image decoded to garbage with no error: the item was read as a cheque."""
    import io

    from PIL import Image

    g = np.full((200, 600), 255, np.uint8)
    for k in range(4):
        cv2.putText(g, "1234.56", (10, 45 + 45 * k), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    blob = bytearray(tiff_g4(g))
    tags = Image.open(io.BytesIO(bytes(blob))).tag_v2
    start, length = tags[273][0], tags[279][0]
    for i in range(start + length // 4, start + 3 * length // 4, 7):
        blob[i] ^= 0x5A
    write_x937(tmp_path / "d.x937", [X937Item(cheque(1), 101), X937Item(bytes(blob), 102), X937Item(cheque(3), 103)])
    with X937Document("d.x937", (tmp_path / "d.x937").read_bytes()) as doc:
        assert doc.page(0).page == 1 and doc.page(2).page == 3
        with pytest.raises(InputError, match=r"item 2.*damaged image data .*libtiff: Fax4Decode"):
            doc.page(1)
