"""Lessons' Markdown -> HTML for QTextBrowser (a subset of HTML 4 and CSS 2), with Python-Markdown.

Kept apart from studyapp.content.lessons so that loading lessons from the cache, as the window's
first frame does, never imports Markdown (about 0.1 s with its extensions and pygments, issue 16):
lessons.render() imports this module on first use.
"""
from __future__ import annotations

import xml.etree.ElementTree as etree

import markdown
from markdown.extensions import Extension
from markdown.extensions.admonition import AdmonitionExtension
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.def_list import DefListExtension
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markdown.treeprocessors import Treeprocessor
from mdx_truly_sane_lists.mdx_truly_sane_lists import TrulySaneListExtension

EXTENSIONS = ["tables", "fenced_code", "toc", "admonition", "attr_list", "def_list"]
EXTENSION_CONFIGS = {"toc": {"permalink": False}}
# Python-Markdown resolves an extension given by name through the installed packages' entry points
# (importlib.metadata scans every package in the environment: 0.06-0.1 s once per process, on a
# first start's path to the first window, issue 16); instances of the classes, imported here (so
# a frozen build sees them too), skip that scan.
_EXTENSION_CLASSES = {"tables": TableExtension, "fenced_code": FencedCodeExtension, "toc": TocExtension,
                      "admonition": AdmonitionExtension, "attr_list": AttrListExtension,
                      "def_list": DefListExtension}


def _extensions() -> list[Extension]:
    return [_EXTENSION_CLASSES[name](**EXTENSION_CONFIGS.get(name, {})) for name in EXTENSIONS]


# mdx_truly_sane_lists: nested list items indented by 2 spaces (as most people write them) nest as
# written; Python-Markdown alone wants 4 and flattens the rest into the parent item's text. Passed
# as an instance (imported here, so a frozen build finds it), not by name.
SANE_LISTS = {"nested_indent": 2, "truly_sane": True}
ADMONITION_COLOURS = {  # background, border: readable in both themes
    "note": ("#e8f0fe", "#4a76c9"), "info": ("#e8f0fe", "#4a76c9"),
    "tip": ("#e6f4ea", "#3c8f52"), "example": ("#f3e8fd", "#8a4fc9"),
    "warning": ("#fef4e5", "#d08a1c"), "danger": ("#fdeaea", "#c94a4a"),
}


class _QtFriendly(Treeprocessor):
    """Rewrite what QTextBrowser cannot draw: admonition boxes become one-cell tables (Qt paints
    table backgrounds but not div ones), and each heading gets an <a name> anchor so that
    scrollToAnchor() and the table of contents work."""

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                classes = (child.get("class") or "").split()
                if child.tag == "div" and "admonition" in classes:
                    parent[index] = self._box(child, classes)
                if child.tag in {"h1", "h2", "h3", "h4"} and child.get("id"):
                    anchor = etree.Element("a", {"name": child.get("id")})
                    anchor.tail, child.text = child.text, None
                    child.insert(0, anchor)

    @staticmethod
    def _box(div: etree.Element, classes: list[str]) -> etree.Element:
        kind = next((c for c in classes if c in ADMONITION_COLOURS), "note")
        background, border = ADMONITION_COLOURS[kind]
        table = etree.Element("table", {
            "class": f"admonition {kind}", "width": "100%", "cellpadding": "8",
            "cellspacing": "0", "border": "0", "bgcolor": background,
            "style": f"border-left: 4px solid {border}; margin: 8px 0;"})
        cell = etree.SubElement(etree.SubElement(table, "tr"), "td")
        for element in list(div):
            if "admonition-title" in (element.get("class") or ""):
                element.set("style", f"font-weight: bold; color: {border}; margin: 0;")
            cell.append(element)
        return table


class _QtFriendlyExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_QtFriendly(md), "qt_friendly", 0)


def render_markdown(body: str) -> tuple[str, list[dict]]:
    """Markdown -> (HTML, table-of-contents tokens)."""
    md = markdown.Markdown(extensions=_extensions() + [TrulySaneListExtension(**SANE_LISTS), _QtFriendlyExtension()])
    html = md.convert(body)
    return html, md.toc_tokens


