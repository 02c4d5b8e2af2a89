"""Seed 003's own examples (PHP and C#) upload against the sandbox; our client reads the import back."""

from __future__ import annotations

import requests

from contactsync import ImportStatus
from contactsync.providers.dotmailer.provider import DotmailerProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.dotmailer import DotmailerEmulator

CSV = (
    b"Email,FIRSTNAME,LASTNAME\r\n"
    b"user1@example.com,Bob,Smith\r\n"
    b"not-an-email,Nobody,Here\r\n"
    b"USER1@example.com,Bobby,Again\r\n"
    b"user2@example.com,Ann,Jones\r\n"
)


def _auth(emulator: DotmailerEmulator) -> tuple[str, str]:
    return emulator.username, emulator.password


def _read_back(client: DotmailerProvider, import_id: str) -> None:
    assert client.refresh(import_id).status is ImportStatus.RUNNING
    job = client.wait(import_id, timeout=10)
    assert (job.status, job.provider_status) == (ImportStatus.COMPLETED_WITH_ERRORS, "Finished")
    assert (job.created, job.updated, job.errored) == (2, 0, 2)
    errors = list(client.import_errors(job))
    assert sorted((e.provider_code, e.email) for e in errors) == [
        ("Duplicate", "USER1@example.com"),
        ("InvalidEmail", "not-an-email"),
    ]
    contact = client.get_contact("user1@example.com")
    assert contact is not None
    assert contact.properties == {"FIRSTNAME": "Bob", "LASTNAME": "Smith"}


def test_php_example_upload_is_read_back(
    dm_sandbox: Sandbox, emulator: DotmailerEmulator, client: DotmailerProvider
) -> None:
    # seed 003 (PHP): Basic auth, multipart POST, the part named 'file' with a filename, text/csv.
    response = requests.post(
        dm_sandbox.base_url("dotmailer") + "/v2/contacts/import",
        auth=_auth(emulator),
        files={"file": ("FileName.csv", CSV, "text/csv")},
        timeout=10,
    )
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status"}
    assert body["status"] == "NotFinished"
    _read_back(client, body["id"])


def test_csharp_example_upload_is_read_back(
    dm_sandbox: Sandbox, emulator: DotmailerEmulator, client: DotmailerProvider
) -> None:
    # seed 003 (C#): an 'attachment' disposition named fileData with FileName.csv, in multipart/form-data.
    boundary = "seed-003-boundary"
    body = (
        (
            f"--{boundary}\r\nContent-Type: text/csv\r\n"
            "Content-Disposition: attachment; filename=FileName.csv; name=fileData\r\n\r\n"
        ).encode()
        + CSV
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = requests.post(
        dm_sandbox.base_url("dotmailer") + "/v2/contacts/import",
        auth=_auth(emulator),
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "NotFinished"
    _read_back(client, response.json()["id"])


def test_upload_without_filename_is_refused(dm_sandbox: Sandbox, emulator: DotmailerEmulator) -> None:
    response = requests.post(
        dm_sandbox.base_url("dotmailer") + "/v2/contacts/import",
        auth=_auth(emulator),
        files={"file": (None, CSV)},
        timeout=10,
    )
    assert (response.status_code, response.json()) == (400, {"message": "file must be valid"})


def test_upload_without_email_column_is_refused(dm_sandbox: Sandbox, emulator: DotmailerEmulator) -> None:
    response = requests.post(
        dm_sandbox.base_url("dotmailer") + "/v2/contacts/import",
        auth=_auth(emulator),
        files={"file": ("x.csv", b"Name\r\nBob\r\n", "text/csv")},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["message"].endswith("ERROR_NO_EMAIL_COLUMN")


def test_upload_over_ten_megabytes_is_refused(dm_sandbox: Sandbox, emulator: DotmailerEmulator) -> None:
    big = b"Email\r\n" + b"a@example.com\r\n" * (10_000_000 // 15 + 1)
    response = requests.post(
        dm_sandbox.base_url("dotmailer") + "/v2/contacts/import",
        auth=_auth(emulator),
        files={"file": ("big.csv", big, "text/csv")},
        timeout=30,
    )
    assert response.status_code == 413
    assert "message" in response.json()


def test_wrong_credentials_get_the_v2_401(dm_sandbox: Sandbox) -> None:
    response = requests.get(dm_sandbox.base_url("dotmailer") + "/v2/address-books", auth=("x", "y"), timeout=10)
    assert (response.status_code, response.json()) == (
        401,
        {"message": "Authorization has been denied for this request."},
    )
