"""The loan-loss reserve ledger: double-entry, append-only, idempotent postings. No Flask here."""
