"""One page through all the stages.

The work is split in two so that :mod:`cheque_reader.batch` can run the image stages
in worker processes and classify digits from many pages in one batch:

- :func:`prepare_page`: locate, clean, segment, normalize (CPU, per page, picklable result);
- :func:`finish_page`: choose the segmentation path with the classifier's predictions,
  form the amount, set the review flags.

Every candidate of a segmentation is classified, separators included: row ``i`` of the
predictions belongs to ``candidates[i]``, so the path search can use the classifier's
"not a digit" probability everywhere.

>>> import numpy as np
>>> field = np.full((60, 200), 255, np.uint8)
>>> read_cheque(field, layout="field").status  # a blank field has no digits
'no_digits'
"""

from __future__ import annotations

import dataclasses
import functools
import io as _pyio
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Sequence

import numpy as np

from . import io, locate, preprocess, sdnn, segment
from .amount import assemble_amount, grammatical_edits, is_unmarked, parse_amount, separator_edits, text_digits
from .classify import DigitClassifier, DigitPredictions, resolve_backend, weights_version
from .config import ReadOptions
from .errors import ChequeReaderError, ModelError, UsageError
from .normalize import normalize_batch
from .review import check_review_threshold, check_target_error, resolve_threshold, review_reasons
from .types import (
    STATUS_ERROR,
    STATUS_NO_DIGITS,
    STATUS_NO_FIELD,
    STATUS_OK,
    BBox,
    ChequeResult,
    DigitCandidate,
    DigitRead,
    Field,
    Page,
)
from .x937 import micr_match

if TYPE_CHECKING:
    import PIL.Image

log = logging.getLogger("cheque_reader")

#: A closing '/' (of '/-') is at least this many times as tall as the digits.
SLASH_DASH_HEIGHT = 1.15

#: The amount convention tried first for each layout that has one. On these layouts a read made
#: of digits alone, or of digits and a bare closing dash (no separator or cents,
#: :func:`~cheque_reader.amount.is_unmarked`), is sent to review for its grammar: it has most
#: likely lost a decimal point. On 2,000 synthetic cheques (``scripts/eval_real.py --synth 1000``'s,
#: rendered with seed 4, and 1,000 more with seed 5) 20 reads auto-accepted at session 15's 1%
#: threshold were digits alone, and 17 of them had every digit right and the value 100 times too
#: large; at session 16's threshold 34 more were digits and dashes, 6 of them with the value wrong
#: (``3702-`` for ``37.02-``). No accepted IDRBT read is either.
LAYOUT_CONVENTION = {"us": "us", "in-cts": "in"}

#: The amount conventions in which no closing '/' is written (``/-``, "and no paise", is South Asian
#: usage; ORAND's Chilean fields close with it too): there the final stroke the segmenter takes for
#: the '/' of a closing '/-' may be a digit, and is one where the field reader read one there (a final
#: 1, a thin 8: ``34.71-`` had been read ``347.1/-``; :func:`choose_path`, :func:`closing_slash_as_digit`).
#: Only on the path that spells the field reader's digits: the segmenter's own reading keeps its '/'
#: (an Indian cheque taken for a US one still reads ``145/-``). On a field of unknown convention
#: (``--layout field``, ``top-right``) only when no cover of the pieces spells the field reader's digits
#: otherwise: the last 1 or crossed 7 of ``22.422,01-`` or ``2677-`` had been read as a '/' beside the
#: digit read there (``22.422,01/-``, no European amount; 2 of the --world cheques of seeds 4 and 5,
#: 3 ORAND texts; on an Indian cheque the '/' is written, and a digit read there a misread).
SLASH_DIGIT_CONVENTIONS = ("us",)

#: Red ink over a field (:func:`~cheque_reader.preprocess.red_stamp`) is a stamp, and read as paper,
#: when the ink left without it is at least ``STAMP_MIN_INK_LEFT`` of all the ink and holds at least
#: ``STAMP_MIN_DIGITS`` digit pieces, and no more than with the red: else the red was the pen (its
#: rims and the box's sides are what is left). IDRBT with a red oval stamp across the box: 0.19-0.52
#: of the ink and 6-28 pieces left. Synthetic cheques written in red (``synth.INKS["red"]``): 187 of
#: 200 right (seed 4) and 140 of 150 (seed 5, ``scripts/eval_real.py --red 150``), against 187 and
#: 141 without this rule; the one lost was written on a coloured security pattern, whose lines are
#: what is left. A read under a stamp always goes to review (``segmentation``): the stamp's
#: crossings stay on the digits, and of the same 150 with a rectangular stamp 71 are read right, but
#: 4 of the 37 reads that would have passed were wrong.
STAMP_MIN_INK_LEFT = 0.15
STAMP_MIN_DIGITS = 3

#: A read that breaks the amount grammar becomes its likeliest one-digit edit that obeys it
#: (:func:`repair_grammar`) when the field reader gives the edit's digits at least this share of
#: the probability it gives its own. On the development sets (193 ORAND validation fields, 37 IDRBT
#: cheques, 1,000 synthetic cheques), the 12 edits at any share were 3 right reads from wrong ones,
#: all at 0.45 or more, and 8 wrong reads from right ones, all at 0.18 or less. Since session 17 a
#: digit written twice is an edit too: on the same sets the one such edit at 0.3 or more (0.88)
#: made a wrong read right (IDRBT ``1,25,00,00/-``), and the 5 below it (0.04 or less) were wrong.
GRAMMAR_REPAIR_MIN_RATIO = 0.3

#: ... or, when no edit reaches that share and the segmenter's own cut found as many digits as the
#: field reader read (its boxes are the writer's digits), the edit that drops a digit whose box is at
#: most this share of the height of the taller digit beside it: a scrap read as a digit (the loop of
#: a looped 2 read ``0``: ``30,0200/-`` for ``30,200/-``), which the field reader reads as surely as
#: the rest. Session 20: that IDRBT read (29 -> 30 of 37, still reviewed), and no read of the 1,080
#: ORAND fields, 2,000 synthetic cheques or the red-pen set changed; without the cut test, an ORAND
#: read whose boxes were forced on a path the segmenter would not cut lost a right digit (``32404``).
SCRAP_DIGIT_HEIGHT = 0.5

#: A read of a black-and-white page goes to review (``segmentation``) when the specks its cleaning
#: dropped stand, joined, at least this many digit heights tall on the digit band, outside every
#: candidate (:func:`~cheque_reader.segment.unread_height`): a faint digit the scan broke into pieces
#: that neither reader saw (``74000.00`` read, accepted at 0.995, for ``4,74,000.00``: 0.68). 1,000
#: synthetic cheques as Group 4 TIFFs (``scripts/eval_real.py --synth 1000 --bitonal``): accepted
#: 413 -> 410, of them wrong 5 -> 4 (that one out, and 2 right reads); in colour nothing changes
#: (the rule is for black-and-white pages only). Not on dithered pages (read through a blur,
#: :func:`~cheque_reader.preprocess.descreened`): their dots are no broken strokes.
UNREAD_DIGIT_HEIGHT = 0.45
#: ... and no more than this: taller, it is no digit (print broken into specks: an IDRBT cheque at
#: 200 dpi black and white, read right, stood 1.47).
UNREAD_DIGIT_MAX = 1.2

#: Superscript cents (``12⁵⁰``): the last two digits' feet lie at least ``SUPERSCRIPT_RAISE`` of the
#: other digits' median height above those digits' median foot and ``SUPERSCRIPT_STEP`` above the
#: foot of the digit before them (a step up, not handwriting that climbs), and they are at most
#: ``SUPERSCRIPT_HEIGHT`` of it tall. On 1,000 synthetic cheques this marks 71 of the 107 written
#: with superscript cents and none of the 849 others (each read with 3 digits or more); on the 1,112
#: real ORAND and IDRBT fields, one (``1641``, whose ``41`` is small and a little raised).
SUPERSCRIPT_RAISE = 0.3
SUPERSCRIPT_STEP = 0.25
SUPERSCRIPT_HEIGHT = 0.85


@dataclass(frozen=True)
class PreparedPage:
    """A page after the image stages, waiting for its candidates to be classified.

    ``tensors`` are the candidates' LeNet-5 inputs (row ``i`` for ``candidates[i]``);
    ``field_input`` is the SDNN's input for the whole field (``None`` without the field reader)
    and ``field_input_box`` the part of the field it was cut from; ``fraction_cents``: the amount
    ends in ``xx/100`` (the sweep stops at its '/', so the field reader reads no denominator);
    ``stamped``: a red stamp across the field was read as paper (the read goes to review).

    >>> page = PreparedPage("scan.png", 2, STATUS_NO_FIELD)   # a page whose field was not found
    >>> page.status, page.candidates, page.n_candidates
    ('no_field', (), 0)
    """

    source: str
    page: int
    status: str
    field: Field | None = None
    candidates: tuple[DigitCandidate, ...] = ()
    tensors: np.ndarray | None = None
    field_input: np.ndarray | None = None
    field_input_box: BBox | None = None
    error: str = ""
    elapsed_ms: float = 0.0
    extra: dict | None = None
    fraction_cents: bool = False
    stamped: bool = False
    #: a black-and-white page (Group 4, X9.37): its reads are held to the bitonal threshold table
    bitonal: bool = False
    #: the tallest group of dropped specks on the digit band, in digit heights (see :data:`UNREAD_DIGIT_HEIGHT`)
    unread: float = 0.0

    @property
    def n_candidates(self) -> int:
        return 0 if self.tensors is None else len(self.tensors)


