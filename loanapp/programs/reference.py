"""The partnership as ../shared/PROGRAM.md describes it: seeded on every install, safe to run twice."""

from __future__ import annotations

from sqlalchemy import select

from loanapp.extensions import db
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram

# Employers that designed or hired from the Machine Operator Program.
PARTNER_EMPLOYERS = (
    "Advanced Central Services",
    "Associated Spring",
    "Berry Plastics",
    "Byrne Dairy",
    "Cryomech",
    "Dannon Tool",
    "Darco Manufacturing",
    "Falk Precision",
    "Midstate Spring",
    "PPC",
    "Precision Systems",
    "Tessy Plastics",
)

TRAINING_PROGRAMS = (
    (
        "Machine Operator Program",
        "Onondaga Community College",
        14,
        "Metalworking and foundational job skills: Machine Operator, Production Technician, CNC Operator, "
        "Mill Operator.",
    ),
    (
        "Manufacturing Career Readiness Program",
        "Work Train partners",
        None,
        "Short-term: soft skills plus basic hard skills for manufacturing work.",
    ),
)

REFERRAL_PARTNERS = (
    "CNY Works",
    "JobsPlus!",
    "Jubilee Homes",
    "Onondaga Community College",
    "Refugee Assistance Program",
    "Spanish Action League",
    "SUNY Educational Opportunity Center",
    "Syracuse Community Connections",
)


def seed_reference_lists() -> dict[str, int]:
    """Insert whatever of the partnership's lists is missing; returns how many rows were added per list."""
    added = {"employers": 0, "training_programs": 0, "referral_partners": 0}
    known = set(db.session.scalars(select(Employer.name)))
    for name in PARTNER_EMPLOYERS:
        if name not in known:
            db.session.add(Employer(name=name, partner=True, city="Central New York"))
            added["employers"] += 1
    known = set(db.session.scalars(select(TrainingProgram.name)))
    for name, provider, weeks, description in TRAINING_PROGRAMS:
        if name not in known:
            db.session.add(
                TrainingProgram(name=name, provider=provider, length_weeks=weeks, description=description)
            )
            added["training_programs"] += 1
    known = set(db.session.scalars(select(ReferralPartner.name)))
    for name in REFERRAL_PARTNERS:
        if name not in known:
            db.session.add(ReferralPartner(name=name))
            added["referral_partners"] += 1
    return added
