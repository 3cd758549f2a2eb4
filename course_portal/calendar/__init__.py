"""Calendar feeds: a teacher's private iCalendar feed of their dates, and each intake's public one."""
