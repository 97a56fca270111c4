"""The public pages: the list of municipalities, a municipality's agreement, promises and finished measures, and
the yearly situational picture's public version. No log-in; nothing here looks at ``request.user``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from samverkan.public import selectors


def start(request: HttpRequest) -> HttpResponse:
    return render(request, "public/start.html", {"municipalities": selectors.municipalities_public()})


def municipality(request: HttpRequest, code: str) -> HttpResponse:
    place = selectors.municipality_public(code)
    context = {
        "municipality": place,
        "code": place.code,
        "agreement": selectors.public_agreement(place),
        "promises": selectors.public_promises(place),
        "measures": selectors.public_finished_measures(place),
    }
    return render(request, "public/municipality.html", context)


def yearly(request: HttpRequest, code: str) -> HttpResponse:
    place = selectors.municipality_public(code)
    context = {"municipality": place, "code": place.code, "yearly": selectors.public_yearly(place)}
    return render(request, "public/yearly.html", context)
