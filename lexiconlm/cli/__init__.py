"""The ``lexiconlm`` command line: one module per verb, each a thin wrapper over a plain function."""
