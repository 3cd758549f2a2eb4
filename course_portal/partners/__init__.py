"""Partner liaisons: read-only staff of one partner university who follow its teachers."""
