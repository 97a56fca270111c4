from django.contrib import admin

from samverkan.places.geo import bbox_of
from samverkan.places.models import Area, Municipality


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "county", "geometry_approximate"]
    search_fields = ["name", "code"]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "municipality", "valid_from", "valid_to", "approximate"]
    list_filter = ["kind", "municipality", "approximate"]
    search_fields = ["name", "code"]

    def save_model(self, request, obj, form, change):
        obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat = bbox_of(obj.geometry)
        super().save_model(request, obj, form, change)
