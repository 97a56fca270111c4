from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from samverkan.accounts.models import ApiToken, Membership, Organisation, User
from samverkan.accounts.otp import second_factor_remove


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    actions = ["remove_second_factor"]

    @admin.action(description=_("Remove two-factor devices (the user sets up a new app at the next log-in)"))
    def remove_second_factor(self, request, queryset):
        # For a lost phone: the user's app and backup codes stop working at once.
        users = list(queryset)
        for user in users:
            second_factor_remove(user=user)
        self.message_user(
            request,
            ngettext(
                "Removed the two-factor devices of %(count)d user.",
                "Removed the two-factor devices of %(count)d users.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["municipalities"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["user", "name", "revoked", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        # Tokens are created with `samverkan create_api_token`, which shows the key once; the admin only revokes.
        return False
