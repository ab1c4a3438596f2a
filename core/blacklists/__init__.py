"""The blacklist engine (issue 20, MD13–MD16): company- and department-scoped entries with a
reason, evidence, a proposer and a different approver, an expiry, a filing notice to the company
level, lifting, expiry by the tick, and the check every business action makes first."""
