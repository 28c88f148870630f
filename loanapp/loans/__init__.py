"""Loans: an accepted offer booked with its Truth-in-Lending disclosure and reserve commitment."""
