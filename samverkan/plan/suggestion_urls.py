from django.urls import path

from samverkan.plan import suggestion_views

app_name = "plan_suggest"

urlpatterns = [
    path("", suggestion_views.suggestions, name="suggestions"),
]
