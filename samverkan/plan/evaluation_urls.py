from django.urls import path

from samverkan.plan import evaluation_views as views

app_name = "plan_eval"

urlpatterns = [
    path("atgarder/<int:measure_id>/utvardering/", views.measure_evaluate_page, name="measure_evaluate"),
    path("overenskommelser/<int:agreement_id>/indikatorer/", views.indicators_page, name="indicators"),
]
