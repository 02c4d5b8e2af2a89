"""The Python examples of seeds 000/001, run through mailjet-rest against the sandbox; our client reads the result.

The examples are as published but for ``api_url``, the credentials, and the ``$PLACEHOLDERS``
filled with ids the sandbox handed out.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import requests
from mailjet_rest import Client

from contactsync import ImportStatus, Membership
from contactsync.providers.mailjet.provider import MailjetProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.mailjet import MailjetEmulator

CONTACTS = [
    {"Email": "jimsmith@example.com", "Name": "Jim", "Properties": {"Property1": "value", "Property2": "value2"}},
    {"Email": "janetdoe@example.com", "Name": "Janet", "Properties": {"Property1": "value", "Property2": "value2"}},
]
JOB_FIELDS = {"Status", "JobStart", "JobEnd", "Count", "Error", "ErrorFile"}
IMPORT_FIELDS = {
    "AliveAt",
    "ContactsListID",
    "Count",
    "Current",
    "DataID",
    "Errcount",
    "ErrTreshold",
    "ID",
    "ImportOptions",
    "JobEnd",
    "JobStart",
    "Method",
    "RequestAt",
    "Status",
}


def _account(mailjet: Client) -> tuple[int, int]:
    """Two lists and the seeds' two properties, made with the official client."""
    first = mailjet.contactslist.create(data={"Name": "Seed list 1"}).json()["Data"][0]["ID"]
    second = mailjet.contactslist.create(data={"Name": "Seed list 2"}).json()["Data"][0]["ID"]
    for name in ("Property1", "Property2"):
        created = mailjet.contactmetadata.create(data={"Datatype": "str", "Name": name, "NameSpace": "static"})
        assert created.status_code == 201
    return first, second


def _until_done(get: Any) -> dict[str, Any]:
    for _ in range(10):
        result = get()
        assert result.status_code == 200
        record: dict[str, Any] = result.json()["Data"][0]
        if record["Status"] in ("Completed", "Error", "Abort"):
            return record
    raise AssertionError("the job never finished")


def test_manage_many_contacts_then_job_information(official: Client, client: MailjetProvider) -> None:
    list_1, list_2 = _account(official)
    mailjet = official
    data = {
        "ContactsLists": [{"ListID": list_1, "action": "addnoforce"}, {"ListID": list_2, "action": "addforce"}],
        "Contacts": CONTACTS,
    }
    result = mailjet.contact_managemanycontacts.create(data=data)
    assert result.status_code == 201
    body = result.json()
    assert set(body) == {"Count", "Data", "Total"} and set(body["Data"][0]) == {"JobID"}
    job_id = body["Data"][0]["JobID"]

    result = mailjet.contact_managemanycontacts.get(action_id=job_id)
    assert result.status_code == 200
    assert set(result.json()["Data"][0]) >= JOB_FIELDS
    assert result.json()["Data"][0]["Status"] in ("Allocated", "Upload", "Prepare", "Importing")
    record = _until_done(lambda: mailjet.contact_managemanycontacts.get(action_id=job_id))
    assert record["Status"] == "Completed" and record["Count"] == 2 and record["ErrorFile"] == ""

    job = client.refresh(str(job_id))
    assert job.status is ImportStatus.COMPLETED and job.accepted == 2
    jim = client.get_contact("jimsmith@example.com")
    assert (
        jim is not None and jim.name == "Jim" and dict(jim.properties) == {"Property1": "value", "Property2": "value2"}
    )
    assert {m.list_id for m in client.get_subscriptions("janetdoe@example.com")} == {str(list_1), str(list_2)}


def test_manage_contact_subscriptions_then_lists_it_belongs_to(official: Client, client: MailjetProvider) -> None:
    list_1, list_2 = _account(official)
    official.contact.create(data={"Email": "jimsmith@example.com"})
    mailjet = official
    id = "jimsmith@example.com"
    data = {
        "ContactsLists": [
            {"ListID": str(list_1), "Action": "addnoforce"},
            {"ListID": str(list_2), "Action": "addforce"},
        ]
    }
    result = mailjet.contact_managecontactslists.create(id=id, data=data)
    assert result.status_code == 201
    assert result.json()["Data"][0]["ContactsLists"] == data["ContactsLists"]

    result = mailjet.contact_getcontactslists.get(id=id)
    assert result.status_code == 200
    records = result.json()["Data"]
    assert all(set(r) == {"ListID", "IsActive", "IsUnsub", "SubscribedAt"} for r in records)
    assert sorted(r["ListID"] for r in records) == [list_1, list_2]

    memberships = client.get_subscriptions(id)
    assert sorted(m.list_id for m in memberships) == [str(list_1), str(list_2)]
    assert all(isinstance(m, Membership) and m.subscribed and m.subscribed_at is not None for m in memberships)


