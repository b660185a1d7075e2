"""Template review by the WhatsApp provider, behind one small interface.

WhatsApp (Meta) reviews every template before it may be sent; SMS needs no review. When a
template goes PENDING, `review_template` hands it to the reviewer of
`settings.WHATSAPP_PROVIDER`. A reviewer only ever sees content that abides by WhatsApp's
template rules: the submission checks them first (`templates_app.whatsapp_rules`) and a
breach rejects the WhatsApp leg without a review. The verdict comes back later through
`lifecycle.template_review_verdict`: the simulator schedules it as a task, Meta's Cloud API
sends it to our webhook. The Cloud API reviewer lives in the messaging app (a layer above,
next to the WhatsApp adapter and its accounts): `settings.TEMPLATES_WHATSAPP_REVIEWER` names
a factory that gives the reviewer for a template, or None to use `REVIEWERS`
(docs/architecture.md#turning-a-dependency-around).
"""

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from templates_app import definition as defn
from templates_app.models import Template
from templates_app.tasks import apply_template_verdict


@dataclass(frozen=True)
class ReviewSubmission:
    """What the provider told us when it accepted the template for review."""

    whatsapp_template_id: str
    whatsapp_template_name: str


class TemplateReviewer:
    name = "base"

    def submit(self, template: Template, *, review_id: int) -> ReviewSubmission:
        """Submit for review. Called inside the transaction that made the template PENDING;
        `review_id` identifies this review round for the verdict."""
        raise NotImplementedError


def whatsapp_template_name(template: Template) -> str:
    """Meta's naming rule: lowercase letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]+", "_", template.name.lower()).strip("_")[:512] or "template"


class SimulatorReviewer(TemplateReviewer):
    """Approves every valid template after `SIMULATOR_DELAYS["template_review"]` seconds ×
    `SIMULATOR_DELAY_SCALE`, and rejects, with a reason, a template whose text contains one
    of `SIMULATOR_TEMPLATE_BANNED_WORDS` (whole words, any case)."""

    name = "simulator"

    def verdict(self, template: Template) -> tuple[bool, str]:
        text = "\n".join(defn.definition_texts(template.definition))
        for word in settings.SIMULATOR_TEMPLATE_BANNED_WORDS:
            if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
                return False, (
                    f'The content mentions "{word}", which WhatsApp\'s commerce policy does '
                    "not allow (simulated review)."
                )
        return True, ""

    def submit(self, template: Template, *, review_id: int) -> ReviewSubmission:
        approved, reason = self.verdict(template)
        delay = settings.SIMULATOR_DELAYS["template_review"] * settings.SIMULATOR_DELAY_SCALE
        job = apply_template_verdict
        if delay > 0:
            job = job.using(run_after=timezone.now() + timedelta(seconds=delay))
        # Enqueued in the caller's transaction: the database backend makes it atomic with
        # the PENDING status, so a review is never lost nor run for a rolled-back submit.
        job.enqueue(
            template_id=str(template.pk), review_id=review_id, approved=approved, reason=reason
        )
        return ReviewSubmission(
            whatsapp_template_id=template.whatsapp_template_id or f"sim_{uuid.uuid4().hex[:16]}",
            whatsapp_template_name=whatsapp_template_name(template),
        )


REVIEWERS: dict[str, type[TemplateReviewer]] = {"simulator": SimulatorReviewer}


def needs_whatsapp_review(template: Template) -> bool:
    """Only content that can go out on WhatsApp is reviewed, and only when WhatsApp is on."""
    return bool(settings.WHATSAPP_PROVIDER) and "whatsapp" in template.channels


def reviewer(template: Template) -> TemplateReviewer:
    """The reviewer of `template`: the one `TEMPLATES_WHATSAPP_REVIEWER` gives for it (the
    WhatsApp account its customer sends from), else the one of `WHATSAPP_PROVIDER`."""
    factory = getattr(settings, "TEMPLATES_WHATSAPP_REVIEWER", "")
    chosen = import_string(factory)(template) if factory else None
    if chosen is not None:
        return chosen
    try:
        return REVIEWERS[settings.WHATSAPP_PROVIDER]()
    except KeyError:
        raise ImproperlyConfigured(
            f"No template reviewer for WHATSAPP_PROVIDER={settings.WHATSAPP_PROVIDER!r}"
        ) from None


def review_template(template: Template, *, review_id: int) -> ReviewSubmission:
    return reviewer(template).submit(template, review_id=review_id)
