"""Static file names: hashed and compressed once collected, plain before.

``ivig serve`` runs ``collectstatic``, which writes each file under a name carrying a hash of
its content (cached by browsers for a year) with brotli and gzip copies beside it, and a
manifest mapping the names; WhiteNoise serves them. A process that never collected (the tests,
a helper process, a development checkout) has no manifest: it keeps the plain names, which
``ivig.web.views.static`` finds in the apps, instead of failing on every page.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    def stored_name(self, name: str) -> str:
        if not self.hashed_files:  # no manifest: collectstatic has not run for this folder
            return name
        try:
            return str(super().stored_name(name))
        except ValueError:  # a file added since the last collectstatic
            return name
