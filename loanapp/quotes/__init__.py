"""Payment estimates and Truth-in-Lending figures for a proposed loan, for workers and officers."""
