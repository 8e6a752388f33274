"""Shared organisations: a member's screen (invite, leave, ask for verification), joining by
link or by request, the coordinators' verification and look-alikes, the directory of who acts
where, and the coordinators' map of gaps."""
