"""A sentence for a person, in Chinese and in English.

Every message the API answers with is a `Text` from the one catalogue,
`clearhall.server.domain.messages`; the HTTP layer picks the language the
request asked for (Chinese unless `Accept-Language` prefers English), so a
message never carries both languages in one string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def __call__(self, **params: Any) -> Text:
        """This text with its `{placeholders}` filled in."""
        return Text(self.zh.format(**params), self.en.format(**params))

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.zh
