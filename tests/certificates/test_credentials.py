"""Certificates as Open Badges 3.0 credentials: signed, published keys, status list, checking.

Signatures are checked here through a second JOSE library (jwcrypto) with the key read from
the portal's DID document, as a verifier elsewhere would, not through the code that signed.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from jwcrypto import jwk, jws

from course_portal.certificates import credentials, services
from course_portal.extensions import db
from tests import factories
from tests.accounts.helpers import sign_in
from tests.certificates.helpers import make_completed, make_finished_intake


@pytest.fixture
def portal(make_app):
    application = make_app(BASE_URL="http://127.0.0.1:8000")
    with application.app_context():
        yield application


@pytest.fixture
def web(portal):
    return portal.test_client()


@pytest.fixture
def coordinator(portal):
    return factories.make_user(role="coordinator")


def issue(coordinator):
    """A certificate of Investment Ecosystem for 欧阳娜娜 OUYANG Nana (Оуян Нана)."""
    intake = make_finished_intake()
    application = make_completed(
        intake, family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
        given_name_latin="Nana", name_ru="Оуян Нана", email="nana@tsnu.edu.cn",
        phone="+86 138 0013 8000", wechat_id="nana_wx")
    certificate = services.issue_certificate(application, coordinator)
    db.session.commit()
    return certificate


@pytest.fixture
def certificate(coordinator):
    return issue(coordinator)


def parts(token: str) -> tuple[dict, dict]:
    """The header and the payload of a compact JWT, read without checking anything."""
    def decode(part):
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    header, payload, _signature = token.split(".")
    return decode(header), decode(payload)


def verified_elsewhere(web, token: str) -> dict:
    """The payload, once jwcrypto has checked the signature with the key of the DID document."""
    header, _ = parts(token)
    document = web.get("/.well-known/did.json").get_json()
    method = next(m for m in document["verificationMethod"] if m["id"] == header["kid"])
    assert header["kid"] in document["assertionMethod"]
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(jwk.JWK(**method["publicKeyJwk"]), alg="EdDSA")
    return json.loads(checked.payload)


def check(web, token: str):
    return web.post("/verify/credential", data={"credential": token})


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(response.get_data(as_text=True).split())


def status_bit(web, certificate) -> bool:
    """The certificate's entry in its status list, read as a verifier reads it."""
    entry = parts(web.get(f"/verify/{certificate.verification_code}/credential")
                  .get_data(as_text=True))[1]["credentialStatus"]
    path = "/" + entry["statusListCredential"].split("://", 1)[1].split("/", 1)[1]
    response = web.get(path)
    assert response.mimetype == "application/vc+jwt"
    status = verified_elsewhere(web, response.get_data(as_text=True))
    assert status["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = status["credentialSubject"]
    assert subject["statusPurpose"] == entry["statusPurpose"] == "revocation"
    bits = credentials.decode_bits(subject["encodedList"])
    assert len(bits) * 8 >= 131_072  # the list's minimum size: it tells nothing of the count
    return credentials.is_set(bits, int(entry["statusListIndex"]))


# --- what the teacher downloads ------------------------------------------------------------


def test_the_teacher_downloads_a_credential_that_another_library_verifies(web, certificate):
    teacher = certificate.application.teacher
    sign_in(web, teacher.email, factories.PASSWORD)
    page = web.get("/certificates").get_data(as_text=True)
    link = f"/certificates/{certificate.id}/credential"
    assert f'href="{link}"' in page and "Digital credential" in page

    response = web.get(link)
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    assert f'filename="{certificate.registry_number}.jwt"' in response.headers[
        "Content-Disposition"]
    token = response.get_data(as_text=True)
    header, _ = parts(token)
    assert header == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc",
                      "kid": "did:web:127.0.0.1%3A8000#key-1-" + header["kid"][-8:]}
    payload = verified_elsewhere(web, token)
    assert payload["id"] == f"http://127.0.0.1:8000/verify/{certificate.verification_code}"
    # nobody else downloads it from the teacher's page
    other = web.application.test_client()
    assert other.get(link).status_code in (302, 401)


