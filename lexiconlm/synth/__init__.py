"""Synthetic data from lexicons: word-by-word translation, pseudo-monolingual corpora,
label projection and morphological augmentation. Pure CPU, never imports torch.

Import-light: submodules are imported on use, e.g.
``from lexiconlm.synth.translate import LexiconTranslator``.

Modules:
    tokenize      words, numbers and punctuation with offsets; joining rules per script
    translate     :class:`~lexiconlm.synth.translate.LexiconTranslator` (senses, OOV policies)
    hygiene       script-consistency filter, direction check, empty-lexicon errors
    pseudo_mono   translate a source corpus into pseudo target text, fast (numpy, shared encoding)
    batch         every language that has a lexicon, in parallel processes, resumable
    signature     the settings that produced an artifact, as one line
"""

__all__: list[str] = []
