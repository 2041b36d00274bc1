"""A template's cell tags (nbconvert's and Jupyter Book's) decide what a published page and PDF show.

The headless-Chromium and PDF checks of the same rule on a real batch are in
``tests/test_browser.py`` (``test_a_template_s_tagged_cells_are_absent_input_less_or_output_less_...``).
"""

from __future__ import annotations

import nbformat
import pytest
from bs4 import BeautifulSoup

import reportkit.run.html as html_mod
from reportkit.run.html import HIDDEN_TAGS, export_html, export_print_body

USER_TAGS = [(tag, part) for tag, part in HIDDEN_TAGS if tag not in ("parameters", "injected-parameters")]


def tagged_notebook(tag: str) -> nbformat.NotebookNode:
    """A code cell and a markdown cell carrying ``tag``, then an untagged code cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    code = nbformat.v4.new_code_cell(f"secret_source_of_the_tagged_cell({tag!r})", metadata={"tags": [tag]})
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<p>output of the tagged cell</p>", "text/plain": "x"})
    ]
    markdown = nbformat.v4.new_markdown_cell("markdown of the tagged cell", metadata={"tags": [tag]})
    plain = nbformat.v4.new_code_cell("untagged()")
    plain.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<p>output of the untagged cell</p>", "text/plain": "y"})
    ]
    nb.cells = [code, markdown, plain]
    return nb


def test_the_tags_are_nbconvert_s_and_jupyter_book_s_names_for_cell_input_and_output():
    names = dict(HIDDEN_TAGS)
    for part in ("cell", "input", "output"):
        for tag in (f"remove_{part}", f"remove-{part}", f"hide-{part}", f"hide_{part}"):
            assert names[tag] == part
    assert names["parameters"] == names["injected-parameters"] == "cell"


@pytest.mark.parametrize(("tag", "part"), USER_TAGS, ids=[t for t, _ in USER_TAGS])
@pytest.mark.parametrize("export", [export_html, export_print_body], ids=["page", "print-body"])
def test_a_tagged_cell_loses_what_its_tag_removes_in_the_page_and_the_print_body(tag, part, export):
    shown = BeautifulSoup(export(tagged_notebook(tag)), "html.parser").get_text()
    assert "secret_source_of_the_tagged_cell" not in shown  # code is never shown
    assert "output of the untagged cell" in shown
    assert ("output of the tagged cell" in shown) is (part == "input")
    assert ("markdown of the tagged cell" in shown) is (part == "output")  # a markdown cell has no output to remove


def test_an_output_carrying_a_removal_tag_is_removed_alone():
    nb = tagged_notebook("none")
    nb.cells[0].outputs.append(
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<p>tagged output</p>", "text/plain": "z"}, metadata={"tags": ["remove-output"]}
        )
    )
    shown = BeautifulSoup(export_html(nb), "html.parser").get_text()
    assert "output of the tagged cell" in shown and "tagged output" not in shown


def test_stock_nbconvert_with_the_same_configuration_writes_the_same_page_for_tagged_cells():
    from nbconvert import HTMLExporter

    nb = tagged_notebook("remove_cell")
    for tag, _ in USER_TAGS[1:]:
        nb.cells += tagged_notebook(tag).cells[:2]
    nb.metadata["title"] = "t"
    ours = export_html(nb, title="t")
    reference, _ = HTMLExporter(config=html_mod._new_html_exporter().config).from_notebook_node(nb)
    assert BeautifulSoup(ours, "html.parser") == BeautifulSoup(reference, "html.parser")


def test_the_executed_notebook_keeps_its_tagged_cells():
    nb = tagged_notebook("remove-cell")
    export_html(nb)
    assert [c.metadata.get("tags") for c in nb.cells] == [["remove-cell"], ["remove-cell"], None]
    assert nb.cells[0].outputs
