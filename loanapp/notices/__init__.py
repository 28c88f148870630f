"""Notices to workers by email and SMS: the transactional outbox, its sender job, consent and templates.

``operations`` is the only module that writes the package's tables. Events reach it through the audit
trail (``loanapp.audit.trail.subscribe``): every state change already records an audit event in its own
transaction, so a notice queued from that hook commits or rolls back with the change that caused it.
"""
