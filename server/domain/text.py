"""A sentence for a person, in Chinese and in English.

Every message the API answers with is a `Text` from the one catalogue
(`messages`, with `booking_texts` and `signal_texts`); the HTTP layer picks
the language the request asked for (Chinese unless `Accept-Language` prefers
English), so a message never carries both languages in one string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def __call__(self, **params: Any) -> Text:
        """This text with its `{placeholders}` filled in; a parameter that is itself a
        `Text` goes in in each language's own words (`NOT_BOOKED(state=CANCELLED)`)."""
        zh = {k: v.zh if isinstance(v, Text) else v for k, v in params.items()}
        en = {k: v.en if isinstance(v, Text) else v for k, v in params.items()}
        return Text(self.zh.format(**zh), self.en.format(**en))

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.zh