def prepare_page(page: Page, options: ReadOptions = ReadOptions()) -> PreparedPage:
    """Locate, clean, segment and normalize one page. Page problems become a status, never raise.

    >>> img = _example_field("1500")  # "1500" printed in a 60 x 200 field (finish_page's example draws it)
    >>> options = ReadOptions(layout="field")
    >>> prepared = prepare_page(Page("f.png", 1, img), options)
    >>> prepared.status, [c.kind for c in prepared.candidates], prepared.tensors.shape, prepared.field_input.shape[0]
    ('ok', ['digit', 'digit', 'digit', 'digit'], (4, 1, 32, 32), 32)
    >>> prepare_page(Page("blank.png", 1, np.full((60, 200), 255, np.uint8)), options).status
    'no_digits'
    """
    t0 = time.perf_counter()
    extra = dict(page.extra)

    bitonal = page.image is not None and preprocess.is_bitonal(page.image)

    def done(status: str, **kw) -> PreparedPage:
        ms = (time.perf_counter() - t0) * 1000
        return PreparedPage(page.source, page.page, status, elapsed_ms=ms, extra=extra, bitonal=bitonal, **kw)

    try:
        dithered = bitonal and preprocess.is_dithered(page.image)
        if dithered:
            page = preprocess.descreened(page)  # a dithered scan's dots back to gray
        field = locate.find_amount_field(page, options.layout)
        if field is None:
            return done(STATUS_NO_FIELD)
        if not bitonal:  # black and white shows no grey ramp to measure a smear by
            field = preprocess.unsmeared(field)
        cleaned = _clean_and_segment(field)
        candidates = cleaned.candidates
        if not candidates:
            return done(STATUS_NO_DIGITS, field=field)
        # a dithered page, read through a blur, is gray now: its dots are no broken strokes
        unread = segment.unread_height(cleaned.specks, candidates) if bitonal and not dithered else 0.0
        tensors = normalize_batch([c.image for c in candidates])
        rows, end, fraction = _sweep_limits(candidates)
        sweep, box = None, None
        if options.field_reader:
            # the crop is set by the ink without its dots, and on a black-and-white page the pieces
            # of a faint digit the scan broke into specks (see UNREAD_DIGIT_HEIGHT)
            mask = (cleaned.ink < 128) & ~cleaned.dots
            if unread >= UNREAD_DIGIT_HEIGHT:  # (a black-and-white page's: 0.0 on others)
                mask, rows = _with_faint_digits(mask, rows, cleaned.specks, candidates)
            sweep, box = sdnn.field_input_with_box(preprocess.with_paper(cleaned.gray, cleaned.paper), mask, rows, end)
        return done(STATUS_OK, field=field, candidates=candidates, tensors=tensors, field_input=sweep,
                    field_input_box=box, fraction_cents=fraction, stamped=cleaned.stamp is not None, unread=unread)
    except ChequeReaderError as exc:
        return done(STATUS_ERROR, error=str(exc))
    except Exception as exc:  # a bug or a pathological page: one error row, the batch goes on
        log.exception("page %s:%s failed", page.source, page.page)
        return done(STATUS_ERROR, error=f"internal error: {type(exc).__name__}: {exc}")


def _with_faint_digits(mask: np.ndarray, rows: tuple[int, int], specks: np.ndarray,
                       candidates: tuple[DigitCandidate, ...]) -> tuple[np.ndarray, tuple[int, int]]:
    """The field reader's crop ``mask`` and ``rows`` widened to the specks of a faint digit that a
    black-and-white scan broke into pieces (:func:`~cheque_reader.segment.unread_specks`, as tall as
    :data:`UNREAD_DIGIT_HEIGHT` to :data:`UNREAD_DIGIT_MAX`): the ink's pieces alone set the crop, and
    a faint first or last digit was cut off it (``7400000`` read for ``47400000``). Such a read goes
    to review all the same (``segmentation``). 1,000 synthetic cheques as Group 4 TIFFs
    (``scripts/eval_real.py --synth 1000 --bitonal``): strings 904 -> 906 (seed 4), 906 -> 906 (seed 5).

    >>> mask = np.zeros((60, 200), bool); mask[20:50, 100:160] = True   # a digit 30 rows tall ...
    >>> cands = (DigitCandidate(BBox(100, 20, 25, 30), mask[:1, :1], "digit", 0, 1),)
    >>> specks = np.zeros((60, 200), bool)
    >>> for y in range(16, 40, 4):                        # ... and left of it the 2 x 2 pieces of a faint one
    ...     specks[y : y + 2, 60:62] = True
    >>> wider, rows = _with_faint_digits(mask, (20, 50), specks, cands)
    >>> bool(wider[:, 60].any()), rows
    (True, (16, 50))
    """
    faint = segment.unread_specks(specks, candidates, UNREAD_DIGIT_HEIGHT, UNREAD_DIGIT_MAX)
    if not faint.any():
        return mask, rows
    ys = np.flatnonzero(faint.any(axis=1))
    return mask | faint, (min(rows[0], int(ys[0])), max(rows[1], int(ys[-1]) + 1))


def closing_slash_as_digit(candidates: tuple[DigitCandidate, ...]) -> tuple[DigitCandidate, ...]:
    """``candidates`` with a closing '/' (one followed by nothing but dashes) made a digit candidate.

    >>> img = np.zeros((2, 2), np.uint8)
    >>> cands = (DigitCandidate(BBox(0, 0, 9, 20), img, "digit", 0, 1), DigitCandidate(BBox(12, 0, 6, 22), img, "/", 1, 2),
    ...          DigitCandidate(BBox(20, 9, 9, 2), img, "-", 2, 3))
    >>> fraction = cands[:2] + (DigitCandidate(BBox(20, 9, 9, 12), img, "digit", 2, 3),)   # "5/1..."
    >>> [c.kind for c in closing_slash_as_digit(cands)], [c.kind for c in closing_slash_as_digit(fraction)]
    (['digit', 'digit', '-'], ['digit', '/', 'digit'])
    """
    def closing(c: DigitCandidate) -> bool:
        return c.kind == "/" and all(d.kind == "-" for d in candidates if d.start >= c.end)

    return tuple(dataclasses.replace(c, kind="digit") if closing(c) else c for c in candidates)


@dataclass(frozen=True)
class CleanedField:
    """An amount field cleaned and cut (:func:`_clean_and_segment`): its gray
    (:func:`~cheque_reader.preprocess.to_gray`, no paper set), its ink, its kept dots, its digit
    and separator candidates, the mask of a red stamp read as paper (``None``: no stamp; see
    :data:`STAMP_MIN_INK_LEFT`), the mask of the specks dropped and that of the line under
    superscript cents taken off the ink (``None``: none; see
    :func:`~cheque_reader.segment.superscript_underline`).

    >>> blank = np.zeros((2, 2), bool)
    >>> cleaned = CleanedField(np.full((2, 2), 255, np.uint8), np.full((2, 2), 255, np.uint8), blank, (), None, blank, None)
    >>> cleaned.paper is None, len(cleaned.candidates)
    (True, 0)
    """

    gray: np.ndarray
    ink: np.ndarray
    dots: np.ndarray
    candidates: tuple[DigitCandidate, ...]
    stamp: np.ndarray | None
    specks: np.ndarray
    line: np.ndarray | None
    #: printed marks left of the amount taken off the ink (``None``: none; :func:`_without_printed_marks`)
    marks: np.ndarray | None = None

    @property
    def paper(self) -> np.ndarray | None:
        """The pixels the field reader reads as paper: the red stamp's, the line under superscript
        cents and the printed marks left of the amount (check-protection asterisks, a dollar sign)."""
        masks = [m for m in (self.stamp, self.line, self.marks) if m is not None]
        return functools.reduce(np.logical_or, masks) if masks else None


def _clean_and_segment(field: Field) -> CleanedField:
    """The field cleaned (:func:`~cheque_reader.preprocess.clean_field_parts`) and cut into candidates
    (:func:`~cheque_reader.segment.segment_without_underline`), with a red stamp across it read as
    paper when what is left of the ink without it still holds the digits.

    >>> img = _example_field("1500")
    >>> cleaned = _clean_and_segment(Field(BBox(0, 0, 200, 60), img))
    >>> [c.kind for c in cleaned.candidates], cleaned.stamp is None, cleaned.ink.shape == img.shape
    (['digit', 'digit', 'digit', 'digit'], True, True)
    """
    stamp = preprocess.red_stamp(field)
    gray = preprocess.to_gray(field)
    label = preprocess.LastLabelled()  # a step that dropped nothing hands the next ink labelled already
    dashes = field.layout in LAYOUT_CONVENTION  # a dash drawn on from a digit: where its convention is known
    kept_ink, kept_dots, kept_specks = preprocess.clean_field_parts(field, gray=gray, label=label)
    kept_ink, kept_marks = _without_printed_marks(kept_ink, label)
    kept_ink, kept_line, kept = segment.segment_without_underline(kept_ink, label, joined_dashes=dashes)
    without_stamp = CleanedField(gray, kept_ink, kept_dots, kept, None, kept_specks, kept_line, kept_marks)
    if stamp is None:
        return without_stamp
    ink, dots, specks = preprocess.clean_field_parts(field, stamp, gray=gray, label=label)
    ink, marks = _without_printed_marks(ink, label)
    ink, line, candidates = segment.segment_without_underline(ink, label, joined_dashes=dashes)
    left = int((ink < 128).sum()) / max(1, int((kept_ink < 128).sum()))
    if left >= STAMP_MIN_INK_LEFT and STAMP_MIN_DIGITS <= _n_digit_pieces(candidates) <= _n_digit_pieces(kept):
        return CleanedField(gray, ink, dots, candidates, stamp, specks, line, marks)
    return without_stamp   # the red was the pen


def _without_printed_marks(ink: np.ndarray, label=preprocess.connected_components
                           ) -> tuple[np.ndarray, np.ndarray | None]:
    """``ink`` (paper 255, ink 0) without the marks printed left of its amount, and their mask
    (``None``: none): check-protection asterisks (:func:`~cheque_reader.preprocess.asterisks`), then
    a dollar sign and what stands left of it (:func:`~cheque_reader.preprocess.dollar_sign`), or else
    the letters ``USD`` (:func:`~cheque_reader.preprocess.usd_letters`), looked for among the pieces
    the asterisks leave. ``label`` labels the ink's pieces: the field's
    :class:`~cheque_reader.preprocess.LastLabelled` labels an ink once for the cleaning, these
    searches and the segmentation, when none of them changed it.

    >>> ink = np.full((40, 60), 255, np.uint8); ink[5:35, 10:14] = ink[5:35, 40:44] = 0
    >>> out, marks = _without_printed_marks(ink)
    >>> out is ink, marks
    (True, None)
    """
    mask = ink < 128
    stars = preprocess.asterisks(mask, label)
    rest = mask if stars is None else mask & ~stars
    sign = preprocess.dollar_sign(rest, label)
    if sign is None:
        sign = preprocess.usd_letters(rest, label)
    marks = stars if sign is None else sign if stars is None else stars | sign
    return (ink, None) if marks is None else (np.where(marks, 255, ink).astype(np.uint8), marks)


def _n_digit_pieces(candidates: tuple[DigitCandidate, ...]) -> int:
    """How many of the segmentation's primitives are digit ink (separators and noise aside)."""
    return sum(c.kind == "digit" and c.end == c.start + 1 for c in candidates)


