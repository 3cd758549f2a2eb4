"""What every feature uses: permissions, errors, text rules, the outbox, languages."""
