"""Progress through a course: schedule, attendance, results, the hours ledger and completion."""
