"""The funder pack: the loan-level enrolment register and the claim packet, beside the monthly reserve
statement (``reserve.monthly_statement``, page in ``loanapp.reserve_admin``). Read-only: nothing here writes."""
