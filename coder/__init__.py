"""alliance-coder: code the therapeutic alliance in psychotherapy transcripts."""

from coder.session import Session, Utterance

__version__ = "0.1.0"
__all__ = ["Session", "Utterance", "__version__"]
