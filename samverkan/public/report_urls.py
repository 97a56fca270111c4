from django.urls import path

from samverkan.public import report_views as views

urlpatterns = [
    path("<str:code>/trygghetsvandring/", views.report, name="report"),
    path("<str:code>/trygghetsvandring/tack/", views.report_thanks, name="report_thanks"),
]
