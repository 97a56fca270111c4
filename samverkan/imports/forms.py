from django import forms
from django.utils.translation import gettext_lazy as _

# Uploads larger than this are refused before they are stored.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 200 MB)."))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload
