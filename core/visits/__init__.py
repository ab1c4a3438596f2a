"""Visit plans and visits (issue 20: MD17 four priorities, MD25 monthly on-site visits, MD28 the
summary report)."""
