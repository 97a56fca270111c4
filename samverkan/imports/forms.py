from pathlib import PurePath

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

# The file types the importers read, and how each one's first bytes look: a file whose content does not match its
# name is refused before anything parses it.
TEXT_SUFFIXES = frozenset({".json", ".geojson", ".csv", ".tsv", ".txt"})
BINARY_MAGIC = {".xlsx": b"PK\x03\x04", ".gpkg": b"SQLite format 3\x00"}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.SAMVERKAN_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large (at most %(limit)s).") % {"limit": filesizeformat(limit)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        suffix = PurePath(upload.name or "").suffix.lower()
        allowed = sorted(TEXT_SUFFIXES | set(BINARY_MAGIC))
        if suffix not in allowed:
            raise forms.ValidationError(
                _("Files of type “%(suffix)s” cannot be imported; use one of %(allowed)s.")
                % {"suffix": suffix or "?", "allowed": ", ".join(allowed)}
            )
        upload.seek(0)
        head = upload.read(8192)
        upload.seek(0)
        magic = BINARY_MAGIC.get(suffix)
        if (magic is not None and not head.startswith(magic)) or (magic is None and b"\x00" in head):
            raise forms.ValidationError(
                _("The file's content is not what its name says (%(suffix)s).") % {"suffix": suffix}
            )
        return upload
