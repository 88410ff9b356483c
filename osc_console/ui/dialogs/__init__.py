"""Quick dialogs: new incident, assign, grade, close, reopen, amend, sign-in."""
