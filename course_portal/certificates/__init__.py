"""Certificates of advanced training: frozen trilingual PDFs with registry numbers and QR codes."""
