# Reports are deliberately not in the Django admin: every read of a report goes through accounts.access.
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.incidents.models import Category, FocusArea


@admin.register(FocusArea)
class FocusAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_sv", "name_en", "ordering", "active"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_sv",
        "name_en",
        "focus_area",
        "municipality",
        "active",
        "public",
        "valid_from",
        "valid_to",
        "retention",
    ]
    list_filter = ["focus_area", "active", "public", "municipality"]
    search_fields = ["code", "name_sv", "name_en"]
    fieldsets = [
        (None, {"fields": ["code", "name_sv", "name_en", "focus_area", "municipality", "ordering"]}),
        (_("Use"), {"fields": ["active", "public", "valid_from", "valid_to"]}),
        (_("Gallring"), {"fields": ["retention_months"]}),
    ]

    @admin.display(description=_("kept in full for (months)"), ordering="retention_months")
    def retention(self, category: Category) -> str:
        if category.retention_months is not None:
            return str(category.retention_months)
        return _("%(months)d (default)") % {"months": settings.SAMVERKAN_RETENTION_MONTHS}

    def formfield_for_dbfield(self, db_field: models.Field, request, **kwargs):
        if db_field.name == "retention_months":
            # Zero would anonymise every report of the category on the next run, whatever its age.
            kwargs["min_value"] = 1
            kwargs["help_text"] = _(
                "Empty: the site's default, now %(months)d months. After this, free text and reporter are removed "
                "and the place coarsened."
            ) % {"months": settings.SAMVERKAN_RETENTION_MONTHS}
        return super().formfield_for_dbfield(db_field, request, **kwargs)