def test_the_credential_states_the_certificate_in_open_badges_terms(web, certificate):
    token = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    vc = verified_elsewhere(web, token)

    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2",
                              "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert certificate.registry_number in vc["name"]
    issuer = vc["issuer"]
    assert issuer["id"] == "did:web:127.0.0.1%3A8000" and issuer["type"] == ["Profile"]
    assert issuer["name"] == "Peter the Great St. Petersburg Polytechnic University"
    assert vc["validFrom"] == certificate.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # the JWT's registered claims say what the credential says
    assert vc["iss"] == issuer["id"] and vc["jti"] == vc["id"]
    assert vc["nbf"] == int(certificate.issued_at.timestamp())

    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert [i["identityHash"] for i in subject["identifier"]] == [
        "欧阳娜娜", "OUYANG Nana", "Оуян Нана"]
    assert all(i["type"] == "IdentityObject" and i["identityType"] == "name"
               and i["hashed"] is False for i in subject["identifier"])
    assert subject["activityStartDate"] < subject["activityEndDate"] <= vc["validFrom"]
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["id"] == "http://127.0.0.1:8000/programs/IE"
    assert achievement["name"] == "Investment Ecosystem"
    assert achievement["criteria"]["narrative"].startswith("Completed the 72-hour programme")
    # the programme in three languages, its hours and the institute that runs it
    for words in ("«Инвестиционная экосистема» в объёме 72 академических часов",
                  "“投资生态系统”，共72学时", "“Investment Ecosystem”, 72 academic hours"):
        assert words in achievement["description"]
    assert achievement["creator"]["name"] == certificate.snapshot["institute_name_en"]
    assert achievement["creator"]["parentOrg"]["id"] == issuer["id"]
    assert vc["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert vc["credentialStatus"]["statusListIndex"] == str(certificate.id)

    # no contact data of the teacher's
    text = json.dumps(vc, ensure_ascii=False)
    for private in ("nana@tsnu.edu.cn", "138 0013 8000", "nana_wx"):
        assert private not in text


def test_the_did_document_follows_the_portals_address(make_app):
    application = make_app(BASE_URL="https://apply.spbstu.example/portal")
    with application.app_context():
        web = application.test_client()
        assert credentials.issuer_did() == "did:web:apply.spbstu.example:portal"
        # did:web puts a document of an address with a path at <path>/did.json
        assert credentials.did_document_path() == "/did.json"
        document = web.get("/did.json").get_json()
        assert document["id"] == "did:web:apply.spbstu.example:portal"
        assert document == web.get("/.well-known/did.json").get_json()
        [method] = document["verificationMethod"]
        assert method["publicKeyJwk"].keys() == {"kty", "crv", "x"}  # never the private "d"
        assert method["publicKeyJwk"]["crv"] == "Ed25519"


def test_the_verification_page_links_to_the_credential(web, certificate):
    page = web.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    assert f'href="/verify/{certificate.verification_code}/credential"' in page
    assert "Its digital credential (Open Badges 3.0)" in page


# --- revocation and re-issue -----------------------------------------------------------------


def test_revoking_sets_the_status_list_and_verify_says_revoked(web, certificate, coordinator):
    token = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    assert status_bit(web, certificate) is False
    assert f"This credential is certificate {certificate.registry_number}, valid" in page_of(
        check(web, token))

    services.revoke(certificate, coordinator, "Attendance records were falsified")
    db.session.commit()

    assert status_bit(web, certificate) is True
    page = page_of(check(web, token))
    assert "Revoked" in page and "valid, issued" not in page
    assert "Attendance records were falsified" in page


def test_a_reissue_marks_the_original_and_not_its_replacement(web, certificate, coordinator):
    replacement = services.reissue(certificate, coordinator, "Russian spelling corrected")
    db.session.commit()

    assert status_bit(web, certificate) is True
    assert status_bit(web, replacement) is False
    old = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    page = page_of(check(web, old))
    assert "Superseded" in page
    assert f'<a href="/verify/{replacement.verification_code}">' in page


def test_a_status_list_past_the_registry_is_not_found(web, certificate):
    assert web.get("/credentials/status/0").status_code == 200
    assert web.get("/credentials/status/1").status_code == 404
    assert web.get(f"/credentials/status/{2**64}").status_code == 404


# --- key rotation ----------------------------------------------------------------------------


def test_a_new_key_signs_new_credentials_and_the_old_ones_still_verify(web, certificate, portal):
    address = f"/verify/{certificate.verification_code}/credential"
    before = web.get(address).get_data(as_text=True)
    first = parts(before)[0]["kid"]

    result = portal.test_cli_runner().invoke(args=["certificates", "new-credential-key"])
    assert result.exit_code == 0, result.output
    assert "key-2-" in result.output and "earlier keys still verify: key-1-" in result.output

    after = web.get(address).get_data(as_text=True)
    second = parts(after)[0]["kid"]
    assert second != first and "#key-2-" in second
    # both verify, each with its own published key, at the portal and elsewhere
    document = web.get("/.well-known/did.json").get_json()
    assert [m["id"] for m in document["verificationMethod"]] == [first, second]
    for token in (before, after):
        assert verified_elsewhere(web, token)["id"].endswith(certificate.verification_code)
        assert "valid, issued" in page_of(check(web, token))
    # the earlier key keeps only its public half
    folder = credentials.key_folder()
    assert sorted(p.name for p in folder.iterdir()) == [
        first.split("#")[1] + ".pub.pem", second.split("#")[1] + ".pem"]
    assert (folder / (second.split("#")[1] + ".pem")).stat().st_mode & 0o077 == 0


# --- what is not the portal's ----------------------------------------------------------------


def _reencode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_a_credential_changed_after_signing_is_not_as_issued(web, certificate):
    token = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    header, payload = parts(token)
    payload["credentialSubject"]["identifier"][1]["identityHash"] = "LI Ming"
    forged = ".".join([token.split(".")[0], _reencode(payload), token.split(".")[2]])

    page = page_of(check(web, forged))
    assert "Not as issued" in page and "it was changed after it was signed" in page
    assert certificate.registry_number not in page


def test_a_credential_signed_by_another_key_is_not_the_portals(web, certificate):
    token = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    header, payload = parts(token)
    stranger = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    for kid in (header["kid"], "did:web:evil.example#key-1-20261204"):
        signed = jws.JWS(json.dumps(payload).encode())
        signed.add_signature(stranger, alg="EdDSA",
                             protected=json.dumps({**header, "kid": kid}))
        page = page_of(check(web, signed.serialize(compact=True)))
        assert "Not as issued" in page and certificate.registry_number not in page


def test_pasted_with_line_breaks_or_uploaded_as_a_file(web, certificate):
    token = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    wrapped = "\n".join(token[i:i + 60] for i in range(0, len(token), 60))
    assert "valid, issued" in page_of(check(web, f"  {wrapped}\r\n"))

    uploaded = web.post("/verify/credential", data={
        "file": (io.BytesIO(token.encode()), "IE-2026-0001.jwt")},
        content_type="multipart/form-data")
    page = page_of(uploaded)
    assert f"This credential is certificate {certificate.registry_number}, valid" in page
    assert "IE-2026-0001.jwt" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"credential": ""}, "Paste the credential, or choose its file."),
    ({"credential": "<script>alert(1)</script>{{ 7*7 }}"}, "This is not a credential as the "
                                                           "portal issues it"),
    ({"credential": "a.b.c"}, "This is not a credential as the portal issues it"),
    ({"credential": "x" * 70_000}, "This is far longer than a credential of the portal"),
    ({"credential": "eyJ\x00.a.b"}, "This is not a credential as the portal issues it"),
    ({"file": (io.BytesIO(b""), "empty.jwt")}, "The file is empty."),
    ({"file": (io.BytesIO(b"%PDF-1.7\n..."), "lying.jwt")}, "This is a PDF, not a credential"),
    ({"file": (io.BytesIO(b"\xff\xd8\xff\xe0JFIF"), "photo.jwt")},
     "This is not a credential as the portal issues it"),
    ({"file": (io.BytesIO(b"a" * 70_000), "big.jwt")},
     "This is far longer than a credential of the portal"),
])
def test_what_is_no_credential_gets_a_message(web, certificate, data, message):
    response = web.post("/verify/credential", data=data, content_type="multipart/form-data")
    page = page_of(response)
    assert message in page
    assert "<script>alert(1)</script>" not in page and "49" not in page.split("<form")[0]


