"""Signals of the templates app, for the apps above it (which it must not import)."""

from django.dispatch import Signal

# Sent, inside the deleting transaction and with the template's row locked, before a template is
# deleted, with `template=`. A receiver answers True when something unfinished still needs the
# template (the messaging app: messages not yet handed to a provider); the delete is then
# refused with TemplateInUse.
template_in_use = Signal()
