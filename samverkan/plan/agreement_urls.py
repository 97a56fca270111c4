from django.urls import path

from samverkan.plan import agreement_views as views

app_name = "plan_agreement"

urlpatterns = [
    path("", views.agreement_current, name="current"),
    path("<int:agreement_id>/", views.agreement_detail, name="detail"),
    path("<int:agreement_id>/uppfoljning/", views.followup, name="followup"),
    path("<int:agreement_id>/uppfoljning/pdf/", views.followup_pdf, name="followup_pdf"),
    path("lofte/<int:promise_id>/", views.promise_update, name="promise_update"),
    path("moten/", views.meeting_list, name="meetings"),
    path("moten/nytt/", views.meeting_create, name="meeting_create"),
    path("moten/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("moten/<int:meeting_id>/protokoll/", views.meeting_minutes, name="meeting_minutes"),
    path("moten/<int:meeting_id>/beslut/", views.decision_add, name="decision_add"),
]
