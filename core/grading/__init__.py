"""The grading engine (issue 20): grade scales from a vertical's grading scheme, facts, review runs
with caps and separation of duties, required-change deadlines enforced by the tick, overrides and
each customer's grade history."""
