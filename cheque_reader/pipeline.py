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

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import io, locate, preprocess, segment
from .amount import assemble_amount
from .classify import DigitClassifier, DigitPredictions
from .config import ReadOptions
from .errors import ChequeReaderError
from .normalize import normalize_batch
from .review import resolve_threshold, review_reasons
from .types import (
    STATUS_ERROR,
    STATUS_NO_DIGITS,
    STATUS_NO_FIELD,
    STATUS_OK,
    ChequeResult,
    DigitCandidate,
    DigitRead,
    Field,
    Page,
)

log = logging.getLogger("cheque_reader")

#: The amount convention tried first for each layout.
LAYOUT_CONVENTION = {"us": "us", "in-cts": "in"}


@dataclass(frozen=True)
class PreparedPage:
    """A page after the image stages, waiting for its candidates to be classified."""

    source: str
    page: int
    status: str
    field: Field | None = None
    candidates: tuple[DigitCandidate, ...] = ()
    tensors: np.ndarray | None = None
    error: str = ""
    elapsed_ms: float = 0.0
    extra: dict | None = None

    @property
    def n_candidates(self) -> int:
        return 0 if self.tensors is None else len(self.tensors)


def prepare_page(page: Page, options: ReadOptions = ReadOptions()) -> PreparedPage:
    """Locate, clean, segment and normalize one page. Page problems become a status, never raise."""
    t0 = time.perf_counter()
    extra = dict(page.extra)

    def done(status: str, **kw) -> PreparedPage:
        ms = (time.perf_counter() - t0) * 1000
        return PreparedPage(page.source, page.page, status, elapsed_ms=ms, extra=extra, **kw)

    try:
        field = locate.find_amount_field(page, options.layout)
        if field is None:
            return done(STATUS_NO_FIELD)
        ink = preprocess.clean_field(field)
        candidates = tuple(segment.segment_field(ink))
        if not candidates:
            return done(STATUS_NO_DIGITS, field=field)
        tensors = normalize_batch([c.image for c in candidates])
        return done(STATUS_OK, field=field, candidates=candidates, tensors=tensors)
    except ChequeReaderError as exc:
        return done(STATUS_ERROR, error=str(exc))
    except Exception as exc:  # a bug or a pathological page: one error row, the batch goes on
        log.exception("page %s:%s failed", page.source, page.page)
        return done(STATUS_ERROR, error=f"internal error: {type(exc).__name__}: {exc}")


def finish_page(
    prepared: PreparedPage,
    predictions: DigitPredictions | None,
    classifier: DigitClassifier,
    options: ReadOptions = ReadOptions(),
    classify_ms: float = 0.0,
) -> ChequeResult:
    """Choose the digits from the predictions, form the amount and set the review flags."""
    t0 = time.perf_counter()
    field = prepared.field
    common = dict(
        source=prepared.source,
        page=prepared.page,
        field=field.bbox if field else None,
        layout=field.layout if field else "",
        model=classifier.model_id,
        extra=prepared.extra or {},
    )
    if prepared.status != STATUS_OK or predictions is None:
        status = prepared.status if prepared.status != STATUS_OK else STATUS_NO_DIGITS
        return ChequeResult(
            status=status,
            needs_review=True,
            review_reasons=review_reasons(status),
            elapsed_ms=prepared.elapsed_ms + classify_ms,
            error=prepared.error,
            **common,
        )

    chosen = segment.best_path(prepared.candidates, predictions)
    tokens, reads = [], []
    for i in chosen:
        cand = prepared.candidates[i]
        if cand.kind != "digit":
            tokens.append((cand.kind, 1.0))
            continue
        order = np.argsort(predictions.probs[i])[::-1]
        p_digit = 1.0 - float(predictions.not_digit[i])
        label, alt = int(order[0]), int(order[1])
        conf = float(predictions.probs[i, label]) * p_digit
        reads.append(DigitRead(label, conf, alt, float(predictions.probs[i, alt]) * p_digit, cand.bbox))
        tokens.append((str(label), conf))

    read = assemble_amount(tokens, prefer=LAYOUT_CONVENTION.get(common["layout"]))
    reads = reads[: len(read.digits)]  # a "/100" denominator is dropped from the digits: drop its reads too
    status = STATUS_OK if read.digits else STATUS_NO_DIGITS
    threshold = resolve_threshold(options, classifier.metadata)
    reasons = review_reasons(status, confidence=read.confidence, threshold=threshold, grammar_ok=read.grammar_ok)
    elapsed = prepared.elapsed_ms + classify_ms + (time.perf_counter() - t0) * 1000
    return ChequeResult(
        status=status,
        digits=read.digits,
        text=read.text,
        amount=read.amount,
        confidence=read.confidence,
        needs_review=bool(reasons),
        review_reasons=reasons,
        n_digits=len(read.digits),
        elapsed_ms=elapsed,
        digit_reads=tuple(reads) if options.keep_digit_reads else (),
        **common,
    )


