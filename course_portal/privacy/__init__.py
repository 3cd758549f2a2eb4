"""What a person may ask of the portal about their own data: a copy of everything it holds."""
