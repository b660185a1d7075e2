"""Copy the Redoc bundle of the pinned drf-spectacular-sidecar into static/vendor/redoc/, for
the API docs page (/docs/) to work offline: its one remote asset, the attribution logo Redoc
draws from its CDN, becomes an inline image, and the source-map reference is dropped (the map
is not shipped). Run after moving the sidecar's pin in pyproject.toml
(docs/operations.md#dependencies-and-the-lock-file); tests/sent_project/test_api_docs_offline.py
fails while the copy differs from what this makes."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandError

SOURCE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
LICENSE = "drf_spectacular_sidecar/redoc/LICENSE"
TARGET = Path(settings.BASE_DIR) / "static" / "vendor" / "redoc"
REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# A blank image in its place: the "API docs by Redocly" link stays, as text.
INLINE_LOGO = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
)
SOURCE_MAP = "\n//# sourceMappingURL=redoc.standalone.js.map"


def _sidecar_file(name: str) -> Path:
    for found in finders.find(name, find_all=True):
        if "drf_spectacular_sidecar" in str(found):
            return Path(found)
    raise CommandError(f"{name} not found: is drf-spectacular-sidecar installed?")


def vendored_bundle() -> str:
    """The bundle as static/vendor/redoc/redoc.standalone.js must hold it."""
    bundle = _sidecar_file(SOURCE).read_text(encoding="utf-8")
    if bundle.count(REMOTE_LOGO) != 1:
        raise CommandError(f"The sidecar's Redoc no longer draws {REMOTE_LOGO}: update this")
    return bundle.replace(REMOTE_LOGO, INLINE_LOGO).replace(SOURCE_MAP, "")


class Command(BaseCommand):
    help = "Copy the pinned sidecar's Redoc bundle into static/vendor/redoc/ (no remote asset)."

    def handle(self, *args, **options):
        TARGET.mkdir(parents=True, exist_ok=True)
        (TARGET / "redoc.standalone.js").write_text(vendored_bundle(), encoding="utf-8")
        (TARGET / "LICENSE").write_text(_sidecar_file(LICENSE).read_text(encoding="utf-8"))
        self.stdout.write(f"Wrote {TARGET / 'redoc.standalone.js'}")
