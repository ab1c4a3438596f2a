"""Messages kehu sends to customers on a tenant's behalf. ``sms``: the pluggable SMS sender (a
small protocol; the default only logs, never the number in clear) and ``send_customer_sms``, which
sends one customer a text only when the customer's consent for the purpose holds."""

from core.messaging.sms import (
    LogOnlySender,
    SmsOutcome,
    SmsSender,
    current_sender,
    mask_phone,
    send_customer_sms,
    use_sender,
)

__all__ = ["LogOnlySender", "SmsOutcome", "SmsSender", "current_sender", "mask_phone", "send_customer_sms",
           "use_sender"]
