"""The Mailjet emulator over raw HTTP: what the reference and seeds say Mailjet does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from contactsync.sandbox import Sandbox
from contactsync.sandbox.mailjet import MailjetEmulator


class Api:
    """Raw authenticated calls to the emulator."""

    def __init__(self, sandbox: Sandbox, emulator: MailjetEmulator) -> None:
        self.base = sandbox.base_url("mailjet")
        self.session = requests.Session()
        self.session.auth = (emulator.API_KEY, emulator.SECRET_KEY)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response.json()["Data"]


@pytest.fixture
def api(mj_sandbox: Sandbox, emulator: MailjetEmulator) -> Iterator[Api]:
    raw = Api(mj_sandbox, emulator)
    yield raw
    raw.session.close()


def _job_until(api: Api, path: str, final: str = "Completed") -> list[str]:
    seen: list[str] = []
    while not seen or seen[-1] != final:
        seen.append(api.data("GET", path)[0]["Status"])
        assert len(seen) < 10
    return seen


def test_wrong_credentials_get_the_documented_401(mj_sandbox: Sandbox) -> None:
    answer = requests.get(mj_sandbox.base_url("mailjet") + "/v3/REST/contactslist", auth=("a", "b"), timeout=10)
    assert answer.status_code == 401
    body = answer.json()
    assert body["StatusCode"] == 401 and "ErrorIdentifier" in body
    assert body["ErrorMessage"].startswith("API key authentication/authorization failure")


def test_rate_limited_answer_is_mailjets_error_shape(emulator: MailjetEmulator) -> None:
    answer = emulator.rate_limited(3)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert set(answer.get_json()) == {"ErrorInfo", "ErrorMessage", "StatusCode"}


def test_envelope_and_pagination(api: Api) -> None:
    for n in range(12):
        api.data("POST", "/v3/REST/contactslist", json={"Name": f"L{n}"})
    body = api.call("GET", "/v3/REST/contactslist").json()
    assert (body["Count"], body["Total"], len(body["Data"])) == (10, 10, 10), "Limit defaults to 10"
    page = api.data("GET", "/v3/REST/contactslist", params={"Limit": 5, "Offset": 10})
    assert [lst["Name"] for lst in page] == ["L10", "L11"]
    assert len(api.data("GET", "/v3/REST/contactslist", params={"Limit": 0})) == 12


def test_jobs_move_one_step_per_poll(api: Api) -> None:
    job = api.data("POST", "/v3/REST/contact/managemanycontacts", json={"Contacts": [{"Email": "a@example.com"}]})
    path = f"/v3/REST/contact/managemanycontacts/{job[0]['JobID']}"
    assert _job_until(api, path) == ["Upload", "Prepare", "Importing", "Completed"]


def test_upserts_are_idempotent_and_lower_cased(api: Api, emulator: MailjetEmulator) -> None:
    api.data("POST", "/v3/REST/contactmetadata", json={"Name": "city", "Datatype": "str", "NameSpace": "static"})
    for name, city in (("First", "Rome"), ("Second", None)):
        contact = {"Email": "Ada@Example.com", "Name": name, "Properties": {"city": city}}
        job = api.data("POST", "/v3/REST/contact/managemanycontacts", json={"Contacts": [contact]})
        _job_until(api, f"/v3/REST/contact/managemanycontacts/{job[0]['JobID']}")
    stored = emulator.contacts()
    assert [(c["Email"], c["Name"], c["Properties"]) for c in stored] == [("ada@example.com", "Second", {})]


def test_properties_must_be_defined_and_typed(api: Api) -> None:
    api.data("POST", "/v3/REST/contactmetadata", json={"Name": "age", "Datatype": "int", "NameSpace": "static"})
    contacts = [
        {"Email": "ok@example.com", "Properties": {"age": 3}},
        {"Email": "typed@example.com", "Properties": {"age": "three"}},
        {"Email": "undefined@example.com", "Properties": {"shoe": 42}},
        {"Email": "not-an-address"},
    ]
    job = api.data("POST", "/v3/REST/contact/managemanycontacts", json={"Contacts": contacts})[0]["JobID"]
    _job_until(api, f"/v3/REST/contact/managemanycontacts/{job}")
    record = api.data("GET", f"/v3/REST/contact/managemanycontacts/{job}")[0]
    assert record["ErrorFile"] and record["Count"] == 4
    errors = api.call("GET", f"/v3/DATA/batchjob/{job}/JSONError/application:json/LAST").json()
    assert [(e["Email"], e["Field"]) for e in errors] == [
        ("typed@example.com", "age"),
        ("undefined@example.com", "shoe"),
        ("not-an-address", "Email"),
    ]
    data = api.data("GET", "/v3/REST/contactdata/ok@example.com")[0]["Data"]
    assert data == [{"Name": "age", "Value": "3"}]


def test_list_actions_exact_effects(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    api.data("POST", "/v3/REST/contact", json={"Email": "a@example.com"})

    def act(action: str) -> list[tuple[bool, bool]]:
        body = {"ContactsLists": [{"ListID": lst, "Action": action}]}
        api.data("POST", "/v3/REST/contact/a@example.com/managecontactslists", json=body)
        found = api.data("GET", "/v3/REST/contact/a@example.com/getcontactslists")
        return [(r["IsActive"], r["IsUnsub"]) for r in found]

    assert act("addnoforce") == [(True, False)]
    assert act("unsub") == [(True, True)]
    assert act("addnoforce") == [(True, True)]
    assert act("addforce") == [(True, False)]
    assert act("remove") == []
    assert act("unsub") == [(True, True)]


def test_bad_list_items_get_the_object_error(api: Api) -> None:
    api.data("POST", "/v3/REST/contact", json={"Email": "a@example.com"})
    body = {"ContactsLists": [{"ListID": 404, "Action": "addforce"}]}
    answer = api.call("POST", "/v3/REST/contact/a@example.com/managecontactslists", json=body)
    assert answer.status_code == 400
    assert answer.json()["ErrorMessage"] == {
        "ContactsLists": [{"ListID": 404, "Action": "addforce", "Error": "listID missing or not valid"}]
    }


def test_unknown_body_keys_are_refused(api: Api) -> None:
    answer = api.call("POST", "/v3/REST/contact", json={"Contacts": []})
    assert answer.status_code == 400
    assert answer.json()["ErrorMessage"] == 'Invalid json input: object ""->"TContact" has no property "Contacts"'


def test_too_many_contacts_in_one_request(api: Api) -> None:
    contacts = [{"Email": f"c{n}@example.com"} for n in range(10_001)]
    answer = api.call("POST", "/v3/REST/contact/managemanycontacts", json={"Contacts": contacts})
    assert answer.status_code == 400 and answer.json()["StatusCode"] == 400


def test_csv_upload_needs_text_plain_and_a_list(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    path = f"/v3/DATA/contactslist/{lst}/CSVData/text:plain"
    wrong = api.call("POST", path, data=b"email\n", headers={"Content-Type": "application/json"})
    assert wrong.status_code == 400
    missing = api.call(
        "POST", "/v3/DATA/contactslist/999/CSVData/text:plain", data=b"email\n", headers={"Content-Type": "text/plain"}
    )
    assert missing.status_code == 404


def test_csv_error_file_and_duplicates(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    text = "email,age\na@example.com,1\na@example.com,2\nb@example.com\nnot-an-address,3\n"
    upload = api.call(
        "POST", f"/v3/DATA/contactslist/{lst}/CSVData/text:plain", data=text, headers={"Content-Type": "text/plain"}
    )
    body = {"ContactsListID": lst, "DataID": upload.json()["ID"], "Method": "addforce"}
    job = api.data("POST", "/v3/REST/csvimport", json=body)[0]["ID"]
    assert _job_until(api, f"/v3/REST/csvimport/{job}") == ["Prepare", "Importing", "Completed"]
    assert api.data("GET", f"/v3/REST/csvimport/{job}")[0]["Errcount"] == "3"
    lines = api.call("GET", f"/v3/DATA/BatchJob/{job}/CSVError/text:csv").text.splitlines()
    assert lines == [
        "email,age,error",
        "a@example.com,2, ###Duplicated email###email",
        "b@example.com, ###Too few columns at line",
        "not-an-address,3, ###Invalid email address###email",
    ]
    assert api.data("GET", "/v3/REST/contactmetadata")[0]["Name"] == "age", "unknown columns become str properties"


def test_exclusion_methods_take_no_list(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    upload = api.call(
        "POST",
        f"/v3/DATA/contactslist/{lst}/CSVData/text:plain",
        data="email\na@example.com\n",
        headers={"Content-Type": "text/plain"},
    )
    body = {"ContactsListID": lst, "DataID": upload.json()["ID"], "Method": "excludemarketing"}
    answer = api.call("POST", "/v3/REST/csvimport", json=body)
    assert answer.status_code == 400 and answer.json()["ErrorMessage"].startswith("MJ08")
    job = api.data("POST", "/v3/REST/csvimport", json={"DataID": upload.json()["ID"], "Method": "excludemarketing"})
    _job_until(api, f"/v3/REST/csvimport/{job[0]['ID']}")
    assert api.data("GET", "/v3/REST/contact/a@example.com")[0]["IsExcludedFromCampaigns"] is True


def test_abort_a_csv_import(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    upload = api.call(
        "POST",
        f"/v3/DATA/contactslist/{lst}/CSVData/text:plain",
        data="email\na@example.com\n",
        headers={"Content-Type": "text/plain"},
    )
    job = api.data(
        "POST", "/v3/REST/csvimport", json={"ContactsListID": lst, "DataID": upload.json()["ID"], "Method": "addforce"}
    )
    record = api.data("PUT", f"/v3/REST/csvimport/{job[0]['ID']}", json={"Status": "Abort"})[0]
    assert record["Status"] == "Abort"
    assert api.data("GET", f"/v3/REST/csvimport/{job[0]['ID']}")[0]["Status"] == "Abort"


def test_listrecipient_and_put_without_change(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    contact = api.data("POST", "/v3/REST/contact", json={"Email": "a@example.com", "Name": "A"})[0]["ID"]
    member = api.data("POST", "/v3/REST/listrecipient", json={"ContactID": contact, "ListID": lst})[0]
    assert (member["IsUnsubscribed"], member["ListName"]) == (False, "L")
    assert api.call("PUT", f"/v3/REST/contact/{contact}", json={"Name": "A"}).status_code == 304
    changed = api.data("PUT", f"/v3/REST/listrecipient/{member['ID']}", json={"IsUnsubscribed": True})[0]
    assert changed["IsUnsubscribed"] is True and changed["UnsubscribedAt"]
    assert api.call("DELETE", f"/v3/REST/listrecipient/{member['ID']}").status_code == 204
    assert api.data("GET", "/v3/REST/listrecipient", params={"ContactsList": lst}) == []


def test_managecontact_reports_property_errors_in_error_info(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    body = {"Email": "a@example.com", "Action": "addnoforce", "Properties": {"nope": 1}}
    answer = api.call("POST", f"/v3/REST/contactslist/{lst}/managecontact", json=body)
    assert answer.status_code == 400
    assert answer.json()["ErrorInfo"] == {"Properties": [{"nope": "Property not defined"}]}


def test_gdpr_delete(api: Api, emulator: MailjetEmulator) -> None:
    contact = api.data("POST", "/v3/REST/contact", json={"Email": "a@example.com"})[0]["ID"]
    assert api.call("DELETE", f"/v4/contacts/{contact}").status_code == 200
    assert emulator.contacts() == []


def test_a_csv_cell_over_pythons_field_limit_fails_the_job_instead_of_completing_empty(api: Api) -> None:
    lst = api.data("POST", "/v3/REST/contactslist", json={"Name": "L"})[0]["ID"]
    text = "email,note\na@example.com,short\nb@example.com," + "n" * 200_000 + "\n"  # over 128 KiB in one cell
    upload = api.call(
        "POST", f"/v3/DATA/contactslist/{lst}/CSVData/text:plain", data=text, headers={"Content-Type": "text/plain"}
    )
    body = {"ContactsListID": lst, "DataID": upload.json()["ID"], "Method": "addforce"}
    job = api.data("POST", "/v3/REST/csvimport", json=body)[0]["ID"]
    statuses = _job_until(api, f"/v3/REST/csvimport/{job}", final="Error")
    assert statuses[-1] == "Error" and "Completed" not in statuses
