# Reports are deliberately not in the Django admin: every read of a report goes through accounts.access.
from django.contrib import admin

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
    ]
    list_filter = ["focus_area", "active", "public", "municipality"]
    search_fields = ["code", "name_sv", "name_en"]
