"""Which data the network figures (4, 5, 12, 13) are drawn on: CIFAR-10, or, when it is not
available, scikit-learn's digits as a labelled stand-in.

A network figure's ``dataset`` setting is ``"auto"`` by default: CIFAR-10 when it is found in the
data folder or can be downloaded (:func:`gdchaos.nn.data.cifar10_unavailable`), else the digits
stand-in, with the figure's settings that only suit CIFAR-10 (step sizes, slice window) replaced
by ones where the digits show the same behaviour, unless the user set them.  The record says so
(``numbers["data"]``: ``"digits stand-in (CIFAR-10 not available: REASON)"``, and
``numbers["standin_settings"]``: the settings changed), and one line per run on stderr says how
to get the real data.  ``dataset=cifar10`` asks for CIFAR-10 itself: without it, a one-line
refusal.  ``dataset=digits`` runs on the digits by choice (no stand-in label).
"""

from __future__ import annotations

import sys

DATASET_CHOICES = ("auto", "cifar10", "digits")
STANDIN = "digits stand-in (CIFAR-10 not available: {reason})"

#: whether this run already printed the stand-in line (``reproduce`` resets it: one per run)
_NOTICE = {"said": False}


def reset_notice():
    _NOTICE["said"] = False


def check_dataset(number, p):
    """Refuse (one line) a ``dataset`` setting that is none of :data:`DATASET_CHOICES`."""
    from ..errors import GdchaosInputError

    if p["dataset"] not in DATASET_CHOICES:
        raise GdchaosInputError(f"figure {number}: setting dataset: must be one of "
                                f"{', '.join(DATASET_CHOICES)}, got {p['dataset']!r}")


def refuse_missing_cifar10(number, p, download=True):
    """For ``dataset=cifar10``: refuse (one line, :class:`DataUnavailable`) when CIFAR-10 is not
    available (``download``: fetch it first when allowed)."""
    from ..nn import data as D

    if p["dataset"] != "cifar10":
        return
    why = D.cifar10_unavailable(download=download)
    if why is not None:
        raise D.DataUnavailable(f"figure {number}: dataset=cifar10 asked but {why}; "
                                f"{D.cifar10_hint()}; or set dataset=auto or digits")


def choose_data(number, p, standin, presets):
    """Resolve ``p["dataset"]`` in place (``auto`` -> ``cifar10`` or ``digits``); returns the
    numbers to add to the record: ``{}`` on CIFAR-10 or digits by choice, else the stand-in's
    label and changed settings.  ``standin``: setting -> value for the digits, applied where
    ``p`` still holds one of the ``presets``' values."""
    from ..nn import data as D

    check_dataset(number, p)
    if p["dataset"] == "digits":
        return {}
    refuse_missing_cifar10(number, p)
    why = D.cifar10_unavailable(download=True)  # a 170 MB download shows its bar, always
    if why is None:
        p["dataset"] = "cifar10"
        return {}
    changed = {k: v for k, v in standin.items()
               if p[k] != v and any(p[k] == pr[k] for pr in presets.values())}
    p.update(changed, dataset="digits")
    if not _NOTICE["said"]:
        _NOTICE["said"] = True
        print(f"gdchaos: CIFAR-10 not available ({why}): the network figures are drawn on "
              f"scikit-learn's digits instead, labelled \"digits stand-in\"; "
              f"{D.cifar10_hint()}", file=sys.stderr, flush=True)
    return {"data": STANDIN.format(reason=why), "standin_settings": changed}


def data_label(rec):
    """The stand-in label of a figure's record (``None``: drawn on the data of its settings)."""
    if not rec:
        return None
    return rec.get("data") or (rec.get("numbers") or {}).get("data")
