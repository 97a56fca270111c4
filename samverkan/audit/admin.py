# The audit log is deliberately not in the Django admin: it is read through the search page (/granskning/), whose
# access rules keep police-only events to police memberships, and nobody may change it.
