"""Import pages: choose a kind, upload, read the dry-run report, confirm; progress is polled with htmx."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from samverkan.accounts.access import Action, access_import_record_by_id, can
from samverkan.imports import services
from samverkan.imports.forms import UploadForm
from samverkan.imports.models import ImportRecord, ImportStatus
from samverkan.imports.registry import available, importer_for


def _require_import(request: HttpRequest) -> None:
    if not can(request.user, Action.IMPORT):
        raise PermissionDenied


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    records = ImportRecord.objects.filter(user=request.user)[:50]
    return render(request, "imports/import_list.html", {"records": records, "importers": available().values()})


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest, kind: str) -> HttpResponse:
    _require_import(request)
    try:
        importer = importer_for(kind)
    except ValueError:
        raise Http404("No such import kind") from None
    if request.method == "POST":
        upload_form = UploadForm(request.POST, request.FILES)
        options_form = importer.form_class(request.POST, request.FILES, user=request.user)
        if upload_form.is_valid() and options_form.is_valid():
            options = {k: v for k, v in options_form.cleaned_data.items() if not hasattr(v, "chunks")}
            attachments = {k: v for k, v in options_form.cleaned_data.items() if hasattr(v, "chunks")}
            record = services.import_record_create(
                user=request.user,
                kind=kind,
                upload=upload_form.cleaned_data["file"],
                options=_jsonable(options),
                attachments=attachments,
            )
            services.import_record_start(record=record, dry_run=True)
            return redirect("imports:detail", record_id=record.pk)
    else:
        upload_form = UploadForm()
        options_form = importer.form_class(user=request.user)
    context = {"importer": importer, "forms": [upload_form, options_form]}
    return render(request, "imports/import_new.html", context)


def _jsonable(options: dict) -> dict:
    """Form values as JSON for the record: dates as ISO text, model instances as their ids."""

    def convert(value):
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if hasattr(value, "pk"):
            return value.pk
        if isinstance(value, list | tuple | QuerySet):
            return [convert(v) for v in value]
        return value

    return {key: convert(value) for key, value in options.items()}


@login_required
def import_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = access_import_record_by_id(request.user, record_id)
    running = record.status in (ImportStatus.PENDING, ImportStatus.RUNNING)
    context = {"record": record, "running": running, "importer": importer_for(record.kind)}
    template = "imports/import_detail.html#status" if request.htmx else "imports/import_detail.html"
    return render(request, template, context)


@login_required
@require_POST
def import_confirm(request: HttpRequest, record_id: int) -> HttpResponse:
    record = access_import_record_by_id(request.user, record_id)
    if record.status != ImportStatus.CHECKED or record.errors:
        messages.error(request, _("Only a checked import without errors can be confirmed."))
    else:
        services.import_record_start(record=record, dry_run=False)
    return redirect("imports:detail", record_id=record.pk)