def test_manage_many_contacts_of_one_list(official: Client, client: MailjetProvider, emulator: MailjetEmulator) -> None:
    list_1, _ = _account(official)
    mailjet = official
    id = str(list_1)
    data = {"Action": "addnoforce", "Contacts": CONTACTS}
    result = mailjet.contactslist_ManageManyContacts.create(id=id, data=data)
    assert result.status_code == 201
    job_id = result.json()["Data"][0]["JobID"]

    # seed 001 passes ``actionid`` (a typo for ``action_id``, reference §7); mailjet-rest drops it and
    # asks for the list's jobs, which the sandbox lists.
    result = mailjet.contactslist_managemanycontacts.get(id=id, actionid=str(job_id))
    assert result.status_code == 200
    assert [r["JobID"] for r in result.json()["Data"]] == [job_id]
    record = _until_done(lambda: mailjet.contactslist_managemanycontacts.get(id=id, action_id=job_id))
    assert set(record) >= JOB_FIELDS and record["Status"] == "Completed"

    assert client.refresh(f"contactslist:{list_1}:{job_id}").status is ImportStatus.COMPLETED
    assert sorted(c["Email"] for c in emulator.contacts(str(list_1))) == [
        "janetdoe@example.com",
        "jimsmith@example.com",
    ]


def test_csv_upload_import_and_error_file(official: Client, client: MailjetProvider, mj_sandbox: Sandbox) -> None:
    list_1, _ = _account(official)
    official.contactmetadata.create(data={"Datatype": "int", "Name": "age", "NameSpace": "static"})
    mailjet = official
    csv_text = '"email","age"\n"foo@example.org",42\n"bar@example.com"\n"sam@ple.co.uk",37\n'  # seed 000
    result = mailjet.contactslist_csvdata.create(id=str(list_1), data=csv_text)
    assert result.status_code == 200
    assert set(result.json()) == {"ID"}
    data_id = result.json()["ID"]

    data = {"ContactsListID": str(list_1), "DataID": str(data_id), "Method": "addnoforce"}
    result = mailjet.csvimport.create(data=data)
    assert result.status_code == 201
    created = result.json()["Data"][0]
    assert set(created) == IMPORT_FIELDS and created["Status"] == "Upload"

    id = str(created["ID"])
    record = _until_done(lambda: mailjet.csvimport.get(id=id))
    assert set(record) == IMPORT_FIELDS
    assert (record["Status"], record["Errcount"], record["Count"]) == ("Completed", "1", "3")

    error_file = mailjet.batchjob_csverror.get(id=id)
    assert error_file.status_code == 200
    assert error_file.text.splitlines() == ["email,age,error", "bar@example.com, ###Too few columns at line"]

    job = client.refresh(f"csvimport:{id}")
    assert job.status is ImportStatus.COMPLETED_WITH_ERRORS and job.errored == 1
    errors = list(client.import_errors(job))
    assert [(e.email, e.message) for e in errors] == [("bar@example.com", "Too few columns at line")]
    foo = client.get_contact("foo@example.org")
    assert foo is not None and foo.properties["age"] == 42


def test_csv_import_with_datetime_options(official: Client, client: MailjetProvider) -> None:
    list_1, _ = _account(official)
    official.contactmetadata.create(data={"Datatype": "datetime", "Name": "birthday", "NameSpace": "static"})
    mailjet = official
    csv_text = '"foo@example.org",2018/10/12\n"bar@example.com",2016/10/12\n"sam@ple.co.uk",2017/10/12\n'
    data_id = mailjet.contactslist_csvdata.create(id=str(list_1), data=csv_text).json()["ID"]
    data = {
        "ContactsListID": str(list_1),
        "DataID": str(data_id),
        "Method": "addnoforce",
        "ImportOptions": '{"DateTimeFormat": "yyyy/mm/dd","TimezoneOffset": 2,"FieldNames": ["email","birthday"]}',
    }
    result = mailjet.csvimport.create(data=data)
    assert result.status_code == 201
    id = result.json()["Data"][0]["ID"]
    result = mailjet.csvimport.get(id=id)
    assert result.status_code == 200 and set(result.json()["Data"][0]) == IMPORT_FIELDS
    assert _until_done(lambda: mailjet.csvimport.get(id=id))["Errcount"] == "0"

    sam = client.get_contact("sam@ple.co.uk")
    assert sam is not None
    assert sam.properties["birthday"] == datetime(2017, 10, 11, 22, 0, tzinfo=timezone.utc)  # 00:00 at UTC+2


def test_json_error_file_by_plain_get(
    official: Client, client: MailjetProvider, mj_sandbox: Sandbox, emulator: MailjetEmulator
) -> None:
    """Seed 001: "not available in Python, please refer to Curl": the JSONError file by a raw GET."""
    _account(official)
    contacts = [*CONTACTS, {"Email": "not an address"}, {"Email": "x@example.com", "Properties": {"Nope": 1}}]
    job_id = official.contact_managemanycontacts.create(data={"Contacts": contacts}).json()["Data"][0]["JobID"]
    record = _until_done(lambda: official.contact_managemanycontacts.get(action_id=job_id))
    assert record["ErrorFile"]
    url = f"{mj_sandbox.base_url('mailjet')}/v3/DATA/batchjob/{job_id}/JSONError/application:json/LAST"
    answer = requests.get(url, auth=(emulator.API_KEY, emulator.SECRET_KEY), timeout=10)
    assert answer.status_code == 200
    assert [entry["Email"] for entry in answer.json()] == ["not an address", "x@example.com"]

    job = client.refresh(str(job_id))
    assert (job.status, job.accepted, job.errored) == (ImportStatus.COMPLETED_WITH_ERRORS, 2, 2)
    errors = list(client.import_errors(job))
    assert [(e.email, e.field) for e in errors] == [("not an address", "Email"), ("x@example.com", "Nope")]
