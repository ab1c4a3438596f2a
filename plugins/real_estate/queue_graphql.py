"""Placeholder: the reception queue's GraphQL (issue 21)."""

import strawberry


@strawberry.type
class QueueQuery:
    @strawberry.field(description="placeholder")
    def real_estate_queue_placeholder(self) -> bool:
        return True


QueueMutation = None
