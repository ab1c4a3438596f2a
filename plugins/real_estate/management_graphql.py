"""Placeholder: follow-ups, campaigns, violations and reports over GraphQL (issue 21)."""

import strawberry


@strawberry.type
class ManagementQuery:
    @strawberry.field(description="placeholder")
    def real_estate_management_placeholder(self) -> bool:
        return True


ManagementMutation = None
