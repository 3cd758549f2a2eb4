"""Signatures that still validate years later: the chain, the CRLs and a timestamp in the PDF.

A test CA and TSA answer on a loopback port (tests/certificates/pki.py). Each PDF is then
validated by pyHanko with only what the file carries, fetching nothing and failing hard on a
missing answer, as a validator would once the CA's servers are gone.
"""

from __future__ import annotations

import io

import pytest
from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore

from course_portal.certificates import filecheck, pdfs, services
from course_portal.certificates.pdf import CertificateError
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake
from tests.certificates.pki import PKIServer


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    server = PKIServer(tmp_path_factory.mktemp("pki"))
    yield server.start()
    server.stop()


def _settings(pki, **more):
    files = pki.files
    return {"SIGNING_KEY_PATH": str(files["key.pem"]), "SIGNING_CERT_PATH": str(files["cert.pem"]),
            "SIGNING_CHAIN_PATH": str(files["chain.pem"]), **more}


def _issue():
    certificate = services.issue_certificate(make_completed(make_finished_intake()),
                                             factories.make_user(role="coordinator"))
    db.session.commit()
    return certificate


def _root(pki):
    return x509.Certificate.load(pem.unarmor(pki.files["root.pem"].read_bytes())[2])


def _offline_context(reader, pki):
    """What a validator has years later: the root it trusts and what the file carries."""
    return DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": [_root(pki)], "allow_fetching": False, "revocation_mode": "hard-fail"})


def _subjects(certs) -> set[str]:
    return {c.subject.native["common_name"] for c in certs}


def test_a_signature_with_a_tsa_carries_what_validates_it_offline(make_app, pki):
    app = make_app(**_settings(pki, SIGNING_TSA_URL=pki.tsa_url))
    with app.app_context():
        pki.requests.clear()
        certificate = _issue()
        assert certificate.is_signed
        # the CRLs of both CAs were fetched from the addresses the certificates name
        assert {"/root.crl", "/intermediate.crl", "/tsa"} <= set(pki.requests)

        reader = PdfFileReader(io.BytesIO(certificate.pdf))
        dss = DocumentSecurityStore.read_dss(reader)
        assert _subjects(dss.load_certs()) >= {
            "SPbPU certificates (test)", "Test Issuing CA", "Test Root CA", "Test TSA"}
        assert len(dss.crls) == 2

        [signature] = reader.embedded_regular_signatures
        status = validate_pdf_signature(signature, _offline_context(reader, pki))
        assert status.bottom_line and status.trusted, status.pretty_print_details()
        # the signature's own timestamp, by a TSA the validator trusts
        assert status.timestamp_validity is not None
        assert status.timestamp_validity.intact and status.timestamp_validity.trusted
        # after it only validation data and the document timestamp were added (PAdES B-LTA)
        assert status.modification_level == ModificationLevel.LTA_UPDATES
        [document_timestamp] = reader.embedded_timestamp_signatures
        stamp = validate_pdf_timestamp(document_timestamp,
                                       validation_context=_offline_context(reader, pki))
        assert stamp.intact and stamp.valid and stamp.trusted


def test_verify_takes_the_added_validation_data_for_part_of_the_signed_file(make_app, pki):
    app = make_app(**_settings(pki, SIGNING_TSA_URL=pki.tsa_url))
    with app.app_context():
        certificate = _issue()
        answer = filecheck.check_file(certificate.pdf)
        assert answer.matches and answer.signature.holds
        assert "SPbPU certificates (test)" in answer.signature.signer
        # bytes appended after the last revision still break it
        appended = filecheck.check_file(certificate.pdf + b"\n% appended\n")
        assert not appended.matches and not appended.signature.holds


def test_without_a_tsa_the_chain_and_crls_are_still_embedded(make_app, pki):
    app = make_app(**_settings(pki))
    with app.app_context():
        reader = PdfFileReader(io.BytesIO(_issue().pdf))
        assert len(DocumentSecurityStore.read_dss(reader).crls) == 2
        assert reader.embedded_timestamp_signatures == []
        status = validate_pdf_signature(reader.embedded_regular_signatures[0],
                                        _offline_context(reader, pki))
        assert status.bottom_line and status.timestamp_validity is None


def test_a_tsa_that_does_not_answer_leaves_the_pdf_to_be_made_again(make_app, pki):
    app = make_app(**_settings(pki, SIGNING_TSA_URL=pki.url + "/nothing-here",
                               SIGNING_NETWORK_TIMEOUT=2))
    with app.app_context():
        certificate = _issue()
        # issued, its PDF still to make: the timed step certificates.finish_pdfs tries again
        assert certificate.pdf_size == 0 and not certificate.is_signed
        assert certificate in pdfs.pending_pdfs()
        app.config["SIGNING_TSA_URL"] = pki.tsa_url
        assert pdfs.pdf_bytes(certificate) is not None
        assert certificate.is_signed


def test_the_signing_failure_reads_in_the_portals_words(make_app, pki, tmp_path):
    from course_portal.certificates.signing import LongTerm, SigningFailed, sign_pdf

    with make_app().app_context():
        with pytest.raises(SigningFailed) as failed:
            sign_pdf(b"%PDF-1.7 not a pdf", pki.files["key.pem"], pki.files["cert.pem"],
                     long_term=LongTerm(chain=pki.files["chain.pem"]))
        assert isinstance(failed.value, CertificateError)
        assert "did not answer" in str(failed.value.message)


def test_doctor_says_what_the_signatures_carry(make_app, pki):
    from course_portal.ops import doctor

    with make_app(**_settings(pki, SIGNING_TSA_URL=pki.tsa_url)).app_context():
        found = doctor.check_pdf_signing()
        assert found.status == doctor.OK
        assert "SPbPU certificates (test)" in found.detail and pki.tsa_url in found.detail
    production = make_app(**_settings(pki))
    with production.app_context():
        production.config["ENV"] = "production"
        found = doctor.check_pdf_signing()
        assert found.status == doctor.WARN and "SIGNING_TSA_URL" in found.hint
    broken = make_app(**_settings(pki, SIGNING_CERT_PATH=str(pki.files["root.pem"]) + ".gone"))
    with broken.app_context():
        assert doctor.check_pdf_signing().status == doctor.FAIL