def _sweep_limits(candidates: tuple[DigitCandidate, ...]) -> tuple[tuple[int, int], int | None, bool]:
    """The rows of the digit candidates (not a tall '/' or a hanging comma), the first column
    of a closing '/-' after the last of them (``None`` when there is none), and whether that
    ending is the '/' of ``xx/100``.

    Only unmistakable endings count: a '/' taller than the digits with only a '-' after it
    (the segmenter also calls a flat chain of zeros or a final 7 '-' or '/'), or the '/' of
    ``xx/100`` with only small digits after it (the denominator; a piece of it may pass for a
    separator).
    """
    digits = [c for c in candidates if c.kind == "digit"] or list(candidates)
    rows = (min(c.bbox.y for c in digits), max(c.bbox.y2 for c in digits))
    height = preprocess.small_median([c.bbox.h for c in digits])
    last = max(c.bbox.x2 for c in digits)
    ends = []  # (column, whether the '/' is a fraction's)
    for s in (c for c in candidates if c.kind == "/"):
        after = [c for c in candidates if c.bbox.x >= s.bbox.x + 0.5 * s.bbox.w]
        small = [c for c in after if c.kind == "digit"]
        if (not small and s.bbox.x >= last - 2 and any(c.kind == "-" for c in after)
                and s.bbox.h >= SLASH_DASH_HEIGHT * height and not _top_bar(s.image)):
            ends.append((s.bbox.x, False))
        elif len(small) >= 2 and all(c.bbox.h <= 0.8 * s.bbox.h if c.kind == "digit" else c.kind in ("-", ",", ".") for c in after):
            ends.append((s.bbox.x, True))
    end = min(ends) if ends else (None, False)
    return rows, end[0], end[1]


#: A top bar spans more than this many times the stroke's own width (a row's ink, the median); a
#: '/' spans its stroke and slant, and a pen's thicker start (IDRBT 309098 on a white page turned
#: 4 degrees: 7 pixels over a 4-pixel stroke; 1.5 took it for a 7's bar).
TOP_BAR_STROKES = 2.0