def test_a_credential_check_keeps_what_was_typed_escaped(web):
    page = page_of(check(web, '<b onmouseover="x">1.2.3</b>'))
    assert "&lt;b onmouseover=&#34;x&#34;&gt;1.2.3&lt;/b&gt;" in page


def test_the_form_is_on_verify(web):
    page = web.get("/verify").get_data(as_text=True)
    assert 'action="/verify/credential"' in page and 'name="credential"' in page
    assert web.get("/verify/credential").headers["Location"].endswith("/verify#check-credential")


# --- without a key ---------------------------------------------------------------------------


def test_production_without_a_key_offers_no_credential_and_doctor_says_so(make_app, tmp_path):
    application = make_app()
    with application.app_context():
        certificate = issue(factories.make_user(role="coordinator"))
        application.config["ENV"] = "production"
        web = application.test_client()
        page = web.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
        assert "/credential" not in page
        assert web.get(f"/verify/{certificate.verification_code}/credential").status_code == 503
        from course_portal.ops import doctor

        found = doctor.check_credential_key()
        assert found.status == doctor.WARN
        assert "flask certificates new-credential-key" in found.hint
        assert not Path(application.instance_path, "credential-keys").exists()


def test_the_answer_pages_are_valid_html(web, certificate, tmp_path):
    from tests.test_valid_html import validator_errors

    token = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    files = []
    for name, text in (("genuine", token), ("forged", token[:-4] + "AAAA"), ("junk", "a.b")):
        for language in ("en", "zh", "ru"):
            path = tmp_path / f"{name}-{language}.html"
            answer = web.post("/verify/credential", data={"credential": text},
                              headers={"Accept-Language": language})
            assert answer.status_code == 200
            path.write_bytes(answer.get_data())
            files.append(path)
    assert "此数字凭证是证书" in (tmp_path / "genuine-zh.html").read_text()
    assert validator_errors(files) == []


