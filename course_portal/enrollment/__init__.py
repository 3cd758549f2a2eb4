"""Applications and enrollment: drafts, documents, decisions, seats and the waiting list."""
