from django.conf import settings
from django.http import HttpRequest

from samverkan.accounts.access import Action, can, can_search_audit, can_see_pictures
from samverkan.accounts.otp import needs_second_factor
from samverkan.incidents.models import Incident, Source


def site(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    # Until the second factor is entered every page but the code pages redirects, so the menu would only mislead.
    awaiting_code = (
        user is not None
        and user.is_authenticated
        and needs_second_factor(user)
        and not getattr(user, "is_verified", lambda: False)()
    )
    return {
        "nav_shown": user is not None and user.is_authenticated and not awaiting_code,
        "tile_url": settings.SAMVERKAN_TILE_URL,
        "tile_attribution": settings.SAMVERKAN_TILE_ATTRIBUTION,
        "nav_can_report": can(user, Action.CREATE),
        "nav_can_review": can(user, Action.REVIEW),
        "nav_can_import": can(user, Action.IMPORT),
        "nav_can_picture": can_see_pictures(user),
        "nav_can_audit": can_search_audit(user),
        "demo_data": Incident.objects.filter(source=Source.DEMO).exists(),
    }
