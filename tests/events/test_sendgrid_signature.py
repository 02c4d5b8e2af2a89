"""SendGrid's Signed Event Webhook: the published vectors, one changed byte, the tolerance, the key forms."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from contactsync.errors import ConfigurationError, InvalidSignature
from contactsync.events import sendgrid
from contactsync.sandbox.webhooks import SigningKey
from tests.events import vectors


def _key(text: str) -> ec.EllipticCurvePublicKey:
    key = sendgrid.load_key(text)
    assert key is not None
    return key


KEY = _key(vectors.PUBLIC_KEY)


def _headers(signature: str = vectors.SIGNATURE, timestamp: str = vectors.TIMESTAMP) -> dict[str, str]:
    return {sendgrid.SIGNATURE_HEADER: signature, sendgrid.TIMESTAMP_HEADER: timestamp}


def _verify(headers: dict[str, str], body: bytes, key: ec.EllipticCurvePublicKey = KEY) -> None:
    sendgrid.verify(headers, body, key, tolerance=None)


def test_the_published_vector_verifies() -> None:
    _verify(_headers(), vectors.PAYLOAD)


def test_the_original_vector_verifies_with_its_own_key() -> None:
    key = _key(vectors.B_PUBLIC_KEY)
    _verify(_headers(vectors.B_SIGNATURE, vectors.B_TIMESTAMP), vectors.B_PAYLOAD, key)


@given(position=st.integers(0, len(vectors.PAYLOAD) - 1), delta=st.integers(1, 255))
def test_any_change_to_one_byte_of_the_body_fails(position: int, delta: int) -> None:
    changed = bytearray(vectors.PAYLOAD)
    changed[position] = (changed[position] + delta) % 256
    with pytest.raises(InvalidSignature):
        _verify(_headers(), bytes(changed))


@given(position=st.integers(0, len(vectors.TIMESTAMP) - 1), digit=st.sampled_from("0123456789"))
def test_any_change_to_one_digit_of_the_timestamp_fails(position: int, digit: str) -> None:
    if vectors.TIMESTAMP[position] == digit:
        digit = str((int(digit) + 1) % 10)
    changed = vectors.TIMESTAMP[:position] + digit + vectors.TIMESTAMP[position + 1 :]
    with pytest.raises(InvalidSignature):
        _verify(_headers(timestamp=changed), vectors.PAYLOAD)


def test_the_body_without_its_trailing_crlf_fails() -> None:
    with pytest.raises(InvalidSignature):
        _verify(_headers(), vectors.PAYLOAD.rstrip(b"\r\n"))


def test_the_wrong_key_fails() -> None:
    wrong = _key(vectors.WRONG_KEY)
    with pytest.raises(InvalidSignature, match="does not verify"):
        _verify(_headers(), vectors.PAYLOAD, wrong)


def test_another_requests_signature_fails() -> None:
    with pytest.raises(InvalidSignature):
        _verify(_headers(signature=vectors.WRONG_SIGNATURE), vectors.PAYLOAD)


def test_a_word_for_a_timestamp_fails() -> None:
    with pytest.raises(InvalidSignature, match="not a Unix time"):
        _verify(_headers(timestamp="timestamp"), vectors.PAYLOAD)


def test_a_signature_that_is_not_base64_fails() -> None:
    with pytest.raises(InvalidSignature, match="not base64"):
        _verify(_headers(signature="not base64!"), vectors.PAYLOAD)


def test_base64_that_is_not_a_der_signature_fails() -> None:
    with pytest.raises(InvalidSignature, match="does not verify"):
        _verify(_headers(signature=base64.b64encode(b"garbage").decode()), vectors.PAYLOAD)


@pytest.mark.parametrize("missing", [sendgrid.SIGNATURE_HEADER, sendgrid.TIMESTAMP_HEADER])
def test_an_unsigned_request_fails(missing: str) -> None:
    headers = _headers()
    del headers[missing]
    with pytest.raises(InvalidSignature, match="not signed"):
        _verify(headers, vectors.PAYLOAD)


def test_headers_are_found_in_any_case() -> None:
    _verify({name.lower(): value for name, value in _headers().items()}, vectors.PAYLOAD)


def test_a_text_body_verifies_as_its_utf8_bytes() -> None:
    sendgrid.verify(_headers(), vectors.PAYLOAD.decode("utf-8"), KEY, tolerance=None)


def test_the_published_vector_is_refused_as_stale_by_the_default_tolerance() -> None:
    with pytest.raises(InvalidSignature, match="beyond the tolerance of 300 s"):
        sendgrid.verify(_headers(), vectors.PAYLOAD, KEY)


@pytest.mark.parametrize("offset", [timedelta(minutes=-4), timedelta(0), timedelta(minutes=4)])
def test_a_fresh_signature_within_the_tolerance_verifies(offset: timedelta) -> None:
    signer = SigningKey()
    key = _key(signer.public_key)
    body = b'[{"event":"unsubscribe"}]'
    sendgrid.verify(signer.headers(body, datetime.now(timezone.utc) + offset), body, key)


@pytest.mark.parametrize(("offset", "word"), [(timedelta(minutes=-6), "old"), (timedelta(minutes=6), "ahead")])
def test_a_signature_outside_the_tolerance_fails(offset: timedelta, word: str) -> None:
    signer = SigningKey()
    key = _key(signer.public_key)
    body = b"[]"
    with pytest.raises(InvalidSignature, match=word):
        sendgrid.verify(signer.headers(body, datetime.now(timezone.utc) + offset), body, key)


def test_the_tolerance_is_configurable() -> None:
    signer = SigningKey()
    body = b"[]"
    headers = signer.headers(body, datetime.now(timezone.utc) - timedelta(hours=2))
    settings = sendgrid.Settings(verification_key=signer.public_key, tolerance=3 * 3600)
    assert sendgrid.parse(headers, body, settings) == []


def test_a_pem_key_loads_like_the_base64_der_one() -> None:
    pem = (
        serialization.load_der_public_key(base64.b64decode(vectors.PUBLIC_KEY))
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    loaded = _key(pem)
    assert loaded.public_numbers() == KEY.public_numbers()


@pytest.mark.parametrize("bad", ["not a key", base64.b64encode(b"not DER").decode(), 42])
def test_a_bad_verification_key_is_a_configuration_error(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="verification key"):
        sendgrid.load_key(bad)


def test_a_key_on_another_curve_is_a_configuration_error() -> None:
    other = ec.generate_private_key(ec.SECP384R1()).public_key()
    with pytest.raises(ConfigurationError, match="not P-256"):
        sendgrid.load_key(other)


def test_a_negative_tolerance_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="negative"):
        sendgrid.Settings(verification_key=None, tolerance=-1)
