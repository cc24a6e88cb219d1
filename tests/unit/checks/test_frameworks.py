"""Framework data: every shipped file loads and keeps its rules; a bad file is refused with one
line naming the key; a province overrides a framework with its own file (issue #6)."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import pytest
from assessment_factories import TODAY, agency_config, two_host_sweep, write

from secposture.checks import load_catalogue
from secposture.checks.catalogue import Evaluates
from secposture.config.errors import ConfigError
from secposture.config.sections import AssessmentSection, Level
from secposture.frameworks import (
    SHIPPED,
    FrameworkScope,
    Method,
    SectionScope,
    frameworks_for,
    load_frameworks,
    shipped_frameworks,
)
from secposture.frameworks.model import SELECTOR_VALUES
from secposture.job.assessment import assess, load_inputs

# The clause numbers frameworks.md §0 gives for TCVN 14423:2025 as cited by QCVN 12:2026/BCA,
# and the clauses QCVN 12 adds (vn-qcvn12 only).
TCVN_CLAUSES = {
    "4.1",
    "5.1",
    "4.2",
    "5.2",
    "4.3",
    "5.3",
    "4.4",
    "5.4",
    "4.5",
    "5.5",
    "4.6",
    "4.7",
    "5.7",
    "4.8",
    "5.8",
    "4.9",
    "5.9",
    "4.10",
    "5.10",
    "4.11",
    "5.11",
    "4.12",
    "5.12",
    "5.13",
    "4.13",
    "5.14",
    "5.16",
    "4.15",
    "5.17",
    "5.18",
}
QCVN_CLAUSES = {"2.2.2", "2.2.20", "2.2.21", "2.2.22"}

# -- data integrity -----------------------------------------------------------------------------


def test_every_shipped_framework_loads_in_order() -> None:
    frameworks = shipped_frameworks()
    assert tuple(frameworks) == SHIPPED
    folder = resources.files("secposture").joinpath("data/frameworks")
    assert {e.name for e in folder.iterdir() if e.name.endswith(".toml")} == {
        f"{fid}.toml" for fid in SHIPPED
    }


@pytest.mark.parametrize("framework_id", SHIPPED)
def test_every_mapped_check_exists_and_ids_are_unique(framework_id: str) -> None:
    fw = shipped_frameworks()[framework_id]
    catalogue = load_catalogue()
    for req in fw.requirements:
        assert set(req.checks) <= set(catalogue), req.id
    for ids in (
        [s.id for s in fw.sections],
        [r.id for r in fw.requirements],
        [t.id for t in fw.tiers],
    ):
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("framework_id", SHIPPED)
def test_versioned_with_a_changelog_and_unverified_items_say_why(framework_id: str) -> None:
    fw = shipped_frameworks()[framework_id]
    assert fw.changelog[-1].version == fw.info.version
    for item in (*fw.tiers, *fw.sections, *fw.requirements):
        assert item.verified or item.note.strip()
    for req in fw.requirements:
        weights = req.weights or {}
        assert all(w > 0 for w in weights.values())


def test_every_check_has_both_languages() -> None:
    for meta in load_catalogue().values():
        for field in ("title", "rationale", "remediation"):
            assert getattr(meta, f"{field}_vi").strip(), (meta.id, field)
            assert getattr(meta, f"{field}_en").strip(), (meta.id, field)
        # Vietnamese text is Vietnamese, not a copy of the English
        assert meta.title_vi != meta.title_en


def test_every_self_assessment_check_counts_in_gci() -> None:
    questions = {
        m.id for m in load_catalogue().values() if m.evaluates is Evaluates.SELF_ASSESSMENT
    }
    assert {
        f"org.{name}"
        for name in (
            "security_officer",
            "security_regulation",
            "incident_response",
            "staff_training",
            "backup_tested",
            "four_layer_model",
            "system_level_approved",
            "monitoring_connected",
        )
    } <= questions
    mapped = {c for r in shipped_frameworks()["gci"].requirements for c in r.checks}
    assert questions <= mapped


def test_every_check_counts_in_some_framework() -> None:
    # A check no framework maps moves no score: map a new check in secposture/data/frameworks/
    # (at least gci's standards-implementation indicator) when adding it to the catalogue.
    mapped = {c for fw in shipped_frameworks().values() for r in fw.requirements for c in r.checks}
    unmapped = sorted(set(load_catalogue()) - mapped)
    assert unmapped == [], f"checks no framework maps: {unmapped}"


def test_gci_weights_sum_as_documented() -> None:
    gci = shipped_frameworks()["gci"]
    assert gci.info.method is Method.POINTS and gci.info.max_score == 100
    assert [s.id for s in gci.sections] == [
        "legal",
        "technical",
        "organisational",
        "capacity_development",
        "cooperation",
    ]
    assert all(s.max_points == 20 for s in gci.sections)
    assert gci.sections[0].scope is SectionScope.NATIONAL
    # at every level (a ward or special zone weighed as a commune, issue #14), each pillar's
    # indicator points add up to its 20
    for level in Level:
        for section in gci.sections:
            weights = [
                w
                for r in gci.requirements_of(section.id)
                if (w := r.weight_at(level.tier.value, gci.selector_values())) is not None
            ]
            assert math.isclose(sum(weights), 20), (level, section.id)


def test_gci_commune_set_is_smaller_than_the_district_set() -> None:
    gci = shipped_frameworks()["gci"]
    values = gci.selector_values()

    def indicators(level: str) -> set[str]:
        return {r.id for r in gci.requirements if r.weight_at(level, values) is not None}

    assert indicators("commune") < indicators("district")
    assert len(indicators("district")) == 11 and len(indicators("commune")) == 7


def test_gci_tiers_are_the_named_five_with_unverified_cut_offs() -> None:
    tiers = shipped_frameworks()["gci"].tiers
    assert [(t.rank, t.name_en) for t in tiers] == [
        (1, "Role-modelling"),
        (2, "Advancing"),
        (3, "Establishing"),
        (4, "Evolving"),
        (5, "Building"),
    ]
    assert all(not t.verified and "unverified" in t.note.lower() for t in tiers)


def test_vn_baseline_is_built_only_from_verified_items() -> None:
    # Issue #13: the general profile every agency LAN is scored against holds only what
    # frameworks.md marks [V]: Law 116/2025 Art. 8 and the TCVN 14423:2025 clause numbers.
    vn = shipped_frameworks()["vn-baseline"]
    assert vn.info.method is Method.CONCLUSION
    assert vn.info.applies_to is FrameworkScope.EVERY_AGENCY
    refs = {r.ref for r in vn.requirements if r.section != "system_level"}
    assert refs == TCVN_CLAUSES
    assert all(r.verified and r.source for r in vn.requirements)
    assert all(s.verified for s in vn.sections)
    assert "supplier_management" not in {s.id for s in vn.sections}
    assert vn.requirements_of("system_level")[0].ref == "Điều 8"
    # levels 1-2 and 3-5 never share a clause in one group
    for section in vn.sections:
        covered = [lv for r in vn.requirements_of(section.id) for lv in (r.levels or ())]
        assert len(covered) == len(set(covered)), section.id


def test_qcvn12_extends_the_baseline_with_the_groups_it_adds() -> None:
    vn, qcvn = shipped_frameworks()["vn-baseline"], shipped_frameworks()["vn-qcvn12"]
    assert qcvn.info.extends == "vn-baseline"
    assert qcvn.info.applies_to is FrameworkScope.ELECTRONIC_DOCUMENT_STORAGE
    assert qcvn.requirements[: len(vn.requirements)] == vn.requirements
    added = qcvn.requirements[len(vn.requirements) :]
    assert {r.ref for r in added} - {""} == QCVN_CLAUSES
    assert all(not r.verified and r.note for r in added)  # levels not read; supplier inferred
    supplier = qcvn.requirements_of("supplier_management")
    assert [r.ref for r in supplier] == [""]
    assert "1.1" in qcvn.info.description_vi and "lưu trữ tài liệu điện tử" in qcvn.info.title_vi
    physical = next(s for s in qcvn.sections if s.id == "physical_security")
    assert physical.title_vi == "An toàn vật lý"


def test_qcvn12_applies_only_where_the_agency_stores_electronic_documents(
    tmp_path: Path,
) -> None:
    # QCVN 12:2026/BCA section 1.1 scopes the regulation to electronic-document storage
    ordinary = load_inputs(agency_config(tmp_path, "commune"))
    assert list(ordinary.frameworks) == ["gci", "vn-baseline", "cis-v8-ig1"]
    storing = load_inputs(agency_config(tmp_path, "commune", stores_electronic_documents=True))
    assert list(storing.frameworks) == list(SHIPPED)
    posture = assess(
        two_host_sweep(),
        agency_config(tmp_path, "commune", stores_electronic_documents=True),
        inputs=storing,
        today=TODAY,
    ).posture
    assert posture.framework("vn-qcvn12").section("time_stamping") is not None


def test_a_province_baseline_carries_into_qcvn12(tmp_path: Path) -> None:
    # Given the province's own vn-baseline, one group retitled
    shipped = resources.files("secposture").joinpath("data/frameworks/vn-baseline.toml")
    own = shipped.read_text("utf-8").replace(
        'title_vi = "Quản lý rủi ro (cấp độ 1–2)"', 'title_vi = "Quản lý rủi ro của tỉnh"'
    )
    write(tmp_path / "province" / "vn-baseline.toml", own)
    frameworks = load_frameworks(tmp_path / "province")
    # Then vn-qcvn12 is rebuilt on it: the province's requirements, then QCVN's additions
    mine = frameworks["vn-baseline"].requirements
    assert frameworks["vn-qcvn12"].requirements[: len(mine)] == mine
    titles = {r.title_vi for r in frameworks["vn-qcvn12"].requirements}
    assert "Quản lý rủi ro của tỉnh" in titles


def test_a_province_baseline_qcvn12_cannot_build_on_is_its_own_files_fault(tmp_path: Path) -> None:
    # Given the province's vn-baseline in another method, which QCVN's groups cannot extend
    own = SMALL.replace('id = "gci"', 'id = "vn-baseline"', 1)
    write(tmp_path / "province" / "vn-baseline.toml", own)
    # Then loading every framework names the province's file, not the shipped vn-qcvn12 one
    with pytest.raises(ConfigError) as err:
        load_frameworks(tmp_path / "province")
    assert err.value.source == str(tmp_path / "province" / "vn-baseline.toml")
    assert "'vn-qcvn12' cannot be built on this version" in err.value.reason
    assert "\n" not in str(err.value)
    # and an ordinary agency, which vn-qcvn12 does not apply to, is scored on the province's file
    ordinary = AssessmentSection(frameworks_dir=tmp_path / "province")
    found = frameworks_for(ordinary)
    assert "vn-qcvn12" not in found and found["vn-baseline"].info.title_vi == "Bộ chỉ số tỉnh"
    # while one that stores electronic documents gets the same one-line error
    storing = AssessmentSection(
        frameworks_dir=tmp_path / "province", stores_electronic_documents=True
    )
    with pytest.raises(ConfigError, match="put your own 'vn-qcvn12' in this folder too"):
        frameworks_for(storing)


def test_extends_names_a_known_framework_one_level_deep(tmp_path: Path) -> None:
    unknown = SMALL.replace('id = "gci"', 'id = "gci"\nextends = "nowhere"', 1)
    with pytest.raises(ConfigError) as err:
        load_one(tmp_path, unknown)
    assert err.value.key == "framework.extends" and "nowhere" in err.value.reason
    chained = SMALL.replace('id = "gci"', 'id = "gci"\nextends = "vn-qcvn12"', 1)
    with pytest.raises(ConfigError, match="one level"):
        load_one(tmp_path, chained)


# The 56 IG1 safeguards with their full titles, public data with its source noted in the file.
CIS_IG1 = (
    Path(__file__).resolve().parents[2] / "fixtures" / "frameworks" / "cis-v8-ig1-safeguards.txt"
)


def test_cis_ig1_lists_every_ig1_safeguard_with_its_full_title_and_source() -> None:
    # Issue #13: all 56, so that coverage is over IG1 and not over the few a sweep can see
    listed = [
        line.split(":", 1)
        for line in CIS_IG1.read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    expected = {n.strip(): " ".join(title.split()) for n, title in listed}
    cis = shipped_frameworks()["cis-v8-ig1"]
    assert len(expected) == 56
    assert {r.ref: r.title_en for r in cis.requirements} == expected
    for r in cis.requirements:
        assert r.source.startswith(f"CIS Controls v8 safeguard {r.ref} "), r.ref
        assert r.checks or "Not covered" in r.note, r.ref  # mapped, or says it is a gap


def test_the_catalogue_claims_no_cis_mapping_the_framework_file_does_not_make() -> None:
    cis = shipped_frameworks()["cis-v8-ig1"]
    mapped = {(check, r.ref) for r in cis.requirements for check in r.checks}
    for check_id, meta in load_catalogue().items():
        for reference in meta.references:
            if reference.startswith("CIS Controls v8 "):
                for ref in reference.removeprefix("CIS Controls v8 ").split(", "):
                    assert (check_id, ref) in mapped, (check_id, reference)


# -- validation ---------------------------------------------------------------------------------

SMALL = """
[framework]
id = "gci"
version = "2.0.0"
title_vi = "Bộ chỉ số tỉnh"
title_en = "Provincial index"
description_vi = "Bộ chỉ số riêng của tỉnh"
description_en = "The province's own index"
method = "points"
section_label_vi = "Trụ cột"
section_label_en = "Pillar"
requirement_label_vi = "Chỉ tiêu"
requirement_label_en = "Indicator"
method_note_vi = "Tổng điểm trên 100"
method_note_en = "Total out of 100"

