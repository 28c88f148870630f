"""The public home page, the language switch, and each role's landing page."""
