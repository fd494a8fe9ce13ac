"""Document parsing: recognised lines (text + box + score) -> document type and typed fields.

``labels`` matches OCR'd labels against the synonym table (``synonyms.yaml``, data), ``values``
validates and normalises values by type, ``layout`` pairs labels with values on a page (same
box, cell to the right, cell below, multi-line cells), ``amounts`` reads money as printed,
``totals`` checks a receipt's total against the cash, change and sums it prints (null when
unsure), ``doctypes`` names the document and its fields.
``modelplane_inference.documents.parsing.document.parse_document`` puts them together.
"""
