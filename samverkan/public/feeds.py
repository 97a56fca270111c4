"""An Atom feed per municipality of the citizen promises' follow-ups, newest first."""

from __future__ import annotations

import datetime as dt

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from samverkan.places.models import Municipality
from samverkan.public import selectors
from samverkan.public.selectors import PublicPromise

TITLE_WORDS = 14


class _PlainContentAtomFeed(Atom1Feed):
    """Atom with the entry's text in ``<content type="text">``: the follow-up is plain text written by staff, so it
    must never reach a feed reader as HTML."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "text"})


class PromiseFollowUpFeed(Feed):
    feed_type = _PlainContentAtomFeed

    def get_object(self, request, code: str) -> Municipality:
        return selectors.municipality_public(code)

    def title(self, obj: Municipality) -> str:
        return _("Citizen promises in %(name)s: follow-ups") % {"name": obj.name}

    def subtitle(self, obj: Municipality) -> str:
        return _("New and updated follow-ups of the citizen promises of %(name)s.") % {"name": obj.name}

    def link(self, obj: Municipality) -> str:
        return reverse("public:municipality", args=[obj.code])

    def items(self, obj: Municipality) -> list[PublicPromise]:
        return selectors.promise_follow_ups(obj)

    def item_title(self, item: PublicPromise) -> str:
        return Truncator(item.text).words(TITLE_WORDS)

    def item_description(self, item: PublicPromise) -> None:
        return None

    def item_link(self, item: PublicPromise) -> str:
        return f"{reverse('public:municipality', args=[item.municipality_code])}#promise-{item.id}"

    def item_updateddate(self, item: PublicPromise) -> dt.datetime:
        assert item.follow_up_updated is not None  # the feed's items all have one
        return timezone.make_aware(dt.datetime.combine(item.follow_up_updated, dt.time()))

    def item_extra_kwargs(self, item: PublicPromise) -> dict[str, str]:
        status = _("Status: %(status)s") % {"status": item.status_label}
        text = f"{item.follow_up}\n\n{status}" if item.follow_up else status
        return {"content": text}
