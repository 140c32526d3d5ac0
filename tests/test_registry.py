"""The one registry helper (lexiconlm.registry) and the tables built on it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from lexiconlm.errors import LexiconLMError, UnknownNameError
from lexiconlm.registry import Registry, split_version


def test_split_version():
    assert split_version("mean.v2") == ("mean", 2)
    assert split_version("prefer-consensus.v10") == ("prefer-consensus", 10)
    assert split_version("none") == ("none", None)
    assert split_version("e5.small") == ("e5.small", None)


def test_bare_names_resolve_to_the_latest_version():
    reg = Registry("thing")
    reg.register("mean.v1", len)
    reg.register("mean.v2", max)
    reg.register("mean.v10", min)
    reg.register("median.v1", sorted)
    assert reg.resolve("mean") == ("mean.v10", min)
    assert reg.resolve("mean.v2") == ("mean.v2", max)
    assert reg.full_name("median") == "median.v1"
    assert reg.names() == ["mean", "mean.v1", "mean.v10", "mean.v2", "median", "median.v1"]
    assert reg.names(short=False) == ["mean.v1", "mean.v10", "mean.v2", "median.v1"]
    with pytest.raises(UnknownNameError):
        reg.resolve("mean.v3")  # a versioned name never means another version


def test_decorator_registers_and_returns_the_function():
    reg = Registry("thing")

    @reg.register("double.v1")
    def double(x):
        return 2 * x

    assert double(2) == 4 and reg.resolve("double")[1] is double


def test_lazy_entries_are_imported_on_first_use(tmp_path, monkeypatch):
    probe = tmp_path / "lazy_registry_probe.py"
    probe.write_text("def f():\n    return 'loaded'\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("lazy_registry_probe", None)
    reg = Registry("probe", entries={"f.v1": "lazy_registry_probe:f"})
    assert reg.names() == ["f", "f.v1"] and "lazy_registry_probe" not in sys.modules
    assert reg.reference("f") == "lazy_registry_probe:f"
    assert reg.resolve("f")[1]() == "loaded" and "lazy_registry_probe" in sys.modules
    assert reg["f.v1"] is reg.resolve("f.v1")[1]


def test_broken_lazy_entries_say_what_is_wrong():
    reg = Registry("probe", entries={"a.v1": "json:no_such_function", "b.v1": "no_such_module_xyz:f"})
    with pytest.raises(LexiconLMError, match="'a.v1' points to json:no_such_function, but json"):
        reg.resolve("a")
    with pytest.raises(ModuleNotFoundError):
        reg.resolve("b")
    with pytest.raises(ValueError, match="module:attribute"):
        reg.register("c.v1", "not a reference")


def test_unknown_names_suggest_close_ones():
    reg = Registry("embedding init", entries={"phonology.v1": len, "mean.v1": len}, hint="See the docs.")
    with pytest.raises(UnknownNameError) as err:
        reg.resolve("phonolgy")
    msg = str(err.value)
    assert msg.startswith("Unknown embedding init 'phonolgy'. Did you mean: phonology")
    assert "Known: mean.v1, phonology.v1. See the docs." in msg
    assert isinstance(err.value, KeyError) and err.value.suggestions[0] == "phonology"
    with pytest.raises(UnknownNameError, match="Unknown embedding init 'zzz'. Known:"):
        reg["zzz"]


def test_versions_are_required_and_names_are_not_silently_replaced():
    reg = Registry("sense strategy")
    with pytest.raises(ValueError, match=r"carry a version, e\.g\. mine\.v1"):
        reg.register("mine", len)
    reg.register("mine.v1", len)
    reg.register("mine.v1", len)  # the same object again is fine
    with pytest.raises(ValueError, match="already registered"):
        reg.register("mine.v1", max)
    reg.register("mine.v1", max, overwrite=True)
    assert reg["mine.v1"] is max


def test_unversioned_registries_and_aliases():
    reg = Registry(
        "policy", versioned=False, aliases={"off": "none"}, entries={"none": len, "script.v1": max, "script.v2": min}
    )
    assert reg.full_name("off") == "none" and reg.full_name("script") == "script.v2"
    assert "off" in reg.names() and "off" not in reg
    reg.alias("everything", "none")
    assert reg.resolve("everything") == ("none", len)


def test_mapping_protocol():
    reg = Registry("thing", entries={"b.v1": len, "a.v1": max})
    assert list(reg) == ["b.v1", "a.v1"] and len(reg) == 2  # registration order
    assert "a.v1" in reg and "a" not in reg  # membership is by full name
    assert reg.pop("a.v1") is max and "a.v1" not in reg
    reg["c.v1"] = min
    assert dict(reg) == {"b.v1": len, "c.v1": min}
    del reg["c.v1"]
    with pytest.raises(UnknownNameError):
        del reg["c.v1"]
    assert reg.pop("c.v1", None) is None


# --------------------------------------------------------------------------- the tables built on it


def test_every_table_is_a_registry():
    from lexiconlm.adapt.init import EMBEDDING_INITS, init_names, resolve_init
    from lexiconlm.expand.steps import BACKENDS
    from lexiconlm.inflection.affix import AFFIX_VARIANTS, AffixConfig
    from lexiconlm.models import MODEL_ALIASES
    from lexiconlm.synth.hygiene import HYGIENE_POLICIES, HygieneConfig
    from lexiconlm.synth.translate import SENSES, resolve_sense

    for reg in (EMBEDDING_INITS, SENSES, AFFIX_VARIANTS, HYGIENE_POLICIES, BACKENDS, MODEL_ALIASES):
        assert isinstance(reg, Registry)
    assert resolve_init("overlap")[0] == "overlap.v1" and "mean" in init_names()
    assert resolve_sense("prefer-consensus")[0] == "prefer-consensus.v1"
    assert list(AFFIX_VARIANTS)[:2] == ["sigmorphon.v1", "sigmorphon-float.v1"]  # benchmark order
    assert AFFIX_VARIANTS.resolve("lcs")[1] == AffixConfig(alignment="lcs")
    assert HygieneConfig("script").policy == "script.v1" and HygieneConfig("off").policy == "none"
    assert set(HYGIENE_POLICIES) == {"script.v1", "script-any.v1", "none"}
    assert BACKENDS.reference("resolve_model") == "lexiconlm.models:resolve_model"
    assert "e5-small" in MODEL_ALIASES


def test_affix_variant_errors_name_the_known_variants():
    from lexiconlm.inflection.affix import AffixBaseline

    with pytest.raises(UnknownNameError) as err:
        AffixBaseline("sigmorphon.v2")
    assert str(err.value).startswith("Unknown affix variant 'sigmorphon.v2'. Did you mean: ")
    assert "sigmorphon.v1" in str(err.value) and "pairs.v1" in str(err.value)


def test_unknown_expand_backend_and_missing_modules():
    from lexiconlm.expand.steps import BACKENDS, resolve_backend

    assert resolve_backend("adapt", {"adapt": len}) is len  # an override first
    with pytest.raises(UnknownNameError, match="Did you mean: train_joint"):
        resolve_backend("train_jiont")
    BACKENDS.register("probe", "no_such_module_xyz:f")
    try:
        match = r"'probe' backend \(no_such_module_xyz:f\) cannot be imported"
        with pytest.raises(LexiconLMError, match=match):
            resolve_backend("probe")
    finally:
        BACKENDS.pop("probe")


def test_registered_names_list_without_importing_torch():
    code = textwrap.dedent(
        """
        import sys
        from lexiconlm.expand.steps import BACKENDS
        from lexiconlm.models import MODEL_ALIASES
        from lexiconlm.synth.translate import SENSES
        names = BACKENDS.names() + MODEL_ALIASES.names() + SENSES.names()
        bad = [m for m in ("torch", "transformers", "tokenizers") if m in sys.modules]
        print(len(names) > 10, bad)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True []"
