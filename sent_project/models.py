from django.db import models


class IdempotencyRecord(models.Model):
    """(customer, Idempotency-Key) → the first response, replayed for 24 h.

    A table, not a cache: the unique constraint is the lock that makes a concurrent
    duplicate wait (409) instead of running twice.
    """

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        COMPLETED = "completed"

    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_FLIGHT)
    request_id = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.BinaryField(null=True)
    created_at = models.DateTimeField()
    locked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="idempotency_customer_key"),
        ]
        indexes = [
            # idempotency_purge_expired: delete rows past retention.
            models.Index(fields=["created_at"], name="idempotency_created"),
        ]