def _top_bar(image: np.ndarray) -> bool:
    """Whether the ink in the top fifth of a candidate crop (dark on light) spans over half its
    width and over ``TOP_BAR_STROKES`` stroke widths: the bar of a ``7`` (or the flag of a ``1``),
    which a ``/`` does not have, however bold its stroke (a blurred scan's, a black pen's).

    >>> slash = np.full((46, 10), 255, np.uint8)
    >>> for y in range(46):
    ...     slash[y, 3 - y // 16 : 9 - y // 16] = 0    # an upright '/' 6 pixels bold
    >>> seven = np.full((46, 24), 255, np.uint8); seven[:5] = 0; seven[5:, 10:16] = 0
    >>> _top_bar(slash), _top_bar(seven)
    (False, True)
    """
    ink = image < 128
    rows = ink[: max(1, image.shape[0] // 5)]
    cols = np.nonzero(rows.any(axis=0))[0]
    if len(cols) == 0:
        return False
    span = cols[-1] - cols[0] + 1
    per_row = ink.sum(axis=1)
    stroke = preprocess.small_median(per_row[per_row > 0])
    return bool(span > 0.5 * image.shape[1] and span > TOP_BAR_STROKES * stroke)


def finish_page(
    prepared: PreparedPage,
    predictions: DigitPredictions | None,
    classifier: DigitClassifier,
    options: ReadOptions = ReadOptions(),
    classify_ms: float = 0.0,
    field_read: sdnn.FieldRead | None = None,
) -> ChequeResult:
    """Choose the digits from the predictions (and the SDNN's reading), form the amount and set the review flags.

    >>> import cv2
    >>> img = np.full((60, 200), 255, np.uint8)
    >>> _ = cv2.putText(img, "1500", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    >>> options = ReadOptions(layout="field")
    >>> prepared = prepare_page(Page("f.png", 1, img), options)
    >>> classifier = get_classifier(options)
    >>> [reads] = classify_pages([prepared], classifier, get_field_reader(options))
    >>> result = finish_page(prepared, reads.predictions, classifier, options, reads.classify_ms, reads.field_read)
    >>> result.status, result.digits, result.amount, result.model == run_model_id(classifier, options)
    ('ok', '1500', '1500.00', True)
    """
    t0 = time.perf_counter()
    field = prepared.field
    common = dict(
        source=prepared.source,
        page=prepared.page,
        field=field.bbox if field else None,
        layout=field.layout if field else "",
        model=run_model_id(classifier, options),
        extra=prepared.extra or {},
    )
    if prepared.status != STATUS_OK or predictions is None:
        status = prepared.status if prepared.status != STATUS_OK else STATUS_NO_DIGITS
        return ChequeResult(
            status=status,
            needs_review=True,
            review_reasons=review_reasons(status, field_ok=field is None or (field.cheques == 1 and not guessed_field(field))),
            elapsed_ms=prepared.elapsed_ms + classify_ms,
            error=prepared.error,
            **common,
        )

    chosen, agree = choose_path(prepared, predictions, field_read)
    # one piece that is surely two digits to the segmenter, and plausibly to the field reader: read as
    # the two (the field reader's digit doubled, on the segmenter's cut that spells them), and reviewed
    doubled = split_reading(prepared, predictions, chosen or (), field_read) if agree else None
    split = doubled is not None
    if doubled is not None and field_read is not None:
        path = segment.best_path_for(prepared.candidates, predictions, doubled)
        if path is not None:
            k = next(k for k in range(len(doubled)) if field_read.digits[: k + 1] + field_read.digits[k:] == doubled)
            chosen, field_read, agree = path, field_read.with_digit_doubled(k), False
    read, reads = assemble_read(prepared, predictions, chosen, field_read, common["layout"])
    repaired = False
    prefer = LAYOUT_CONVENTION.get(common["layout"])
    if not read.grammar_ok:  # repaired reads are still reviewed, for their grammar
        pointed = with_missed_point(read, prefer) or with_separator_edit(read, prefer)
        if pointed is not None:  # the same digits
            read, repaired = pointed, True
        elif field_read is not None:
            # the path's boxes are the writer's digits when the segmenter's own cut found as many
            own = segment.best_path(prepared.candidates, predictions)
            cut_alike = sum(prepared.candidates[i].kind == "digit" for i in own) == len(field_read.digits)
            fixed = repair_grammar(read, reads, field_read, prefer, scraps=cut_alike)
            if fixed is not None:  # other digits: a read neither reader gave
                (read, reads, field_read), repaired, agree = fixed, True, False
    status = STATUS_OK if read.digits else STATUS_NO_DIGITS
    confidence, metadata = read.confidence, classifier.metadata
    reader = get_field_reader(options) if field_read is not None else None
    if reader is not None:  # the SDNN's sidecar holds the two-reader calibration and thresholds
        metadata = reader.metadata
        confidence = amount_confidence(amount_evidence(field_read, read, agree), metadata.get("amount_calibration"))
    threshold = resolve_threshold(options, metadata, bitonal=prepared.bitonal)
    # a read with no mark at all, where the layout's convention writes them, has likely lost a
    # decimal point and would pay 100 times the amount (see LAYOUT_CONVENTION)
    unmarked = prefer is not None and is_unmarked(read.text)
    reasons = review_reasons(status, confidence=confidence, threshold=threshold,
                             grammar_ok=read.grammar_ok and not repaired and not unmarked,
                             segmentation_ok=agree and not split and not prepared.stamped and not UNREAD_DIGIT_HEIGHT <= prepared.unread <= UNREAD_DIGIT_MAX,
                             field_ok=prepared.field.cheques == 1 and not guessed_field(field),
                             micr_ok=micr_match(read.amount, common["extra"].get("micr_amount")) != "false")
    elapsed = prepared.elapsed_ms + classify_ms + (time.perf_counter() - t0) * 1000
    return ChequeResult(
        status=status,
        digits=read.digits,
        text=read.text,
        amount=read.amount,
        confidence=confidence,
        needs_review=bool(reasons),
        review_reasons=reasons,
        n_digits=len(read.digits),
        elapsed_ms=elapsed,
        digit_reads=tuple(reads) if options.keep_digit_reads else (),
        **common,
    )


def guessed_field(field: Field | None) -> bool:
    """Whether ``field`` was cut where a built-in layout's printed box usually lies, no box being found
    there: a guess, whose read always goes to review (``no_field``). A cheque cropped through its
    left side moves its box off the search (IDRBT with the left third cut off: 22 of 37 fields so,
    none read right, 2 accepted ``5000`` for ``275000``); none of the IDRBT scans, their robustness
    moves or 1,000 synthetic cheques is read from such a field. A ``.toml`` layout's field is where
    its user says, and ``--layout field`` the whole page.

    >>> img = np.full((60, 200), 255, np.uint8)
    >>> (guessed_field(Field(BBox(0, 0, 200, 60), img, layout="us")),                           # no box found there
    ...  guessed_field(Field(BBox(0, 0, 200, 60), img, layout="us", box=BBox(0, 0, 200, 60))),  # the printed box
    ...  guessed_field(Field(BBox(0, 0, 200, 60), img)))                                        # --layout field
    (True, False, False)
    """
    return field is not None and field.box is None and field.layout in locate.LAYOUTS


def assemble_read(prepared: PreparedPage, predictions: DigitPredictions, chosen: tuple[int, ...] | None,
              field_read: sdnn.FieldRead | None, layout: str):
    """The amount and digit reads of a path; with ``field_read``, its digits label the path's digit candidates
    (or, when no path spells them, stand alone with boxes from the columns they were read in).

    >>> prepared, reads, classifier, options = _example_reads("1500")  # as finish_page's example, step by step
    >>> read, digit_reads = assemble_read(prepared, reads.predictions, (0, 1, 2, 3), reads.field_read, "field")
    >>> read.text, [d.label for d in digit_reads], [d.bbox for d in digit_reads] == [c.bbox for c in prepared.candidates]
    ('1500', [1, 5, 0, 0], True)
    """
    forced = field_read.digits if field_read is not None and field_read.digits else None
    tokens, reads = [], []
    if chosen is None:  # the segmentation cannot spell the SDNN's string
        for ch, conf, box in zip(forced, field_read.digit_confidences, column_boxes(prepared, field_read)):
            reads.append(DigitRead(int(ch), conf, int(ch), 0.0, prepared.field.unzoomed(box)))
            tokens.append((ch, conf))
        sweep, width = prepared.field_input_box, prepared.field_input.shape[1]
        centres = [sweep.x + (a + b) / 2 * sweep.w / width for a, b in field_read.columns]
        tokens = with_separators(tokens, centres, prepared.candidates)
    else:
        candidates = prepared.candidates
        if forced and sum(candidates[i].kind == "digit" for i in chosen) < len(forced):
            candidates = closing_slash_as_digit(candidates)   # choose_path read a closing '/' as a digit
        j = 0
        for i in with_skipped_points(candidates, chosen, predictions.not_digit):
            cand = candidates[i]
            if i not in chosen:  # a thick point the path skipped (with_skipped_points)
                tokens.append((".", 1.0))
                continue
            if cand.kind != "digit":
                tokens.append((cand.kind, 1.0))
                continue
            probs = predictions.probs[i]
            p_digit = 1.0 - float(predictions.not_digit[i])
            order = np.argsort(probs)[::-1]
            label = int(forced[j]) if forced else int(order[0])
            alt = int(order[0]) if int(order[0]) != label else int(order[1])
            conf = float(probs[label]) * p_digit
            reads.append(DigitRead(label, conf, alt, float(probs[alt]) * p_digit, prepared.field.unzoomed(cand.bbox)))
            tokens.append((str(label), conf))
            j += 1
    prefer = LAYOUT_CONVENTION.get(layout)
    if forced and prepared.fraction_cents:  # the field reader read up to the '/' of "xx/100"
        tokens = with_fraction_denominator(tokens)
    else:
        tokens = with_superscript_cents(tokens, [r.bbox for r in reads], prefer)
        if forced and chosen is not None:  # a path cut wrong spells the digits with wrong boxes: their columns'
            tokens = with_superscript_cents(tokens, column_boxes(prepared, field_read), prefer)
    read = assemble_amount(tokens, prefer=prefer)
    return read, reads[: len(read.digits)]  # a "/100" denominator is dropped from the digits: drop its reads too


def column_boxes(prepared: PreparedPage, field_read: sdnn.FieldRead) -> list[BBox]:
    """The boxes (field pixels) of the field reader's digits: the columns each was read in, narrowed
    from the sweep's height to the rows of the segmenter's digit pieces under them (:func:`ink_box`):
    how high and how tall each digit stands, which superscript cents need. On 2,000 synthetic cheques
    (seeds 4 and 5) they found the superscript cents of 7 reads no path spelled (two joined cents one
    piece) and of 4 whose path was cut wrong (a scrap of a digit read as a cent); no read of the 1,080
    ORAND fields or the 40 IDRBT cheques changed.

    >>> prepared, reads, classifier, options = _example_reads("1500")  # as finish_page's example, step by step
    >>> boxes = column_boxes(prepared, reads.field_read)            # one box a digit, under the piece read there
    >>> [c.bbox.x <= b.x + b.w // 2 < c.bbox.x2 for b, c in zip(boxes, prepared.candidates)]
    [True, True, True, True]
    """
    sweep = prepared.field_input_box
    width = prepared.field_input.shape[1] if prepared.field_input is not None else 1
    return [ink_box(BBox(sweep.x + int(a * sweep.w / width), sweep.y, max(1, int((b - a) * sweep.w / width)), sweep.h),
                    prepared.candidates) for a, b in field_read.columns]


def ink_box(box: BBox, candidates: Sequence[DigitCandidate]) -> BBox:
    """``box`` narrowed to the rows of the segmenter's one-piece digit candidates under it (those
    sharing at least half of the narrower one's columns with it); ``box`` when none is.

    >>> from cheque_reader.types import DigitCandidate
    >>> cents = DigitCandidate(BBox(40, 12, 30, 20), np.zeros((20, 30), np.uint8), "digit", 3, 4)   # two joined cents
    >>> ink_box(BBox(42, 0, 14, 60), [cents]), ink_box(BBox(0, 0, 14, 60), [cents])
    (BBox(x=42, y=12, w=14, h=20), BBox(x=0, y=0, w=14, h=60))
    """
    under = [c.bbox for c in candidates if c.kind == "digit" and c.end == c.start + 1
             and min(box.x2, c.bbox.x2) - max(box.x, c.bbox.x) >= 0.5 * min(box.w, c.bbox.w)]
    if not under:
        return box
    top, bottom = min(b.y for b in under), max(b.y2 for b in under)
    return BBox(box.x, top, box.w, bottom - top)


def with_separators(tokens: list[tuple[str, float]], centres: Sequence[float], candidates) -> list[tuple[str, float]]:
    """The digit ``tokens`` of a read whose digits no path spells, with the segmenter's separators
    (``, . - /``) put in among them by position: each before the first digit whose column
    ``centres`` (field pixels) lie right of its middle. The separators the path would have given.

    >>> from cheque_reader.types import DigitCandidate
    >>> point = DigitCandidate(BBox(58, 46, 6, 6), np.zeros((6, 6), np.uint8), ".", 2, 3)
    >>> "".join(t for t, _ in with_separators([("1", .9), ("5", .9), ("0", .9), ("0", .9)], [10, 40, 80, 110], [point]))
    '15.00'
    """
    digits = [(x, 0, token) for x, token in zip(centres, tokens)]
    seps = [(c.bbox.x + c.bbox.w / 2, 1, (c.kind, 1.0)) for c in candidates if c.kind != "digit"]
    return [token for _, _, token in sorted(digits + seps, key=lambda item: item[:2])]


#: A piece the chosen path leaves out before the last two of its digits is their point when the
#: classifier calls it no digit (at least this probability), it is round (its sides within 0.6 of
#: each other) and ``SKIPPED_POINT_SIZE`` of the digits' median height across (larger than the
#: segmenter's points, :data:`~cheque_reader.segment.ROUND_POINT_SIZE`), and its middle lies in
#: the lower ``SKIPPED_POINT_LOW`` of their band. On 2,000 synthetic cheques (seeds 4 and 5) this
#: put 17 more values right (881 -> 887, 844 -> 855; ``150.00`` had been read ``15000``) and 6 more
#: reads auto-accepted, no more of them wrong; no ORAND or IDRBT read changed. Without the size
#: floor and the two digits after it, IDRBT commas (``329,000/-``) and a speck at the feet were
#: read as points.
SKIPPED_POINT_NOT_DIGIT = 0.5
SKIPPED_POINT_SIZE = (0.25, 0.5)
SKIPPED_POINT_LOW = 0.4


def with_skipped_points(candidates, chosen: Sequence[int], not_digit: np.ndarray) -> list[int]:
    """``chosen`` with a one-piece candidate it leaves out before its last two digits that looks like
    their decimal point (see :data:`SKIPPED_POINT_NOT_DIGIT`) put back, as ``.``, in its place (a
    thick pen's point, too large for the segmenter to call a point, that the path spelling the
    digits skips).

    >>> from cheque_reader.types import DigitCandidate
    >>> boxes = [BBox(0, 20, 24, 40), BBox(30, 20, 24, 40), BBox(58, 46, 14, 14),
    ...          BBox(76, 20, 24, 40), BBox(106, 20, 24, 40)]
    >>> cands = [DigitCandidate(b, np.zeros((b.h, b.w), np.uint8), "digit", k, k + 1) for k, b in enumerate(boxes)]
    >>> with_skipped_points(cands, (0, 1, 3, 4), np.array([0.0, 0.0, 0.9, 0.0, 0.0]))   # "15.00"
    [0, 1, 2, 3, 4]
    """
    digits = [i for i in chosen if candidates[i].kind == "digit"]
    if len(digits) < 2:
        return list(chosen)
    covered = {p for i in chosen for p in range(candidates[i].start, candidates[i].end)}
    height = preprocess.small_median([candidates[i].bbox.h for i in digits])
    small, large = SKIPPED_POINT_SIZE
    out = list(chosen)
    for i, c in enumerate(candidates):
        if c.kind != "digit" or c.end != c.start + 1 or c.start in covered or not_digit[i] < SKIPPED_POINT_NOT_DIGIT:
            continue
        cx, cy = c.bbox.x + c.bbox.w / 2, c.bbox.y + c.bbox.h / 2
        left = [k for k in digits if candidates[k].bbox.x2 <= cx]
        right = [k for k in digits if candidates[k].bbox.x >= cx]
        side, other = max(c.bbox.w, c.bbox.h), min(c.bbox.w, c.bbox.h)
        if not left or len(right) != 2 or not small * height <= side <= large * height or other < 0.6 * side:
            continue
        a, b = candidates[left[-1]].bbox, candidates[right[0]].bbox
        top, bottom = min(a.y, b.y), max(a.y2, b.y2)
        if cy < bottom - SKIPPED_POINT_LOW * (bottom - top):
            continue
        at = out.index(left[-1]) + 1
        if any(candidates[k].kind != "digit" or k not in chosen for k in out[at : out.index(right[0])]):
            continue  # a separator (or a point put back) is there already
        out.insert(at, i)
    return out


def with_fraction_denominator(tokens: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The amount tokens of ``dollars cents/100``, whose digits the field reader read up to the '/':
    the marks after the first '/' dropped, the digits kept in order (the path that spells them may
    take a cent from the denominator's ink), and the printed ``/100`` put at the end (which
    :func:`~cheque_reader.amount.assemble_amount` reads as cents).

    >>> "".join(ch for ch, _ in with_fraction_denominator([(c, 1.0) for c in "347217/,"]))
    '347217/100'
    >>> "".join(ch for ch, _ in with_fraction_denominator([(c, 1.0) for c in "1,5620/0-"]))
    '1,56200/100'
    """
    slash = next((i for i, (ch, _) in enumerate(tokens) if ch == "/"), len(tokens))
    digits = [t for t in tokens[slash:] if t[0].isdigit()]
    head = tokens[:slash]
    while head and not head[-1][0].isdigit():
        head = head[:-1]
    if not head and not digits:
        return tokens
    return head + digits + [("/", 1.0), ("1", 1.0), ("0", 1.0), ("0", 1.0)]


def with_superscript_cents(tokens: list[tuple[str, float]], boxes: Sequence[BBox],
                           prefer: str | None = None) -> list[tuple[str, float]]:
    """The amount tokens with a '.' before the last two digits when they are written as superscript
    cents: raised and smaller (see :data:`SUPERSCRIPT_RAISE`; ``boxes``: one per digit token), with no
    separator among the last three digits but pieces of the line often drawn under the cents (read
    as '-', and dropped), and when the amount still parses. (:func:`~cheque_reader.segment.segment_field`
    marks cents drawn wholly above the digit band; this marks those it took for band digits.)

    >>> toks = [(c, 1.0) for c in "8-58-"]
    >>> boxes = [BBox(0, 10, 20, 40), BBox(25, 8, 15, 22), BBox(42, 10, 14, 22)]   # "58" raised
    >>> "".join(ch for ch, _ in with_superscript_cents(toks, boxes))
    '8.58-'
    >>> level = [BBox(0, 10, 20, 40), BBox(25, 12, 18, 38), BBox(45, 10, 18, 40)]
    >>> "".join(ch for ch, _ in with_superscript_cents(toks, level))
    '8-58-'
    """
    digit_at = [i for i, (ch, _) in enumerate(tokens) if ch.isdigit()]
    if len(digit_at) < 3 or len(boxes) != len(digit_at):
        return tokens
    if any(not ch.isdigit() and ch != "-" for ch, _ in tokens[digit_at[-3] : digit_at[-1]]):
        return tokens
    rest = boxes[:-2]
    foot = preprocess.small_median([b.y2 for b in rest])
    height = preprocess.small_median([b.h for b in rest])
    if not all(b.y2 <= foot - SUPERSCRIPT_RAISE * height and b.y2 <= rest[-1].y2 - SUPERSCRIPT_STEP * height
               and b.h <= SUPERSCRIPT_HEIGHT * height for b in boxes[-2:]):
        return tokens
    cents = [t for t in tokens[digit_at[-2] : digit_at[-1] + 1] if t[0].isdigit()]
    marked = tokens[: digit_at[-3] + 1] + [(".", 1.0)] + cents + tokens[digit_at[-1] + 1 :]
    return marked if parse_amount("".join(ch for ch, _ in marked), prefer).grammar_ok else tokens


def with_separator_edit(read, prefer: str | None = None):
    """The read with one of its marks between digits changed or dropped when every such edit that
    makes its text parse in the layout's convention ``prefer`` gives the same value
    (:func:`~cheque_reader.amount.separator_edits`: ``22,39.000.00`` -> ``22,39,000.00``), else
    ``None``. The digits stay as read, less the printed ``/100`` of the fraction cents an edit
    leaves (``4955-2/100``, the top bar of a 5 cut off: ``49552/100``, the digits ``49552``).

    Only where the layout sets the convention: on the ORAND fields (``--layout field``) stray marks
    read as separators made decimals of whole amounts (``1.7.1`` -> ``1.71`` for 171).

    >>> from cheque_reader.amount import assemble_amount
    >>> with_separator_edit(assemble_amount([(c, 0.9) for c in "1,234,56-"]), "us").amount
    '1234.56'
    >>> with_separator_edit(assemble_amount([(c, 0.9) for c in "39.952.00"]), "us").text
    '39,952.00'
    >>> with_separator_edit(assemble_amount([(c, 0.9) for c in "1.7.1"])) is None      # no convention
    True
    >>> with_separator_edit(assemble_amount([(c, 0.9) for c in "50-00/-"]), "in") is None   # not 50.00
    True
    >>> with_separator_edit(assemble_amount([(c, 0.9) for c in "4955-2/100"]), "us").digits
    '49552'
    """
    if prefer is None:  # stray marks in a field of unknown convention would put cents into whole amounts
        return None
    edits = separator_edits(read.text, prefer)
    digit_at = [i for i, ch in enumerate(read.text) if ch.isdigit()]
    if digit_at and "/" in read.text[digit_at[-1] :]:  # a closing '/-': a whole amount, no cents
        edits = [(text, value) for text, value in edits if value == f"{int(read.digits)}.00"]
    if not edits or len({value for _, value in edits}) > 1:
        return None
    text, value = edits[0]
    parsed = parse_amount(text, prefer)
    return dataclasses.replace(read, digits=text_digits(text), text=text, amount=value, grammar_ok=True,
                               convention=parsed.convention)


def with_missed_point(read, prefer: str | None = None):
    """The read with a decimal point put before its last two digits when that alone makes its
    ungrammatical text parse (a point too small, or too close to a digit, to be seen:
    ``1,00461`` -> ``1,004.61``), else ``None``. The digits stay as read.

    >>> from cheque_reader.amount import assemble_amount
    >>> with_missed_point(assemble_amount([(c, 0.9) for c in "62,00000"])).text
    '62,000.00'
    >>> with_missed_point(assemble_amount([(c, 0.9) for c in "30,0200"])) is None
    True
    >>> with_missed_point(assemble_amount([(c, 0.9) for c in "1,75,00000/-"])) is None
    True
    """
    digit_at = [i for i, ch in enumerate(read.text) if ch.isdigit()]
    if len(digit_at) < 3 or "." in read.text[digit_at[-3] :] or "/" in read.text[digit_at[-1] :]:
        return None  # ... nor after a closing '/-': a whole amount (``1,75,00000/-`` is 1,75,00,000)
    text = read.text[: digit_at[-2]] + "." + read.text[digit_at[-2] :]
    parsed = parse_amount(text, prefer)
    if not parsed.grammar_ok or not parsed.value:
        return None
    return dataclasses.replace(read, text=text, amount=parsed.value, grammar_ok=True, convention=parsed.convention)


def repair_grammar(read, reads: Sequence[DigitRead], field_read: sdnn.FieldRead, prefer: str | None = None,
                   scraps: bool = False):
    """The read, its digit reads and the field reader's read after the likeliest edit of
    :func:`~cheque_reader.amount.grammatical_edits` (scored by the field reader, see
    :data:`GRAMMAR_REPAIR_MIN_RATIO`), or with ``scraps`` (the boxes of ``reads`` are the
    segmenter's own digits) the likeliest that drops a scrap (:data:`SCRAP_DIGIT_HEIGHT`);
    ``None`` when no edit qualifies.

    The 1998 paper's cheque reader composed its recognizer with the amount grammar; here the
    grammar picks among the readings one digit away from the field reader's best.

    >>> from cheque_reader.sdnn import BLANK, string_probability
    >>> p = np.full((13, 11), 0.01); p[:, BLANK] = 0.9
    >>> for col, d in zip((1, 3, 5, 7, 9, 11), (3, 0, 0, 2, 0, 0)):
    ...     p[col, [d, BLANK]] = 0.9, 0.01
    >>> p[7, [2, BLANK]] = 0.3, 0.6                                # the "2" is faint: maybe a scrap
    >>> field_read = sdnn.FieldRead("300200", string_probability(np.log(p), "300200"), (0.9, 0.9, 0.9, 0.3, 0.9, 0.9),
    ...                             tuple((c, c + 1) for c in (1, 3, 5, 7, 9, 11)), 1.0, (np.log(p),), ("300200",))
    >>> reads = [DigitRead(d, 0.9, 0, 0.05, BBox(10 + 20 * i, 5, 15, 30)) for i, d in enumerate((3, 0, 0, 2, 0, 0))]
    >>> read = assemble_amount([(c, 0.9 if c.isdigit() else 1.0) for c in "30,0200/-"], "in")   # no Indian grouping
    >>> new_read, new_reads, new_field_read = repair_grammar(read, reads, field_read, "in")
    >>> new_read.text, new_read.grammar_ok, [r.label for r in new_reads], new_field_read.digits
    ('30,000/-', True, [3, 0, 0, 0, 0], '30000')
    >>> repair_grammar(assemble_amount([(c, 0.9) for c in "300200"]), reads, field_read, "in") is None   # parses
    True
    """
    if read.digits != field_read.digits or len(reads) != len(read.digits):
        return None
    edits = grammatical_edits(read.text, prefer)
    if not edits:
        return None
    # a replacement of digits (the k-th written twice) keeps them; a separator or nothing drops the digit
    probs = field_read.probabilities([read.digits[:k] + (r if r.isdigit() else "") + read.digits[k + 1 :]
                                      for k, r in edits])

    def rank(i: int) -> tuple[float, int]:  # repeats that spell the same string: the widest-read digit first
        (k, replacement) = edits[i]
        a, b = field_read.columns[k]
        return float(probs[i]), (b - a if replacement.isdigit() else 0)

    best = max(range(len(edits)), key=rank)
    if probs[best] <= 0 or probs[best] < GRAMMAR_REPAIR_MIN_RATIO * field_read.confidence:
        drops = [i for i in _scrap_drops(edits, reads) if probs[i] > 0] if scraps else []
        if not drops:
            return None
        best = max(drops, key=rank)
    k, replacement = edits[best]
    confidences = iter([r.confidence for r in reads])
    tokens = [(ch, next(confidences)) if ch.isdigit() else (ch, 1.0) for ch in read.text]
    at = [i for i, (ch, _) in enumerate(tokens) if ch.isdigit()][k]
    if replacement.isdigit():  # the digit twice, its box halved between them
        box, half = reads[k].bbox, reads[k].bbox.w // 2
        twice = (dataclasses.replace(reads[k], bbox=BBox(box.x, box.y, max(1, half), box.h)),
                 dataclasses.replace(reads[k], bbox=BBox(box.x + half, box.y, box.w - half, box.h)))
        return (assemble_amount(tokens[: at + 1] + tokens[at:], prefer),
                tuple(reads[:k]) + twice + tuple(reads[k + 1 :]), field_read.with_digit_doubled(k))
    tokens = tokens[:at] + ([(replacement, 1.0)] if replacement else []) + tokens[at + 1 :]
    return (assemble_amount(tokens, prefer), tuple(reads[:k]) + tuple(reads[k + 1 :]),
            field_read.without_digit(k))


def _scrap_drops(edits: Sequence[tuple[int, str]], reads: Sequence[DigitRead]) -> list[int]:
    """The indices of ``edits`` that drop a digit whose box is a scrap beside a digit (:data:`SCRAP_DIGIT_HEIGHT`).

    >>> tall, low = BBox(0, 0, 20, 40), BBox(0, 25, 20, 16)
    >>> reads = [DigitRead(3, 0.9, 8, 0.1, tall), DigitRead(0, 0.9, 6, 0.1, low), DigitRead(2, 0.9, 7, 0.1, tall)]
    >>> _scrap_drops([(0, ""), (1, ""), (1, ",")], reads)
    [1]
    """
    out = []
    for i, (k, replacement) in enumerate(edits):
        beside = [r.bbox.h for r in reads[max(0, k - 1) : k] + reads[k + 1 : k + 2]]
        if replacement == "" and beside and reads[k].bbox.h <= SCRAP_DIGIT_HEIGHT * max(beside):
            out.append(i)
    return out


@dataclass(frozen=True)
class AmountEvidence:
    """What the amount confidence is computed from: the SDNN's string probability, the segmenting
    reader's product of digit confidences for the same string, whether the two readers agree, the
    share of the SDNN's views that read the same string, whether the text obeys the grammar, and
    how many digits were read (the SDNN's string probability falls with each digit faster than its
    accuracy does: on the held-out ORAND fields 6-digit reads score 0.66 on average against 0.77-0.79
    for 3 to 5 digits, and are right about as often, 83% against 81-90%).

    >>> evidence = AmountEvidence(sdnn_confidence=0.9, segment_confidence=0.8, readers_agree=True, n_digits=4)
    >>> evidence.features(["logit_sdnn_confidence", "readers_agree", "grammar_ok"]).round(3).tolist()
    [2.197, 1.0, 1.0]
    """

    sdnn_confidence: float
    segment_confidence: float
    readers_agree: bool
    views_agree: float = 1.0
    grammar_ok: bool = True
    n_digits: int = 0

    def features(self, names: Sequence[str]) -> np.ndarray:
        """The named features (see ``AMOUNT_FEATURES``) as a vector."""
        return np.array([AMOUNT_FEATURES[n](self) for n in names], float)


#: ``n_digits`` counts longer reads as this long: of the 281 held-out ORAND fields the calibration is
#: fitted on, 25 hold 6 or 7 digits and none more (Indian cheques carry up to 9).
N_DIGITS_CAP = 6

#: The features an ``amount_calibration`` may name, by name.
AMOUNT_FEATURES = {
    "logit_sdnn_confidence": lambda e: _logit(e.sdnn_confidence),
    "logit_segment_confidence": lambda e: _logit(e.segment_confidence),
    "readers_agree": lambda e: float(e.readers_agree),
    "views_agree": lambda e: float(e.views_agree),
    "grammar_ok": lambda e: float(e.grammar_ok),
    "n_digits": lambda e: float(min(e.n_digits, N_DIGITS_CAP)),
}


def amount_evidence(field_read: sdnn.FieldRead, read, agree: bool) -> AmountEvidence:
    """The :class:`AmountEvidence` of a page from the SDNN's reading and the assembled read.

    >>> field_read = sdnn.FieldRead("1500", 0.7, (0.9,) * 4, ((1, 2), (4, 5), (7, 8), (10, 11)), views_agree=0.75)
    >>> read = assemble_amount([(c, 0.9) for c in "1500"])      # the segmenter's: 0.9 ** 4
    >>> e = amount_evidence(field_read, read, agree=True)
    >>> e.sdnn_confidence, round(e.segment_confidence, 4), e.readers_agree, e.views_agree, e.grammar_ok, e.n_digits
    (0.7, 0.6561, True, 0.75, True, 4)
    """
    return AmountEvidence(field_read.confidence, read.confidence, bool(agree), field_read.views_agree, read.grammar_ok,
                          len(read.digits))


def amount_confidence(evidence: AmountEvidence, calibration: dict | None) -> float:
    """P(the amount is right): a logistic over the features of ``evidence`` that the calibration names,
    fitted on held-out real fields (``amount_calibration`` in the SDNN's sidecar).

    Without a calibration, the SDNN's confidence, halved when the readers disagree.

    >>> amount_confidence(AmountEvidence(0.9, 0.8, True), None), amount_confidence(AmountEvidence(0.9, 0.8, False), None)
    (0.9, 0.45)
    >>> cal = {"features": ["logit_sdnn_confidence", "readers_agree"], "coef": [1.0, 2.0], "intercept": -1.0}
    >>> round(amount_confidence(AmountEvidence(0.5, 0.5, True), cal), 3)   # sigmoid(0 + 2 - 1)
    0.731
    """
    if not calibration:
        return float(evidence.sdnn_confidence if evidence.readers_agree else 0.5 * evidence.sdnn_confidence)
    x = evidence.features(calibration["features"])
    z = float(np.dot(calibration["coef"], x) + calibration["intercept"])
    return float(1.0 / (1.0 + np.exp(-z)))


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def choose_path(
    prepared: PreparedPage, predictions: DigitPredictions, field_read: sdnn.FieldRead | None = None
) -> tuple[tuple[int, ...] | None, bool]:
    """The candidates kept, and whether the two readers agree.

    The segmentation's best path; when the SDNN read other digits, its string wins and the
    path is the best cover with one digit piece per digit it read, each taken as that digit
    (:func:`~cheque_reader.segment.best_path_for`: the classifier may read the pieces otherwise;
    ``None`` only when no cover has that many digit pieces). On ``xx/100`` cents
    (``prepared.fraction_cents``) the SDNN reads up to the '/', and the segmentation's digits
    are compared up to there too: the denominator's are printed, not read; when they agree, the
    segmentation's own path is kept, its digits after the '/' left out.

    >>> prepared, reads, classifier, options = _example_reads("1500")  # as finish_page's example, step by step
    >>> choose_path(prepared, reads.predictions, reads.field_read)      # both read 1500
    ((0, 1, 2, 3), True)
    >>> other = sdnn.FieldRead("15000", 0.5, (0.9,) * 5, ((4, 8), (28, 36), (52, 60), (76, 84), (90, 92)))
    >>> choose_path(prepared, reads.predictions, other)                  # no path of four pieces spells five digits
    (None, False)
    """
    chosen = segment.best_path(prepared.candidates, predictions)
    if field_read is None or not field_read.digits:
        return chosen, True
    digits = [i for i in chosen if prepared.candidates[i].kind == "digit"]
    if prepared.fraction_cents and prepared.field_input_box is not None:
        end = prepared.field_input_box.x2
        before = [i for i in digits if prepared.candidates[i].bbox.x + prepared.candidates[i].bbox.w / 2 < end]
        if "".join(str(int(predictions.probs[i].argmax())) for i in before) == field_read.digits:
            # its own path, the printed denominator's digits left out: the path that spelled them anew
            # could take a cent from the denominator's ink, and that digit's box lay on the '100'
            return tuple(i for i in chosen if i in before or prepared.candidates[i].kind != "digit"), True
    seg_digits = "".join(str(int(predictions.probs[i].argmax())) for i in digits)
    if seg_digits == field_read.digits:
        return chosen, True
    candidates = prepared.candidates
    convention = LAYOUT_CONVENTION.get(prepared.field.layout) if prepared.field is not None else None
    if convention in SLASH_DIGIT_CONVENTIONS:
        candidates = closing_slash_as_digit(candidates)   # no '/-' written: a closing '/' may be a digit
    path = segment.best_path_for(candidates, predictions, field_read.digits)
    if path is None and convention is None:  # no cover has a piece for each digit read: the closing '/' is one
        path = segment.best_path_for(closing_slash_as_digit(candidates), predictions, field_read.digits)
    return path, False


#: A digit piece of the chosen cut is ambiguous in count (:func:`split_reading`) when the primitives
#: it spans are each read as a digit at least this surely, as tall as a digit (this share of the
#: digits' height) and not as noise, ...
SPLIT_PART_MIN_CONFIDENCE = 0.9
SPLIT_PART_MIN_HEIGHT = 0.6
#: ... and the field reader gives the longer string at least this share of its read's probability.
SPLIT_MIN_FIELD_RATIO = 0.05


def split_reading(prepared: PreparedPage, predictions: DigitPredictions, chosen: Sequence[int],
                  field_read: sdnn.FieldRead | None) -> str | None:
    """The digits the chosen cut spells with one of its digit pieces cut into the primitives it
    spans, when each of them is surely a digit of its own, they spell one of the read's digits
    twice, and the field reader finds that longer string plausible (:data:`SPLIT_PART_MIN_CONFIDENCE`,
    :data:`SPLIT_MIN_FIELD_RATIO`); ``None`` otherwise. Two digits written close (``11`` of ``110142``) are one piece to both readers: the
    segmenter's wider piece reads as one digit, and the field reader's CTC merges a repeat with no
    blank column between; the two readers then agree on a digit too few.

    >>> prepared, reads, classifier, options = _example_reads("1500")  # as finish_page's example
    >>> chosen, _ = choose_path(prepared, reads.predictions, reads.field_read)
    >>> split_reading(prepared, reads.predictions, chosen, reads.field_read) is None   # four pieces, four digits
    True
    """
    if field_read is None or not field_read.digits or not chosen:
        return None
    cands = prepared.candidates
    digits = [i for i in chosen if cands[i].kind == "digit"]
    labels = [str(int(predictions.probs[i].argmax())) for i in digits]
    if "".join(labels) != field_read.digits:
        return None
    single = {c.start: i for i, c in enumerate(cands) if c.end == c.start + 1}
    band = preprocess.small_median([cands[i].bbox.h for i in digits])
    options = []
    for k, i in enumerate(digits):
        c = cands[i]
        if c.end - c.start < 2:
            continue
        parts = [single.get(s) for s in range(c.start, c.end)]
        if any(p is None or cands[p].kind != "digit" or predictions.probs[p].max() < SPLIT_PART_MIN_CONFIDENCE
               or predictions.not_digit[p] >= 0.5 or cands[p].bbox.h < SPLIT_PART_MIN_HEIGHT * band for p in parts):
            continue
        options.append("".join(labels[:k] + [str(int(predictions.probs[p].argmax())) for p in parts] + labels[k + 1 :]))
    # a digit written twice, as the segmenter's parts read: a 4 of two strokes reads "14" (144988 as 1414988)
    doubled = {field_read.digits[: k + 1] + field_read.digits[k:] for k in range(len(field_read.digits))}
    options = [text for text in options if text in doubled]
    if not options:
        return None
    probs = field_read.probabilities(options)
    k = int(np.argmax(probs))
    return options[k] if probs[k] > 0 and probs[k] >= SPLIT_MIN_FIELD_RATIO * field_read.confidence else None


def run_model_id(classifier: DigitClassifier, options: ReadOptions = ReadOptions()) -> str:
    """The ``model`` of every row read with ``classifier`` and ``options``: the classifier's id, with
    the field reader's after a ``+`` when it reads (``lenet5-v1-d18b601a+sdnn-v2-f55fbe18-int8``), on
    the pages it had nothing to read on too (no field, no digits, errors).

    >>> classifier = get_classifier(ReadOptions())
    >>> run_model_id(classifier, ReadOptions(field_reader=False)) == classifier.model_id
    True
    >>> run_model_id(classifier).split("+") == [classifier.model_id, get_field_reader().model_id]
    True
    """
    reader = get_field_reader(options)
    return classifier.model_id if reader is None else f"{classifier.model_id}+{reader.model_id}"


def error_result(source: str, page: int, message: str, elapsed_ms: float = 0.0, model: str = "") -> ChequeResult:
    """The row for a page (or file) that could not be read.

    >>> row = error_result("scan.pdf", 3, "scan.pdf: cannot decode page 3", model="lenet5-v1")
    >>> row.status, row.page, row.error, row.amount, row.needs_review, row.review_reasons
    ('error', 3, 'scan.pdf: cannot decode page 3', None, True, ('error',))
    """
    return ChequeResult(
        source=source,
        page=page,
        status=STATUS_ERROR,
        needs_review=True,
        review_reasons=review_reasons(STATUS_ERROR),
        error=message,
        elapsed_ms=elapsed_ms,
        model=model,
    )


def get_classifier(options: ReadOptions = ReadOptions()) -> DigitClassifier:
    """The classifier ``options`` ask for (loaded once per process).

    >>> import cv2
    >>> crops = [np.full((44, 32), 255, np.uint8) for _ in range(2)]
    >>> _ = cv2.putText(crops[0], "3", (2, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    >>> _ = cv2.putText(crops[1], "7", (2, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    >>> get_classifier(ReadOptions()).predict(crops).labels.tolist()
    [3, 7]
    """
    return DigitClassifier(
        model_path=options.model_path, device=options.device, backend=options.backend, batch_size=options.batch_size
    )


_NO_FIELD_READER = object()
_FIELD_READERS: dict[tuple, object] = {}
_FIELD_READERS_LOCK = threading.Lock()  # threads asking at once (a web server's first requests) load one


def get_field_reader(options: ReadOptions = ReadOptions()) -> sdnn.FieldReader | None:
    """The SDNN field reader (one per process), or ``None`` when ``options.field_reader`` is off
    or no SDNN weights are shipped next to the classifier's.

    >>> import cv2
    >>> img = np.full((60, 200), 255, np.uint8)
    >>> _ = cv2.putText(img, "260", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    >>> reader = get_field_reader(ReadOptions())
    >>> reader is get_field_reader(ReadOptions()), reader.read([sdnn.field_input(img)])[0].digits
    (True, '260')
    >>> get_field_reader(ReadOptions(field_reader=False)) is None
    True
    """
    if not options.field_reader:
        return None
    path = field_reader_path(options)
    if options.model_path and path is not None and not path.is_file():  # a fine-tuned model copied without it:
        # "model weights not found: .../tuned_sdnn.pt" named a file the user never gave
        side = Path(options.model_path).with_suffix(".json")
        raise ModelError(f"{path}: the field reader named by {side} is not there: finetune writes it beside "
                         f"{Path(options.model_path).name}; keep {path.name} and {path.with_suffix('.json').name} "
                         "with the model, or read with the shipped model")
    backend = resolve_backend(options.backend, options.device)
    key = (str(path), weights_version(path) if path else (), options.device, backend)  # written again: loaded again
    with _FIELD_READERS_LOCK:
        reader = _FIELD_READERS.get(key)
        if reader is None:
            if path is None:
                log.warning("no SDNN weights: reading with the segmenting reader only")
                reader = _NO_FIELD_READER
            else:
                reader = sdnn.FieldReader(path, device=options.device, backend=backend)
            _FIELD_READERS[key] = reader
    return None if reader is _NO_FIELD_READER else reader


def field_reader_path(options: ReadOptions = ReadOptions()) -> Path | None:
    """The SDNN weights to read with: the one a ``--model`` sidecar names (``"field_reader"``, a file
    beside it, written by ``finetune``), else the shipped one; ``None`` when there are none.

    >>> import tempfile
    >>> field_reader_path(ReadOptions()) == sdnn.default_sdnn_path()   # the shipped weights
    True
    >>> model = Path(tempfile.mkdtemp()) / "tuned.pt"    # a fine-tuned model's sidecar names its own
    >>> _ = model.with_suffix(".json").write_text(json.dumps({"field_reader": "tuned-sdnn.pt"}))
    >>> field_reader_path(ReadOptions(model_path=str(model))).name
    'tuned-sdnn.pt'
    """
    named = _named_field_reader(options.model_path) if options.model_path else None
    if named:
        return Path(options.model_path).parent / named
    path = sdnn.default_sdnn_path()
    return path if path.is_file() else None


@functools.lru_cache(maxsize=16)
def _named_field_reader(model_path: str) -> str | None:
    """The ``field_reader`` file name a weights sidecar names (read once per process)."""
    try:
        named = json.loads(Path(model_path).with_suffix(".json").read_text()).get("field_reader")
    except (OSError, ValueError):
        return None
    return Path(named).name if named else None


def _rows(pred: DigitPredictions, a: int, b: int) -> DigitPredictions:
    """Rows ``a:b`` of every per-candidate array of ``pred``."""
    values = {f.name: getattr(pred, f.name) for f in dataclasses.fields(pred)}
    return type(pred)(**{k: v[a:b] if isinstance(v, np.ndarray) and v.ndim >= 1 else v for k, v in values.items()})


@dataclass(frozen=True)
class PageReads:
    """What the networks said about one prepared page: LeNet-5 on each candidate, the SDNN on the field.

    >>> prepared, reads, classifier, options = _example_reads("1500")  # as finish_page's example, step by step
    >>> reads.predictions.labels.tolist(), reads.field_read.digits, reads.classify_ms > 0
    ([1, 5, 0, 0], '1500', True)
    """

    predictions: DigitPredictions | None
    field_read: sdnn.FieldRead | None
    classify_ms: float


def classify_pages(
    prepared: list[PreparedPage], classifier: DigitClassifier, field_reader: sdnn.FieldReader | None = None
) -> list[PageReads]:
    """Run both networks over many prepared pages in large batches (one call per network).

    >>> img = _example_field("1500")  # "1500" printed in a 60 x 200 field (finish_page's example draws it)
    >>> options = ReadOptions(layout="field")
    >>> prepared = prepare_page(Page("f.png", 1, img), options)
    >>> blank = prepare_page(Page("blank.png", 1, np.full((60, 200), 255, np.uint8)), options)
    >>> reads = classify_pages([prepared, blank], get_classifier(options), get_field_reader(options))
    >>> reads[0].predictions.labels.tolist(), reads[0].field_read.digits
    ([1, 5, 0, 0], '1500')
    >>> reads[1].predictions, reads[1].field_read      # nothing to read on the blank page
    (None, None)
    """
    todo = [i for i, p in enumerate(prepared) if p.status == STATUS_OK and p.n_candidates]
    preds: dict[int, DigitPredictions] = {}
    reads: dict[int, sdnn.FieldRead] = {}
    ms = 0.0
    if todo:
        t0 = time.perf_counter()
        pred = classifier.predict_tensors(np.concatenate([prepared[i].tensors for i in todo], axis=0))
        a = 0
        for i in todo:
            b = a + prepared[i].n_candidates
            preds[i] = _rows(pred, a, b)
            a = b
        sweep = [i for i in todo if prepared[i].field_input is not None]
        if field_reader is not None and sweep:
            for i, r in zip(sweep, field_reader.read([prepared[i].field_input for i in sweep])):
                reads[i] = r
        ms = (time.perf_counter() - t0) * 1000 / len(todo)
    return [PageReads(preds.get(i), reads.get(i), ms if i in preds else 0.0) for i in range(len(prepared))]


def _example_field(text: str) -> np.ndarray:
    """The docstrings' example field: ``text`` printed in a 60 x 200 white field, as
    :func:`finish_page`'s example draws it."""
    import cv2

    img = np.full((60, 200), 255, np.uint8)
    cv2.putText(img, text, (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    return img


def _example_reads(text: str):
    """The docstrings' example read, as :func:`finish_page`'s example makes it step by step:
    ``(prepared, reads, classifier, options)`` for :func:`_example_field` ``(text)`` read as a field."""
    options = ReadOptions(layout="field")
    prepared = prepare_page(Page("f.png", 1, _example_field(text)), options)
    classifier = get_classifier(options)
    [reads] = classify_pages([prepared], classifier, get_field_reader(options))
    return prepared, reads, classifier, options


def check_options(options: ReadOptions) -> ReadOptions:
    """``options`` as given, or :class:`~cheque_reader.errors.UsageError` when no page could be read
    with them (an unknown layout, a layout file that cannot be loaded, a target error outside
    (0, 1) or a review threshold outside [0, 1], an ONNX backend on a GPU, ``workers``, ``batch_size``,
    ``max_pixels`` or ``max_file_bytes`` not a whole number of at least 1, ``field_reader`` or
    ``keep_digit_reads`` not a bool): checked before any page is read, so that a mistake does not
    become an error row, or a wrong review flag, on every page.

    >>> check_options(ReadOptions(layout="us")).layout
    'us'
    >>> check_options(ReadOptions(layout="US"))
    Traceback (most recent call last):
    ...
    cheque_reader.errors.LayoutError: unknown layout 'US': use auto, us, in-cts, top-right, field or a .toml file
    """
    if not isinstance(options, ReadOptions):  # a dict said "'dict' object has no attribute 'layout'"
        raise TypeError(f"options must be a ReadOptions (ReadOptions(layout='us')), not {type(options).__name__}")
    locate.resolve_layout(options.layout)
    check_target_error(options.target_error)
    check_review_threshold(options.review_threshold)
    resolve_backend(options.backend, options.device)  # an ONNX backend on a GPU is refused
    for name, meaning in (("workers", "1 reads in this process"), ("batch_size", "digits per forward pass"),
                          ("max_pixels", "the most pixels of an image"), ("max_file_bytes", "the most bytes of a file")):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise UsageError(f"{name} must be a whole number of at least 1 ({meaning}), not {value!r}")
    for name in ("field_reader", "keep_digit_reads"):  # "false" (read from the environment) was true
        value = getattr(options, name)
        if not isinstance(value, (bool, np.bool_)):
            raise UsageError(f"{name} must be True or False, not {value!r}")
    return options


def with_classifier_model(options: ReadOptions, classifier: DigitClassifier | None) -> ReadOptions:
    """``options`` with ``model_path`` set to ``classifier``'s weights when ``options`` name none: the
    field reader ``finetune`` wrote beside them (:func:`field_reader_path`) is read with it. A
    classifier of a fine-tuned model given to ``read_cheque`` or ``read_folder`` was read with the
    shipped field reader, whose string wins: the fine-tuning of the field was lost.

    >>> with_classifier_model(ReadOptions(), None).model_path is None
    True
    """
    path = getattr(classifier, "model_path", None)
    if classifier is None or options.model_path or not path:
        return options
    return options.replace(model_path=path)


def read_page(page: Page, classifier: DigitClassifier | None = None, options: ReadOptions = ReadOptions()) -> ChequeResult:
    """Read one decoded page (``page.image`` 2-D ``uint8`` grayscale, as the file loader makes them;
    :func:`read_cheque` takes other images); bad ``options`` raise (:func:`check_options`).

    >>> import numpy as np
    >>> from cheque_reader.types import Page
    >>> read_page(Page("blank.png", 1, np.full((50, 50), 255, np.uint8)), options=ReadOptions(layout="field")).status
    'no_digits'
    """
    if not isinstance(page, Page):
        raise TypeError(f"read_page reads a Page (Page(source, 1, gray)), not {type(page).__name__}: read_cheque "
                        "reads a path, a file's bytes or an image")
    image = page.image
    if not (isinstance(image, np.ndarray) and image.ndim == 2 and image.dtype == np.uint8):
        what = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"Page.image must be a 2-D uint8 grayscale array (paper 255, ink 0), not {what}: "
                         "read_cheque takes colour, 16-bit and float arrays")
    check_options(options)
    options = with_classifier_model(options, classifier)
    classifier = classifier or get_classifier(options)
    prepared = prepare_page(page, options)
    reads = classify_pages([prepared], classifier, get_field_reader(options))[0]
    return finish_page(prepared, reads.predictions, classifier, options, reads.classify_ms, reads.field_read)


def _page_from_array(image: np.ndarray) -> Page:
    """A :class:`Page` for an in-memory image: gray (``(H, W)`` or ``(H, W, 1)``), BGR or BGRA.

    Other depths than 8 bits are scaled as the file loader scales them (16-bit over 0-65535, floats
    over 0-1 or their min-max); what cannot be an image raises.

    >>> _page_from_array(np.full((2, 3), 0.5)).image.tolist()
    [[127, 127, 127], [127, 127, 127]]
    >>> _page_from_array(np.zeros((2, 3), bool))
    Traceback (most recent call last):
    ...
    TypeError: a bool array is a mask, not an image: give uint8 (paper 255, ink 0)
    """
    if image.dtype == np.bool_:
        raise TypeError("a bool array is a mask, not an image: give uint8 (paper 255, ink 0)")
    if image.dtype.kind not in "uif":
        raise TypeError(f"an image array holds numbers, not {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 1:  # np.frombuffer(blob, np.uint8), as cv2.imdecode takes it
        raise ValueError(f"expected a 2-D grayscale, (H, W, 1), BGR or BGRA image, got shape {image.shape} "
                         "(a file's content? give it as bytes: arr.tobytes())")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise ValueError(f"expected a 2-D grayscale, (H, W, 1), BGR or BGRA image, got shape {image.shape}")
    if image.size == 0:
        raise ValueError(f"the image is empty (shape {image.shape})")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("the image has NaN or infinite pixels")
    return io._page("<array>", 1, image, None, rgb=False)  # as the file loader makes pages (BGRA on white)


def _page_from_pil(img, source: str = "<image>") -> Page | ChequeResult:
    """A :class:`Page` for a Pillow image, decoded as the file loader decodes one (any mode), and
    turned upright by its EXIF orientation as the file would be (a phone photo stored on its side);
    or ``source``'s error row when its data cannot be decoded (``Image.open`` decodes lazily: a
    truncated upload), as its bytes would give."""
    try:
        arr = io._pil_decode(source, img, "image")
    except ChequeReaderError as exc:
        return error_result(source, 1, str(exc))
    return io._page(source, 1, io.upright(arr, io.exif_orientation(img)), io._dpi_of(img), rgb=True)


def read_cheque(
    image_or_path: np.ndarray | str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | PIL.Image.Image,
    *,
    layout: str | os.PathLike[str] | None = None,
    options: ReadOptions | None = None,
    classifier: DigitClassifier | None = None,
    source: str | None = None,
) -> ChequeResult:
    """Read the courtesy amount of one cheque.

    ``image_or_path`` is a file path (``str`` or ``pathlib.Path``; of a multi-page file the first page:
    :func:`~cheque_reader.batch.read_folder` reads them all), a file's content as ``bytes``, ``bytearray``
    or ``memoryview`` (an image kept as a blob in a database: any format a file may have, PNG, JPEG,
    TIFF, PDF, X9.37..., and of several pages the first), a file object opened for bytes (``open(path,
    "rb")``, ``io.BytesIO``, a web upload: read from where it stands, as those bytes), a Pillow image,
    or a numpy array: gray
    ``(H, W)`` or ``(H, W, 1)``, BGR or BGRA (OpenCV's order), 8-bit, 16-bit (scaled over 0-65535, unless
    every value is an 8-bit one) or float (over 0-1, or its min-max). A page stored on its side with an EXIF orientation is turned upright.
    ``source`` names it in the result (and its error message); default: the path as given, ``<bytes>``,
    a file object's ``name`` (else ``<stream>``), ``<image>`` (Pillow) or ``<array>``.

    ``layout`` (a built-in name or a ``.toml`` file) wins over ``options.layout`` when given;
    ``options`` (:class:`~cheque_reader.config.ReadOptions`) holds the rest; ``classifier``: a
    :class:`~cheque_reader.classify.DigitClassifier` to use (default: the one ``options`` describe,
    loaded once per process).

    Returns a :class:`~cheque_reader.types.ChequeResult`, one row of ``results.csv``: ``text``
    (``1,234.56``), ``digits``, ``amount`` (``1234.56``), ``confidence``, ``needs_review``,
    ``review_reasons``. A file that cannot be read gives ``status == "error"`` and the reason in
    ``error`` (so does a ``str`` that is a file's content read as text, not a path: source ``<str>``, and an
    array or Pillow image of more than ``options.max_pixels`` pixels, as a file of that size); bad arguments raise: ``TypeError`` or ``ValueError`` for what is no image,
    :class:`~cheque_reader.errors.UsageError` for bad options, :class:`~cheque_reader.errors.ModelError`
    for weights that cannot be loaded.

    >>> import numpy as np
    >>> read_cheque(np.full((40, 120), 255, np.uint8), layout="field").needs_review
    True
    >>> result = read_cheque("no-such-scan.png")
    >>> result.status, result.error
    ('error', 'no-such-scan.png: no such file')
    >>> read_cheque(b"total,1234", source="blob 17").error
    'blob 17: not a supported image file (it looks like a text file)'
    """
    if isinstance(source, os.PathLike):  # a Path named the result as a Path, which JSON cannot hold
        source = os.fsdecode(source)
    if source is not None and not isinstance(source, str):
        raise TypeError(f"source is the name of the input in its result (a str), not {type(source).__name__}")
    options = ReadOptions() if options is None else options
    if layout is not None and isinstance(options, ReadOptions):
        options = options.replace(layout=layout)
    check_options(options)
    if isinstance(image_or_path, np.ndarray) or _is_pil_image(image_or_path):
        too_large = _too_large(image_or_path, source, options)
        if too_large is not None:  # (a file of that size is refused before it is decoded)
            return too_large
    if isinstance(image_or_path, np.ndarray):
        page = _page_from_array(image_or_path)
    elif _is_pil_image(image_or_path):
        page = _page_from_pil(image_or_path, source if source is not None else "<image>")
    elif isinstance(image_or_path, (bytes, bytearray, memoryview)):
        source = source if source is not None else "<bytes>"
        page = _first_page(source, lambda: io.open_bytes(image_or_path, options, source))
        if isinstance(page, ChequeResult) and len(image_or_path) <= 4096 and io._names_a_file(bytes(image_or_path)):
            page = dataclasses.replace(page, error=f"{source}: not an image file's content but the name of a file: "
                                                   "give a path as a str or pathlib.Path (bytes are read as a file's content)")
    elif _is_binary_stream(image_or_path):  # an open file, io.BytesIO, a web framework's upload
        name = getattr(image_or_path, "name", None)
        source = source if source is not None else name if isinstance(name, str) and name else "<stream>"
        data = _read_stream(image_or_path, options.max_file_bytes + 1)  # one byte more: a larger one is refused
        page = _first_page(source, lambda: io.open_bytes(data, options, source))
    elif isinstance(image_or_path, (str, os.PathLike)):
        path = os.fspath(image_or_path)
        if isinstance(path, bytes):  # os.fspath of a bytes path-like: a path, not a file's content
            path = os.fsdecode(path)
        if isinstance(path, str) and _is_content_not_path(path):  # an upload read as text: its row was the whole
            # content twice (source and error, 291 KB for a sample PNG), saying 'it holds a NUL byte'
            source = source if source is not None else "<str>"
            page = error_result(source, 1, f"{source}: not a path but {len(path):,} characters of text (a str is read "
                                           "as a file's path): give a file's content as bytes (a file opened with 'rb'; "
                                           "base64 text decoded, base64.b64decode(text))")
        else:
            source = source if source is not None else path
            page = _first_page(source, lambda: io.open_document(path, options, source))
    else:
        raise TypeError("read_cheque takes an image array, a Pillow image, a file's bytes or a path (or a binary "
                        f"file object), not {type(image_or_path).__name__}")
    if isinstance(page, ChequeResult):  # the input could not be read
        return page
    if source is not None and page.source != source:
        page = dataclasses.replace(page, source=source)
    return read_page(page, classifier, options)


def _too_large(image, source: str | None, options: ReadOptions) -> ChequeResult | None:
    """The error row of an in-memory image (a numpy array, a Pillow image) of more than
    ``options.max_pixels`` pixels, as a file of that size gives; ``None`` for one within the limit.

    >>> _too_large(np.zeros((3, 4), np.uint8), None, ReadOptions(max_pixels=10)).error
    '<array>: image is 4x3 = 12 pixels, more than the limit of 10 (ReadOptions.max_pixels); refused before decoding'
    >>> _too_large(np.zeros((3, 3), np.uint8), None, ReadOptions(max_pixels=10)) is None
    True
    """
    if isinstance(image, np.ndarray):
        if image.ndim < 2:  # no image: _page_from_array says so
            return None
        name = "<array>" if source is None else source
        height, width = image.shape[:2]
    else:
        name = "<image>" if source is None else source
        width, height = image.size
    if width == 0 or height == 0:  # no pixels: _page_from_array says so
        return None
    try:
        io.check_pixels(name, width, height, options)  # as a file's header is checked
    except ChequeReaderError as exc:
        return error_result(name, 1, str(exc))
    return None


#: Longer paths Linux does not take (``PATH_MAX``); a name holding a NUL byte is longer than a file name may be
#: (``NAME_MAX``): such a str given to :func:`read_cheque` is a file's content read as text.
PATH_MAX = 4096
NAME_MAX = 255


def _is_content_not_path(text: str) -> bool:
    """Whether ``text`` is no path but a file's content read as text: longer than :data:`PATH_MAX`, or
    longer than :data:`NAME_MAX` with a NUL byte (a short name with one is named in its row as it is).

    >>> _is_content_not_path("scans/a.png"), _is_content_not_path("a\\0b.png"), _is_content_not_path("\\x89PNG\\0" * 60)
    (False, False, True)
    """
    return len(text) > PATH_MAX or (len(text) > NAME_MAX and "\0" in text)


def _first_page(source: str, open_document) -> Page | ChequeResult:
    """The first page of the document ``open_document()`` opens (the others left undecoded), or the
    error row of ``source`` when it cannot be read."""
    try:
        with open_document() as doc:
            return doc.page(0) if doc.n_pages else error_result(source, 1, "no pages in file")
    except ChequeReaderError as exc:
        return error_result(source, 1, str(exc))


def _read_stream(stream, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream``, to its end: a raw stream (a pipe, a socket) gives a read
    what it holds at the moment, and a PNG read once was 'truncated'."""
    parts: list = []
    n = 0
    while n < limit:
        part = stream.read(limit - n)
        if part is not None and not isinstance(part, (bytes, bytearray, memoryview)):
            raise TypeError("read_cheque reads a file object's bytes: open it in binary mode ('rb')")
        if not part:  # the end (None: a non-blocking stream with nothing more now)
            break
        parts.append(part)
        n += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _is_binary_stream(obj) -> bool:
    """Whether ``obj`` is a file object to read bytes from; one opened in text mode is a ``TypeError``."""
    if isinstance(obj, (str, bytes, bytearray, memoryview, os.PathLike, np.ndarray)) or not callable(getattr(obj, "read", None)):
        return False
    if isinstance(obj, (_pyio.TextIOBase, _pyio.StringIO)) or "b" not in getattr(obj, "mode", "b"):
        raise TypeError("read_cheque reads a file object's bytes: open it in binary mode ('rb')")
    return True


def _is_pil_image(obj) -> bool:
    """Whether ``obj`` is a Pillow image (without importing Pillow when it was never loaded). A module
    another thread is still importing has no ``Image`` yet (and no image of it can exist): a first request
    raised ``AttributeError: partially initialized module 'PIL.Image'`` while another decoded a scan."""
    image_class = getattr(sys.modules.get("PIL.Image"), "Image", None)
    return image_class is not None and isinstance(obj, image_class)