def error_result(source: str, page: int, message: str, elapsed_ms: float = 0.0, model: str = "") -> ChequeResult:
    """The row for a page (or file) that could not be read."""
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
    """The classifier ``options`` ask for (loaded once per process)."""
    return DigitClassifier(
        model_path=options.model_path, device=options.device, backend=options.backend, batch_size=options.batch_size
    )


def classify_prepared(prepared: PreparedPage, classifier: DigitClassifier) -> DigitPredictions | None:
    """The predictions for one prepared page's candidates (``None`` when it has none)."""
    if prepared.status != STATUS_OK or not prepared.n_candidates:
        return None
    return classifier.predict_tensors(prepared.tensors)


def read_page(page: Page, classifier: DigitClassifier | None = None, options: ReadOptions = ReadOptions()) -> ChequeResult:
    """Read one decoded page.

    >>> import numpy as np
    >>> from cheque_reader.types import Page
    >>> read_page(Page("blank.png", 1, np.full((50, 50), 255, np.uint8)), options=ReadOptions(layout="field")).status
    'no_digits'
    """
    classifier = classifier or get_classifier(options)
    prepared = prepare_page(page, options)
    t0 = time.perf_counter()
    predictions = classify_prepared(prepared, classifier)
    return finish_page(prepared, predictions, classifier, options, (time.perf_counter() - t0) * 1000)


def _page_from_array(image: np.ndarray) -> Page:
    """A :class:`Page` for an in-memory image: grayscale kept, BGR (or BGRA) converted."""
    import cv2

    if image.ndim == 2:
        return Page("<array>", 1, np.ascontiguousarray(image, dtype=np.uint8))
    if image.ndim == 3 and image.shape[2] in (3, 4):
        color = np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)
        return Page("<array>", 1, cv2.cvtColor(color, cv2.COLOR_BGR2GRAY), color=color)
    raise ValueError(f"expected a 2-D grayscale or 3-D BGR image, got shape {image.shape}")


def read_cheque(
    image_or_path: np.ndarray | str | Path,
    *,
    layout: str = "auto",
    options: ReadOptions | None = None,
    classifier: DigitClassifier | None = None,
) -> ChequeResult:
    """Read the courtesy amount of one cheque: an image array (grayscale or BGR) or a file (first page).

    A file that cannot be read gives a result with ``status == "error"``; bad arguments raise.

    >>> import numpy as np
    >>> read_cheque(np.full((40, 120), 255, np.uint8), layout="field").needs_review
    True
    """
    options = (options or ReadOptions()).replace(layout=layout)
    if isinstance(image_or_path, np.ndarray):
        page = _page_from_array(image_or_path)
    else:
        source = str(image_or_path)
        try:
            pages = io.load_pages(source, options)
        except ChequeReaderError as exc:
            return error_result(source, 1, str(exc))
        if not pages:
            return error_result(source, 1, "no pages in file")
        page = pages[0]
    return read_page(page, classifier, options)
