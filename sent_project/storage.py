"""Static files when DEBUG is off: whitenoise's compressed, hashed names from the manifest
`collectstatic` writes. A file the manifest doesn't know (collectstatic not run yet, or run
before an upgrade added the file) gets its plain name instead of a 500 on every page that
links it (docs/operations.md#deploy); whitenoise serves it from the apps' directories."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: no file to hash
            return name
