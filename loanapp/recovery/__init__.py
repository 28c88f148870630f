"""Password recovery: a signed single-use email link or a 6-digit SMS code, and set-your-password links
for new staff accounts. ``operations`` is the only writer; the messages go out through ``loanapp.notices``.
"""
