"""The templates app's error codes (registered in the shared catalogue) and exceptions."""

from sent_project.errors import NotFound, SentError, register

register(
    "CONFLICT_006",
    409,
    "Template is under review: its definition, category and language can't change "
    "and it can't be resubmitted until the review ends",
)
register("CONFLICT_007", 409, "Template is used by messages that are still queued")
register("TEMPLATE_001", 400, "Template parameters are missing")
register("TEMPLATE_002", 409, "This status change is not allowed for the template's status")
register("TEMPLATE_003", 400, "The template has no content for this channel")
# 400 like every other bad send request, not the 422 of the docs snapshot
# (docs/api/decisions.md#templates).
register("BUSINESS_005", 400, "Template not approved for sending")


class TemplateNotFound(NotFound):
    code = "RESOURCE_002"


# The 409s: asking again gets the same answer, so the SDK is told not to retry.
class TemplateInReview(SentError):
    code = "CONFLICT_006"
    retryable = False


class TemplateInUse(SentError):
    code = "CONFLICT_007"
    retryable = False


class TemplateNameTaken(SentError):
    code = "RESOURCE_007"
    retryable = False


class TemplateTransitionRefused(SentError):
    code = "TEMPLATE_002"
    retryable = False


class TemplateParametersMissing(SentError):
    code = "TEMPLATE_001"


class TemplateChannelUnavailable(SentError):
    code = "TEMPLATE_003"


class TemplateNotApproved(SentError):
    code = "BUSINESS_005"
