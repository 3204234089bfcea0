"""The index page of a run's Data Docs, listing every page in the run's folder.

Great Expectations rebuilds the index from the validations its own (ephemeral) context holds and,
by default, deletes the pages of the folder that context does not know. In one process that is
every suite of the run. When steps run in processes of their own (the multiprocess executor on
PostgreSQL), each process knows only its own suites, and each would delete the others' pages:
this builder lists what is in the folder and deletes nothing. Imported by Great Expectations only
(`gx_suites._docs_context`), so the code location does not import GX when it loads.
"""

from __future__ import annotations

from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder


class RunDocsIndexBuilder(DefaultSiteIndexBuilder):
    """`DefaultSiteIndexBuilder` that keeps the pages other processes of the run rendered."""

    def build(self, skip_and_clean_missing: bool = False, build_index: bool = True):
        return super().build(skip_and_clean_missing=False, build_index=build_index)
