"""Document reading: OCR helpers (detection/recognition), capture flattening, script routing,
Tesseract, and parsing recognised lines into typed fields."""
