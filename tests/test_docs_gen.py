from sim.docs_gen import render, write_parameter_docs
from sim.params import Params, Policy

from .conftest import ROOT


def test_committed_parameter_table_is_current():
    path = ROOT / "docs" / "parameters.md"
    assert not write_parameter_docs(path, check=True), (
        "docs/parameters.md is stale: run `make docs`"
    )


def test_every_field_appears_once():
    text = render()
    for name in (*Policy.model_fields, *Params.model_fields):
        assert text.count(f"| `{name}` |") == 1, name


def test_outputs_doc_covers_every_column(reform_results):
    doc = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    for level, df in reform_results.items():
        for col in df.columns:
            assert f"`{col}`" in doc, f"{level}.{col} is not documented in docs/outputs.md"
