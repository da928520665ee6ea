"""Review flags: which reads go to a person, and why.

>>> review_reasons("ok", confidence=0.95, threshold=0.9)
()
>>> review_reasons("ok", confidence=0.5, threshold=0.9, grammar_ok=False)
('low_confidence', 'grammar')
"""

from __future__ import annotations

from typing import Mapping

from .config import DEFAULT_REVIEW_THRESHOLD, ReadOptions
from .types import STATUS_ERROR, STATUS_NO_DIGITS, STATUS_NO_FIELD


def resolve_threshold(options: ReadOptions, metadata: Mapping | None = None) -> float:
    """The confidence a read needs to skip review.

    ``options.review_threshold`` wins; else ``options.target_error`` is looked up in the
    model's ``thresholds`` table (target error -> threshold, measured on held-out real
    fields), taking the strictest entry whose target is at most the one asked for;
    else :data:`~cheque_reader.config.DEFAULT_REVIEW_THRESHOLD`.

    >>> resolve_threshold(ReadOptions(target_error=0.01), {"thresholds": {"0.005": 0.97, "0.01": 0.9, "0.02": 0.8}})
    0.9
    >>> resolve_threshold(ReadOptions(review_threshold=0.5))
    0.5
    """
    if options.review_threshold is not None:
        return float(options.review_threshold)
    table = (metadata or {}).get("thresholds") or {}
    if options.target_error is not None and table:
        usable = {float(k): float(v) for k, v in table.items() if float(k) <= options.target_error + 1e-12}
        if usable:
            return usable[max(usable)]
        return max(float(v) for v in table.values())
    return DEFAULT_REVIEW_THRESHOLD


def review_reasons(
    status: str,
    *,
    confidence: float = 0.0,
    threshold: float = DEFAULT_REVIEW_THRESHOLD,
    grammar_ok: bool = True,
    segmentation_ok: bool = True,
) -> tuple[str, ...]:
    """The review reason codes for a read; empty when it needs no review."""
    if status == STATUS_ERROR:
        return ("error",)
    if status == STATUS_NO_FIELD:
        return ("no_field",)
    if status == STATUS_NO_DIGITS:
        return ("segmentation",)
    reasons = []
    if confidence < threshold:
        reasons.append("low_confidence")
    if not segmentation_ok:
        reasons.append("segmentation")
    if not grammar_ok:
        reasons.append("grammar")
    return tuple(reasons)
