"""The commune recorded for six weeks, stored and judged once for the report tests that
read its page (report_samples.py builds it)."""

from __future__ import annotations

import pytest
from hostile_report import Page, page_of
from report_samples import StoredAgency, stored_agency


@pytest.fixture(scope="package")
def agency(tmp_path_factory: pytest.TempPathFactory) -> StoredAgency:
    """The commune after its six weekly sweeps."""
    return stored_agency(tmp_path_factory.mktemp("agency"))


@pytest.fixture(scope="package")
def page(agency: StoredAgency) -> Page:
    """Its report page in Vietnamese, read back."""
    return page_of(agency)
