"""The templates app's error codes."""

from sent_project.errors import NotFound, SentError


class TemplateNotFound(NotFound, code="RESOURCE_002", status=404, message="Template not found"): ...


# The 409s: asking again gets the same answer, so the SDK is told not to retry.
class TemplateInReview(
    SentError,
    code="CONFLICT_006",
    status=409,
    message="Template is under review: its definition, category and language can't change "
    "and it can't be resubmitted until the review ends",
    retryable=False,
): ...


class TemplateInUse(
    SentError,
    code="CONFLICT_007",
    status=409,
    message="Template is used by messages that are still queued",
    retryable=False,
): ...


class TemplateNameTaken(
    SentError,
    code="RESOURCE_007",
    status=409,
    message="The resource already exists",
    retryable=False,
): ...


class TemplateTransitionRefused(
    SentError,
    code="TEMPLATE_002",
    status=409,
    message="This status change is not allowed for the template's status",
    retryable=False,
): ...


class TemplateParametersMissing(
    SentError, code="TEMPLATE_001", status=400, message="Template parameters are missing"
): ...


class TemplateChannelUnavailable(
    SentError,
    code="TEMPLATE_003",
    status=400,
    message="The template has no content for this channel",
): ...


# 400 like every other bad send request, not the 422 of the docs snapshot
# (docs/api/decisions.md#templates).
class TemplateNotApproved(
    SentError, code="BUSINESS_005", status=400, message="Template not approved for sending"
): ...
