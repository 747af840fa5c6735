"""The LKS's team (issue 14 item 2): ``rights`` (the rights rows, used by account creation and log-in)
and ``team`` (invitations, rights changes and deactivation by the LKS's admin, every change audited)."""
