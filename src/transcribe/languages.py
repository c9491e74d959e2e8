"""The languages a transcription may ask for: Vonage's BCP-47 codes, mapped to Whisper's.

Vonage's `record.transcription.language` takes the codes of its speech-recognition list
(`en-US`, `es-MX`, `cmn-Hans-CN`, ...). Whisper knows languages, not regions, so every
regional variant maps to one Whisper code (`es-ES`, `es-MX` -> `es`). The list below is
Vonage's, less the two languages Whisper `base` cannot transcribe (`zu-ZA` Zulu and
`yue-Hant-HK` Cantonese); a code not in it is refused with the list, at every entry, before
anything is stored or decoded.

Codes compare case-insensitively, `_` for `-`; a bare language (`es`, `fr`) stands for the
language in any of its regions. The document and the recording keep the code as it was asked.
"""

from __future__ import annotations

from transcribe.errors import UnsupportedLanguageError

ENGLISH = "en"


def _regions(language: str, whisper: str, regions: str) -> dict[str, str]:
    return {f"{language}-{region}": whisper for region in regions.split()}


# Vonage's code -> Whisper's code.
VONAGE_TO_WHISPER: dict[str, str] = {
    "af-ZA": "af",
    "am-ET": "am",
    **_regions("ar", "ar", "AE BH DZ EG IL IQ JO KW LB MA OM PS QA SA TN YE"),
    "az-AZ": "az",
    "bg-BG": "bg",
    "bn-BD": "bn",
    "bn-IN": "bn",
    "bs-BA": "bs",
    "ca-ES": "ca",
    "cmn-Hans-CN": "zh",
    "cmn-Hans-HK": "zh",
    "cmn-Hant-TW": "zh",
    "cs-CZ": "cs",
    "da-DK": "da",
    "de-AT": "de",
    "de-CH": "de",
    "de-DE": "de",
    "el-GR": "el",
    **_regions("en", "en", "AU CA GB GH HK IE IN KE NG NZ PH PK SG TZ US ZA"),
    **_regions("es", "es", "AR BO CL CO CR DO EC ES GT HN MX NI PA PE PR PY SV US UY VE"),
    "et-EE": "et",
    "eu-ES": "eu",
    "fa-IR": "fa",
    "fi-FI": "fi",
    "fil-PH": "tl",
    "fr-BE": "fr",
    "fr-CA": "fr",
    "fr-CH": "fr",
    "fr-FR": "fr",
    "gl-ES": "gl",
    "gu-IN": "gu",
    "he-IL": "he",
    "hi-IN": "hi",
    "hr-HR": "hr",
    "hu-HU": "hu",
    "hy-AM": "hy",
    "id-ID": "id",
    "is-IS": "is",
    "it-CH": "it",
    "it-IT": "it",
    "ja-JP": "ja",
    "jv-ID": "jw",
    "ka-GE": "ka",
    "kk-KZ": "kk",
    "km-KH": "km",
    "kn-IN": "kn",
    "ko-KR": "ko",
    "lo-LA": "lo",
    "lt-LT": "lt",
    "lv-LV": "lv",
    "mk-MK": "mk",
    "ml-IN": "ml",
    "mn-MN": "mn",
    "mr-IN": "mr",
    "ms-MY": "ms",
    "my-MM": "my",
    "nb-NO": "no",
    "ne-NP": "ne",
    "nl-BE": "nl",
    "nl-NL": "nl",
    "pa-Guru-IN": "pa",
    "pl-PL": "pl",
    "pt-BR": "pt",
    "pt-PT": "pt",
    "ro-RO": "ro",
    "ru-RU": "ru",
    "si-LK": "si",
    "sk-SK": "sk",
    "sl-SI": "sl",
    "sq-AL": "sq",
    "sr-RS": "sr",
    "su-ID": "su",
    "sv-SE": "sv",
    "sw-KE": "sw",
    "sw-TZ": "sw",
    **_regions("ta", "ta", "IN LK MY SG"),
    "te-IN": "te",
    "th-TH": "th",
    "tr-TR": "tr",
    "uk-UA": "uk",
    "ur-IN": "ur",
    "ur-PK": "ur",
    "uz-UZ": "uz",
    "vi-VN": "vi",
}

# Whisper's code -> the language's English name, for messages.
NAMES: dict[str, str] = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "az": "Azerbaijani", "bg": "Bulgarian",
    "bn": "Bengali", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian",
    "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "gl": "Galician",
    "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian",
    "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese",
    "jw": "Javanese", "ka": "Georgian", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada",
    "ko": "Korean", "lo": "Lao", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian",
    "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "ms": "Malay", "my": "Burmese",
    "ne": "Nepali", "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "si": "Sinhala", "sk": "Slovak",
    "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "su": "Sundanese", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese",
    "zh": "Chinese",
}  # fmt: skip

SUPPORTED_CODES: tuple[str, ...] = tuple(sorted(VONAGE_TO_WHISPER, key=str.lower))

# Lower-cased code, and each code's bare language (`es`, `cmn`, `fil`) -> Whisper's code.
_LOOKUP: dict[str, str] = {
    **{code.split("-")[0].lower(): whisper for code, whisper in VONAGE_TO_WHISPER.items()},
    **{code.lower(): whisper for code, whisper in VONAGE_TO_WHISPER.items()},
}


def whisper_language(code: str) -> str:
    """Whisper's code for a BCP-47 code from the list, or an error listing the list."""
    whisper = _LOOKUP.get(code.strip().replace("_", "-").lower())
    if whisper is None:
        raise UnsupportedLanguageError(
            f"language {code!r} is not one this service transcribes; supported (BCP-47, as "
            f"Vonage lists them, or a bare language such as 'es'): {', '.join(SUPPORTED_CODES)}",
            field="language",
        )
    return whisper


def is_english(code: str | None) -> bool:
    """Whether a transcription in `code` is English (no code: English, Vonage's default)."""
    return code is None or not code.strip() or whisper_language(code) == ENGLISH


def describe(whisper: str) -> str:
    """`French (fr)`; a code the table does not name stays a code."""
    name = NAMES.get(whisper)
    return f"{name} ({whisper})" if name else whisper
