"""Email validation and normalisation: email-validator's verdict, at a fraction of its cost.

:func:`check` gives exactly email-validator's verdict (``check_deliverability=False``,
its other options at their defaults) on any string. Ordinary ASCII addresses are
decided by one regular expression that accepts only what email-validator accepts;
everything else (unicode, quoting, IP literals, Punycode, odd lengths) goes to
email-validator itself.

:func:`normalize_email` is what :class:`~contactsync.model.Contact` applies: strip
surrounding white space, validate, then lower-case the whole address, because
SendGrid and dotmailer store addresses lower-cased and one identity per person must
hold across providers. A domain given in ASCII stays ASCII: email-validator turns
``xn--mller-kva.de`` into ``müller.de``, which some providers refuse, so the given
(Punycode) form is kept; a domain given in Unicode is kept in Unicode (NFC).
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from contactsync.errors import InvalidEmail

__all__ = ["check", "is_valid", "normalize_email"]

_ATEXT = r"A-Za-z0-9_!#$%&'*+/=?^`{|}~-"
# A dot-atom local part and a dotted host name whose last label ends with a letter
# (email_validator.syntax: DOT_ATOM_TEXT, DOT_ATOM_TEXT_HOSTNAME, DOMAIN_NAME_REGEX). Labels are
# 1 to 63 letters, digits and hyphens here; _fast_lower refuses a hyphen at either end of one
# ("@-", ".-", "-."), which is quicker than asking the expression to backtrack over every label.
# No possessive quantifiers (Python 3.11+): dots are in neither character class, so the greedy
# ones cannot backtrack far.
_FAST_ADDRESS = re.compile(
    rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@(?:[A-Za-z0-9-]{{1,63}}\.)+[A-Za-z0-9-]{{0,62}}[A-Za-z]", re.ASCII
).fullmatch
# Top-level names email-validator rejects as special-use (its SPECIAL_USE_DOMAIN_NAMES).
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_SPECIAL_USE_ENDINGS = tuple(f".{tld}" for tld in sorted(_SPECIAL_USE_TLDS))
_CASE_INSENSITIVE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_MAX_LENGTH = 254


def _fast_lower(address: str) -> str | None:
    """``address`` lower-cased when the fast path can tell it is valid; None means "ask email-validator"."""
    if (
        len(address) <= _MAX_LENGTH
        and _FAST_ADDRESS(address) is not None
        and ("-" not in address or not ("--" in address or "-." in address or ".-" in address or "@-" in address))
    ):
        lowered = address.lower()
        if not lowered.endswith(_SPECIAL_USE_ENDINGS):
            return lowered
    return None


def check(address: str) -> str:
    """Validate ``address`` as given; return email-validator's normalised form, its domain kept in ASCII
    when it was given in ASCII (Punycode labels are not decoded).

    Raises :class:`~contactsync.errors.InvalidEmail` (a ``ValueError``) saying why.
    """
    if _fast_lower(address) is not None:
        local, _, domain = address.partition("@")
        if local.lower() in _CASE_INSENSITIVE_MAILBOXES:
            local = local.lower()
        return f"{local}@{domain.lower()}"
    try:
        validated = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"{address!r} is not a valid email address: {exc}", field="email") from None
    if address.rpartition("@")[2].isascii() and validated.ascii_domain:
        return f"{validated.local_part}@{validated.ascii_domain}"
    return str(validated.normalized)


def is_valid(address: str) -> bool:
    """True where email-validator would accept ``address``."""
    if _fast_lower(address) is not None:
        return True
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def normalize_email(raw: str) -> str:
    """Strip white space, validate, and lower-case: the one form contacts are keyed by."""
    if not isinstance(raw, str):
        raise InvalidEmail(f"{raw!r} is not a valid email address: it is not a string", field="email")
    address = raw.strip()
    return _fast_lower(address) or check(address).lower()
