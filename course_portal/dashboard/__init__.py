"""The coordinators' dashboard: figures, charts, the intake overview, reports and bulk email."""
