"""Readers and writers, one module per format. None of them imports torch.

Every reader returns typed records from :mod:`lexiconlm.types`, reports *every*
bad line as ``file:line: message (fix: ...)`` and, with ``errors="raise"``
(the default), raises one :class:`~lexiconlm.errors.DataFormatError` listing
them all; ``errors="collect"`` returns the good records with the problems.
"""
