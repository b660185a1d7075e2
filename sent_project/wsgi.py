import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sent_project.settings")
application = get_wsgi_application()


def _freeze_what_is_loaded() -> None:
    """Import every view now, then take everything loaded so far out of the garbage
    collector's rounds (`gc.freeze`): modules, classes, settings and URL patterns live as long
    as the process, yet every full collection walked them all again. A 1,000-recipient send
    makes enough objects to run several, about a third of its time before this
    (docs/operations.md#gc-freeze). Under gunicorn's preload_app this runs in the arbiter
    before it forks, so the workers inherit it frozen (the collector no longer touches those
    objects; reference counts still do)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the lazy import is the point
    gc.collect()
    gc.freeze()


_freeze_what_is_loaded()
