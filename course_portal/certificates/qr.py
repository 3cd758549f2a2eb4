"""QR codes for certificates: the verification URL as a PNG data: URI for an <img>."""

from __future__ import annotations

import segno

#: pixels per module; the PDF scales the image, and image-rendering keeps the edges sharp
MODULE_PIXELS = 4
#: the quiet zone that the QR standard asks for, in modules
QUIET_ZONE = 4


def qr_png_data_uri(url: str) -> str:
    """A data:image/png URI of a QR code (error correction M) that opens the URL."""
    # M survives a crease or a stain on a printed sheet and keeps the code small enough
    # for a phone camera at arm's length
    code = segno.make(url, error="m", micro=False)
    return code.png_data_uri(scale=MODULE_PIXELS, border=QUIET_ZONE, dark="#000", light="#fff")
