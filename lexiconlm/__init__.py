"""lexiconlm: expand multilingual language models to low-resource languages with
bilingual lexicons and morphology tables.

Importing the package (or :mod:`lexiconlm.io`) never imports torch; the neural
parts live in :mod:`lexiconlm.adapt`, :mod:`lexiconlm.nlu` and
:mod:`lexiconlm.inflection` and need ``pip install 'lexiconlm[gpu]'``.
"""

__version__ = "0.1.0"

from lexiconlm.errors import (  # noqa: E402
    ConfigError,
    DataFormatError,
    LexiconLMError,
    MissingDependencyError,
    Problem,
    UnknownLanguageError,
)

__all__ = [
    "__version__",
    "ConfigError",
    "DataFormatError",
    "LexiconLMError",
    "MissingDependencyError",
    "Problem",
    "UnknownLanguageError",
]
