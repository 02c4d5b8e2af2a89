"""Email validation: the same verdict as email-validator on every input, and the documented normalisation."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given
from hypothesis import strategies as st

from contactsync import Contact
from contactsync.emails import check, is_valid, normalize_email
from contactsync.errors import InvalidEmail

ATEXT = "abcxyzABCXYZ0189_!#$%&'*+/=?^`{|}~-"
LOCAL_CHARS = ATEXT + '."\\ @<>()[],;:éü你\u0301\u200b\t'
DOMAIN_CHARS = "abcxyzABCXYZ0189-.éü你_\u3002 "
TLDS = [
    "com",
    "org",
    "co.uk",
    "test",
    "local",
    "localhost",
    "onion",
    "arpa",
    "invalid",
    "x1",
    "c0m",
    "xn--p1ai",
    "ab--cd",
]


def reference(address: str) -> str | None:
    """email-validator's normalised form with a domain given in ASCII kept ASCII, or None when it rejects it."""
    try:
        validated = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return None
    if address.rpartition("@")[2].isascii():
        return f"{validated.local_part}@{validated.ascii_domain}"
    return str(validated.normalized)


label = st.one_of(
    st.text(alphabet=DOMAIN_CHARS, min_size=0, max_size=8),
    st.text(alphabet="abc1-", min_size=60, max_size=66),  # around the 63-octet label limit
    st.sampled_from(["xn--80ak6aa92e", "xn--", "ab--c", "a-", "-a", "A", "ÄBC"]),
)
domain = st.one_of(
    st.builds(
        lambda labels, tld: ".".join([*labels, tld]), st.lists(label, min_size=0, max_size=4), st.sampled_from(TLDS)
    ),
    st.builds(lambda d: d + ".", st.sampled_from(["example.com", "EXAMPLE.COM"])),  # trailing dot
    st.sampled_from(["[127.0.0.1]", "[IPv6:::1]", "[1.2.3]", "example", "-example.com", "exa..mple.com"]),
    st.text(alphabet=DOMAIN_CHARS, max_size=30),
)
local = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=20),
    st.text(alphabet=LOCAL_CHARS, min_size=0, max_size=12),
    st.text(alphabet="a", min_size=60, max_size=250),  # overall length limits
    st.sampled_from(['"quoted"', '"with space"', '"a\\"b"', "Info", "POSTMASTER", "a..b", ".a", "a."]),
)
addresses = st.one_of(
    st.builds(lambda lo, do: f"{lo}@{do}", local, domain),
    st.emails(),
    st.text(max_size=40),
    st.builds(lambda lo, do: f"Name <{lo}@{do}>", local, domain),
)


@given(addresses)
@example("jim@example.com")
@example("info@Example.COM")
@example("a@b.c0m")
@example("x@" + "a" * 63 + ".com")
@example("x@" + "a" * 64 + ".com")
@example(("a" * 64) + "@" + ".".join(["b" * 60] * 3) + ".com")
def test_verdict_and_normal_form_equal_email_validators(address: str) -> None:
    expected = reference(address)
    assert is_valid(address) is (expected is not None)
    if expected is None:
        with pytest.raises(InvalidEmail):
            check(address)
    else:
        assert check(address) == expected


def test_normalisation_strips_and_lower_cases() -> None:
    assert normalize_email("  Jim@Example.COM ") == "jim@example.com"


def test_unicode_addresses_are_normalised_too() -> None:
    assert normalize_email("Jürgen@Bücher.DE") == "jürgen@bücher.de"


@pytest.mark.parametrize("address", ["user@xn--mller-kva.de", "USER@XN--MLLER-KVA.DE", "jürgen@xn--bcher-kva.de"])
def test_a_domain_given_in_ascii_stays_ascii(address: str) -> None:
    """Issue 12, item 9: email-validator decodes Punycode (user@müller.de), which Mailjet then refuses."""
    assert normalize_email(address) == address.lower()
    assert Contact(address).email == address.lower()


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "a@@example.com", "", "a@example.test", "a b@example.com"])
def test_invalid_addresses_raise_a_value_error_naming_the_value(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a valid email address") as caught:
        normalize_email(bad)
    assert repr(bad) in str(caught.value)
    assert caught.value.field == "email"  # type: ignore[attr-defined]


def test_non_strings_are_refused() -> None:
    with pytest.raises(InvalidEmail, match="not a string"):
        normalize_email(42)  # type: ignore[arg-type]