[[changelog]]
version = "2.0.0"
date = 2026-11-01
changes = "Provincial set for 2027"

[[section]]
id = "technical"
title_vi = "Kỹ thuật"
title_en = "Technical"
max_points = 60

[[section]]
id = "organisational"
title_vi = "Tổ chức"
title_en = "Organisational"
max_points = 40

[[requirement]]
id = "telnet"
section = "technical"
title_vi = "Không dùng Telnet"
title_en = "No Telnet"
source = "Quyết định của UBND tỉnh Mẫu, mục 1"
checks = ["net.telnet_exposed"]
weights = { province = 60, department = 60, district = 60, commune = 60 }

[[requirement]]
id = "officer"
section = "organisational"
title_vi = "Có cán bộ chuyên trách"
title_en = "Security officer"
source = "Quyết định của UBND tỉnh Mẫu, mục 2"
checks = ["org.security_officer"]
weights = { province = 40, department = 40, district = 40, commune = 40 }
"""


def load_one(tmp_path: Path, text: str) -> dict[str, object]:
    write(tmp_path / "own" / "gci.toml", text)
    return dict(load_frameworks(tmp_path / "own"))


def test_the_small_framework_is_valid(tmp_path: Path) -> None:
    fw = load_one(tmp_path, SMALL)["gci"]
    assert fw is not shipped_frameworks()["gci"]


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        (
            'checks = ["net.telnet_exposed"]',
            'checks = ["net.telnet_exposd"]',
            "requirement[0].checks",
            "net.telnet_exposd",
        ),
        ('id = "officer"', 'id = "telnet"', "requirement", "used twice"),
        ("province = 60,", "province = 0,", "requirement[0].weights.province", "greater than 0"),
        ("province = 60,", "province = 50,", "requirement", "add up to 50"),
        ("max_points = 40", "max_points = 30", "section", "not max_score 100"),
        ("province = 60,", "village = 60,", "requirement", "village"),
        ('section = "organisational"', 'section = "legal"', "requirement", "unknown section"),
        ('title_en = "No Telnet"', 'title_en = ""', "requirement[0].title_en", "at least 1"),
        ('version = "2.0.0"\ndate', 'version = "1.9.0"\ndate', "changelog", "version 2.0.0"),
        (
            'title_en = "No Telnet"',
            'title_en = "No Telnet"\nverified = false',
            "requirement[0].note",
            "verified = false",
        ),
        ('method = "points"', 'method = "points"\nspeed = 3', "framework.speed", "not a known"),
    ],
)
def test_a_bad_framework_names_its_key(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    assert old in SMALL
    with pytest.raises(ConfigError) as err:
        load_one(tmp_path, SMALL.replace(old, new, 1))
    assert err.value.key == key
    assert words in err.value.reason
    assert err.value.source == str(tmp_path / "own" / "gci.toml")
    assert "\n" not in str(err.value)


def test_invalid_toml_and_missing_folder_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_one(tmp_path, "[framework\n")
    with pytest.raises(ConfigError, match="is not a folder"):
        load_frameworks(tmp_path / "nowhere")


def test_two_files_with_one_id_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "own" / "a.toml", SMALL)
    write(tmp_path / "own" / "b.toml", SMALL)
    with pytest.raises(ConfigError, match="defined twice"):
        load_frameworks(tmp_path / "own")


def test_selector_values_cover_every_agency_level() -> None:
    # Issue #14: wards and special zones are commune-level units, weighed as communes
    assert (
        set(SELECTOR_VALUES[shipped_frameworks()["gci"].info.applies_by])
        == {lv.tier.value for lv in Level}
        == {"province", "department", "district", "commune"}
    )
    assert Level.WARD.tier is Level.SPECIAL_ZONE.tier is Level.COMMUNE


# -- a province's own file --------------------------------------------------------------------


def test_province_overrides_gci_without_code(tmp_path: Path) -> None:
    # Given the province's own gci file (telnet 60 points, officer 40) in frameworks_dir
    write(tmp_path / "province" / "gci.toml", SMALL)
    config = agency_config(tmp_path, "commune", frameworks_dir=tmp_path / "province")
    inputs = load_inputs(config)
    assert inputs.frameworks["gci"].info.version == "2.0.0"
    assert inputs.frameworks["vn-baseline"] is shipped_frameworks()["vn-baseline"]
    # When the two-host sweep is scored (telnet: one fail, one pass; officer not answered)
    gci = assess(two_host_sweep(), config, inputs=inputs, today=TODAY).posture.framework("gci")
    # Then only the province's pillars count: technical 30/60, organisational not assessed
    assert [s.id for s in gci.sections] == ["technical", "organisational"]
    assert gci.section("technical").points == 30.0
    assert gci.section("organisational").points is None
    assert gci.score == 50.0 and gci.coverage == 0.6 and gci.version == "2.0.0"
    assert gci.tier is None  # the province's file defines no tiers


def test_province_can_add_a_framework(tmp_path: Path) -> None:
    write(tmp_path / "province" / "dti.toml", SMALL.replace('id = "gci"', 'id = "tn-dti-2027"', 1))
    frameworks = load_frameworks(tmp_path / "province")
    assert list(frameworks) == [*SHIPPED, "tn-dti-2027"]


def test_every_requirement_of_every_shipped_framework_says_where_it_is_stated() -> None:
    # Issue #13: a source, or verified = false with a note saying what is unverified
    for fw in shipped_frameworks().values():
        for r in fw.requirements:
            assert r.source.strip() or (not r.verified and r.note.strip()), (fw.info.id, r.id)


def test_a_province_file_whose_requirement_has_no_source_is_refused(tmp_path: Path) -> None:
    text = SMALL.replace('source = "Quyết định của UBND tỉnh Mẫu, mục 1"\n', "", 1)
    assert text != SMALL
    with pytest.raises(ConfigError) as err:
        load_one(tmp_path, text)
    assert err.value.key == "requirement[0].source" and "verified = false" in err.value.reason
    assert "\n" not in str(err.value)
    # verified = false with a note is the other way to say it
    unverified = text.replace(
        'title_en = "No Telnet"\n',
        'title_en = "No Telnet"\nverified = false\nnote = "đang xác minh"\n',
    )
    assert load_one(tmp_path, unverified)["gci"]
