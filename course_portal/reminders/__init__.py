"""Reminders: emails at the right moment, in the reader's language and at a sensible local hour."""
