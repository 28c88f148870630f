"""Outcome tracking: did the car get the worker to the job?

A check-in schedule per booked loan (months after booking, from ``OUTCOME_CHECK_IN_MONTHS``, and at
payoff), the answers (worker self-reports from the loan page, officer calls, employer confirmations,
pay stubs; append-only, corrections are new records), the staff list of due and overdue check-ins and
the outcome report for funders. ``operations`` is the only writer; ``report`` is plain arithmetic.

For other features: :func:`loanapp.outcomes.summary.outcome_summary` gives the report's headline for a
period (the funder pack), and ``check_in_schedule`` rows in state ``due`` whose ``state_since`` is a
day are the check-ins that became due that day (what a reminder message needs).
"""
