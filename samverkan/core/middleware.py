from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class SwedishByDefaultLocaleMiddleware(LocaleMiddleware):
    """Swedish unless the user chose another language (the language cookie set by the switcher).

    The browser's Accept-Language is ignored on purpose: municipal staff often run English-language browsers, and
    the product's working language is Swedish.
    """

    def process_request(self, request: HttpRequest) -> None:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