# --- checking without the portal -------------------------------------------------------------


@pytest.mark.parametrize(("language", "words"), [
    ("en", "Signature is valid"), ("zh", "签名有效"), ("ru", "Подпись действительна")])
def test_the_page_on_checking_without_the_portal_is_in_the_readers_language(web, language,
                                                                            words):
    page = page_of(web.get("/verify/how", headers={"Accept-Language": language}))
    assert words in page
    assert "sha256sum file.pdf" in page and "certutil -hashfile file.pdf SHA256" in page
    assert "http://127.0.0.1:8000/.well-known/did.json" in page
    assert 'href="/verify/how"' in page_of(web.get("/verify", headers={
        "Accept-Language": language}))


def test_the_pages_own_instructions_check_a_credential_and_see_its_revocation(
        web, certificate, coordinator, tmp_path, monkeypatch):
    """The IT staff's snippet on /verify/how, run as printed, answers as the portal does."""
    import html
    import re
    import sys
    import types

    page = web.get("/verify/how").get_data(as_text=True)
    snippet = html.unescape(re.search(r'<pre class="code-sample"[^>]*><code>(.*?)</code></pre>',
                                      page, re.DOTALL).group(1))
    token = web.get(f"/verify/{certificate.verification_code}/credential").get_data(as_text=True)
    (tmp_path / "IE-2026-0003.jwt").write_text(token)
    monkeypatch.chdir(tmp_path)

    class Answer:
        def __init__(self, response):
            self.text = response.get_data(as_text=True)

        def json(self):
            return json.loads(self.text)

    def get(url):  # requests.get, answered by the portal's test client
        return Answer(web.get("/" + url.split("://", 1)[1].split("/", 1)[1]))

    monkeypatch.setitem(sys.modules, "requests", types.SimpleNamespace(get=get))

    def run() -> str:
        printed = []
        exec(compile(snippet, "verify-how", "exec"), {"print": printed.append})  # noqa: S102
        return printed[-1]

    assert run() == "valid"
    services.revoke(certificate, coordinator, "Attendance records were falsified")
    db.session.commit()
    assert run() == "revoked"
