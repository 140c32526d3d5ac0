"""Tokenizer and embedding adaptation: model import, vocabulary trimming and extension,
embedding initialisation, continued MLM pretraining. Imports torch only inside submodules."""
