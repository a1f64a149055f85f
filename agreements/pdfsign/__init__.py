"""Signed PDFs for executed agreements: the signing key (``keys``), the seal (``seal``) and the
check of an uploaded file (``verify``). Import the module you need; each pulls in pyHanko."""
