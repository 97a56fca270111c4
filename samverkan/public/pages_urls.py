from django.urls import path, re_path

from samverkan.public import pages_views as views
from samverkan.public.feeds import PromiseFollowUpFeed

# Municipality pages take only a four-digit SCB code, so "<code>/" never swallows a sibling's one-segment page
# (the method page "metod/") that is included after this module.
CODE = r"(?P<code>[0-9]{4})"

urlpatterns = [
    path("", views.start, name="start"),
    re_path(rf"^{CODE}/$", views.municipality, name="municipality"),
    re_path(rf"^{CODE}/flode/$", PromiseFollowUpFeed(), name="feed"),
    re_path(rf"^{CODE}/arlig-lagesbild/$", views.yearly, name="yearly"),
]
