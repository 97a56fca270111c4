from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "samverkan.audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        # Connects the receivers that record changes of reports, memberships, users and API tokens.
        from samverkan.audit import signals  # noqa: F401
