import datetime as dt
import math

from django import template

register = template.Library()


@register.filter
def whole_minutes(value: dt.timedelta) -> int:
    """A duration in whole minutes, rounded up: a wait of 90 seconds is "2 minutes", never "1"."""
    return max(1, math.ceil(value.total_seconds() / 60))
