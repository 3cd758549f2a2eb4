"""PAdES signing: the development key pair, signed issuing, validation, a one-byte change."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_portal.certificates import services
from course_portal.certificates.signing import check_signature, make_dev_key_pair, sign_pdf
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("signing")
    key, cert = folder / "key.pem", folder / "cert.pem"
    make_dev_key_pair(key, cert, "Test signer")
    return key, cert


def test_the_dev_key_is_ec_p256_and_self_signed(key_pair):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(key_pair[0].read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(key_pair[1].read_bytes())
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert cert.issuer == cert.subject
    assert oct(key_pair[0].stat().st_mode & 0o777) == "0o600"


def test_a_signed_pdf_validates_and_a_one_byte_change_is_detected(certificate_pdf, key_pair):
    signed = sign_pdf(certificate_pdf, *key_pair)

    check = check_signature(signed, key_pair[1])
    assert check is not None and check.ok, check
    assert "Test signer" in check.signer

    tampered = bytearray(signed)
    # a byte inside the signed content: the page's stream, not the signature value
    position = signed.index(b"stream") + 20
    tampered[position] ^= 0x01
    broken = check_signature(bytes(tampered), key_pair[1])
    assert broken is not None and not broken.intact and not broken.ok


def test_bytes_appended_after_the_signature_are_detected(certificate_pdf, key_pair):
    signed = sign_pdf(certificate_pdf, *key_pair)
    check = check_signature(signed + b"\n% appended\n", key_pair[1])
    assert check is not None and not check.covers_whole_file and not check.ok


def test_an_unsigned_pdf_has_no_signature(certificate_pdf, key_pair):
    assert check_signature(certificate_pdf, key_pair[1]) is None


def test_another_root_does_not_trust_the_signature(certificate_pdf, key_pair, tmp_path):
    other_key, other_cert = tmp_path / "k.pem", tmp_path / "c.pem"
    make_dev_key_pair(other_key, other_cert, "Someone else")
    check = check_signature(sign_pdf(certificate_pdf, *key_pair), other_cert)
    assert check is not None and check.intact and not check.trusted


def test_issuing_signs_when_a_key_is_configured(make_app, key_pair):
    app = make_app(SIGNING_KEY_PATH=str(key_pair[0]), SIGNING_CERT_PATH=str(key_pair[1]))
    with app.app_context():
        coordinator = factories.make_user(role="coordinator")
        application = make_completed(make_finished_intake())
        certificate = services.issue_certificate(application, coordinator)
        db.session.commit()
        assert certificate.is_signed
        check = check_signature(certificate.pdf, key_pair[1])
        assert check is not None and check.ok


def test_issuing_without_a_key_leaves_the_pdf_unsigned(app, key_pair):
    coordinator = factories.make_user(role="coordinator")
    certificate = services.issue_certificate(make_completed(make_finished_intake()), coordinator)
    assert not certificate.is_signed
    assert check_signature(certificate.pdf, key_pair[1]) is None


def test_the_command_writes_a_usable_pair(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["certificates", "make-dev-signing-key", "--dir", str(tmp_path / "sig")])
    assert result.exit_code == 0, result.output
    assert "COURSE_PORTAL_SIGNING_KEY_PATH=" in result.output
    again = app.test_cli_runner().invoke(
        args=["certificates", "make-dev-signing-key", "--dir", str(tmp_path / "sig")])
    assert again.exit_code != 0 and "--force" in again.output

