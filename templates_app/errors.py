"""The templates app's error codes (registered in the shared catalogue) and exceptions."""

from sent_project.errors import NotFound, SentError, register

NO_RETRY = {"x-should-retry": "false"}

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
# 400 like every other bad send request (issue 6), not the 422 of the docs snapshot.
register("BUSINESS_005", 400, "Template not approved for sending")


class _NoRetry(SentError):
    """A 409 the SDK must not retry (it retries every 409 unless told otherwise)."""

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("headers", dict(NO_RETRY))
        super().__init__(message, **kwargs)


class TemplateNotFound(NotFound):
    code = "RESOURCE_002"


class TemplateInReview(_NoRetry):
    code = "CONFLICT_006"


class TemplateInUse(_NoRetry):
    code = "CONFLICT_007"


class TemplateNameTaken(_NoRetry):
    code = "RESOURCE_007"


class TemplateTransitionRefused(_NoRetry):
    code = "TEMPLATE_002"


class TemplateParametersMissing(SentError):
    code = "TEMPLATE_001"


class TemplateChannelUnavailable(SentError):
    code = "TEMPLATE_003"


class TemplateNotApproved(SentError):
    code = "BUSINESS_005"
