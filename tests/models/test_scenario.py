"""Scenario files: the shipped example parses, and each mistake is named by line and field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.reference import reference_data
from osc_console.models.scenario import (
    InjectKind,
    ScenarioError,
    format_offset,
    load_shipped,
    parse_offset,
    parse_scenario,
    shipped_scenarios,
)

HEAD = """\
name = "Thames test"
slug = "thames"
codeword = "EXERCISE EXERCISE EXERCISE"
start = "2026-11-24T10:00:00"
duration = "45:00"
"""

FIRE = """
[[inject]]
id = "fire"
at = "T+01:00"
kind = "incident"
summary = "Smoke from a restaurant kitchen in Leadenhall Market"
category = "PS-FIRE"
grade = "immediate"
location = "Leadenhall Market"
source = "999"
lead_agency = "police"
"""


def parse(text: str) -> object:
    return parse_scenario(text, "thames.toml")


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse(text)
    return str(caught.value)


def test_shipped_scenario_parses_with_real_reference_data() -> None:
    assert "city-flood" in shipped_scenarios()
    scenario = load_shipped("city-flood")
    ref = reference_data()
    assert scenario.realm == "exercise:city-flood"
    assert scenario.codeword == "EXERCISE EXERCISE EXERCISE"
    assert scenario.start == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # London GMT in November
    assert scenario.duration == timedelta(minutes=45)
    assert 10 <= len(scenario.injects) <= 15
    times = [i.at for i in scenario.injects]
    assert times == sorted(times)
    assert times[-1] <= scenario.duration
    kinds = {i.kind for i in scenario.injects}
    assert kinds == set(InjectKind)
    incidents = [i.incident for i in scenario.injects if i.incident is not None]
    assert {i.lead_agency for i in incidents} >= {Agency.POLICE, Agency.CORPORATION}
    for incident in incidents:
        assert incident.category in ref.categories
        assert incident.location in ref.places
    partners = {i.agency for i in scenario.injects if i.agency is not None}
    assert {Agency.FIRE, Agency.AMBULANCE, Agency.TRANSPORT} <= partners
    for inject in scenario.injects:
        assert inject.team is None or inject.team in ref.teams
    methane = next(i for i in scenario.injects if i.kind is InjectKind.METHANE)
    lines = methane.log_text().splitlines()
    assert lines[0] == "METHANE"
    assert [line[:4] for line in lines[1:]] == [f"{c} - " for c in "METHANE"]


def test_lines_are_the_inject_headers() -> None:
    scenario = load_shipped("city-flood")
    assert scenario.injects[0].line == 15
    assert scenario.injects[0].label == "inject 1 (at T+00:00)"


def test_times() -> None:
    assert parse_offset("T+04:30") == timedelta(minutes=4, seconds=30)
    assert parse_offset("T+1:04:30") == timedelta(hours=1, minutes=4, seconds=30)
    assert parse_offset("T+90:00") == timedelta(minutes=90)
    assert format_offset(timedelta(minutes=4)) == "T+04:00"
    assert format_offset(timedelta(hours=1, seconds=5)) == "T+1:00:05"
    for bad in ("4:30", "T+4:3", "T-04:00", "T+04:60"):
        with pytest.raises(ValueError, match="is not a time"):
            parse_offset(bad)


def test_syntax_error_names_line_and_column() -> None:
    text = HEAD + "\n[[inject]]\nat = T+01:00\n"
    assert error_of(text) == ("thames.toml, line 8, column 6: syntax error: Invalid value")


def test_unknown_category() -> None:
    text = HEAD + FIRE.replace('"PS-FIRE"', '"XYZ"')
    assert error_of(text) == (
        "thames.toml, line 7, inject 1 (at T+01:00), category: unknown category 'XYZ'"
    )


def test_unknown_team() -> None:
    text = HEAD + FIRE + '\n[[inject]]\nat = "T+04:00"\nkind = "log"\nincident = "fire"\n'
    text += 'team = "LFB-NOWHERE"\ntext = "Two pumps attending"\n'
    assert error_of(text) == (
        "thames.toml, line 18, inject 2 (at T+04:00), team: unknown team 'LFB-NOWHERE'"
    )


def test_time_going_backwards() -> None:
    text = HEAD + FIRE + '\n[[inject]]\nat = "T+00:30"\nkind = "message"\ntext = "Hello"\n'
    assert error_of(text) == (
        "thames.toml, line 18, inject 2 (at T+00:30), at: T+00:30 is before the previous "
        "inject's T+01:00"
    )


def test_time_outside_the_exercise() -> None:
    text = HEAD + FIRE + '\n[[inject]]\nat = "T+50:00"\nkind = "message"\ntext = "Hello"\n'
    assert error_of(text) == (
        "thames.toml, line 18, inject 2 (at T+50:00), at: T+50:00 is after the end of the "
        "exercise (T+45:00)"
    )


def test_duplicate_id() -> None:
    text = HEAD + FIRE + FIRE.replace("T+01:00", "T+02:00")
    assert error_of(text) == (
        "thames.toml, line 18, inject 2 (at T+02:00), id: duplicate id 'fire' "
        "(already used by inject 1 (at T+01:00))"
    )


def test_missing_field() -> None:
    text = HEAD + FIRE.replace(
        'summary = "Smoke from a restaurant kitchen in Leadenhall Market"\n', ""
    )
    assert error_of(text) == "thames.toml, line 7, inject 1 (at T+01:00), summary: is required"


def test_missing_top_level_field() -> None:
    text = HEAD.replace('codeword = "EXERCISE EXERCISE EXERCISE"\n', "") + FIRE
    assert error_of(text) == "thames.toml, codeword: is required"


def test_bad_top_level_value_names_its_line() -> None:
    text = HEAD.replace('slug = "thames"', 'slug = "Thames River"') + FIRE
    assert error_of(text) == (
        "thames.toml, line 2, slug: 'Thames River' must be lower-case letters, digits and "
        "hyphens (up to 40)"
    )


def test_unknown_referenced_inject() -> None:
    text = HEAD + FIRE + '\n[[inject]]\nat = "T+04:00"\nkind = "log"\nincident = "flood"\n'
    text += 'agency = "fire"\ntext = "Two pumps attending"\n'
    assert error_of(text) == (
        "thames.toml, line 18, inject 2 (at T+04:00), incident: unknown inject id 'flood' "
        "(give the id of an earlier inject)"
    )


def test_partner_cannot_write_to_a_police_only_incident() -> None:
    text = HEAD + FIRE.replace(
        'lead_agency = "police"', 'lead_agency = "police"\nvisibility = "police"'
    )
    text += '\n[[inject]]\nat = "T+04:00"\nkind = "log"\nincident = "fire"\nagency = "fire"\n'
    text += 'text = "Two pumps attending"\n'
    assert "agency: fire cannot write to 'fire', which is police-only" in error_of(text)


def test_unknown_field_and_kind() -> None:
    assert error_of(HEAD + FIRE.replace("grade =", "grayde =")).endswith(
        "inject 1 (at T+01:00), grayde: is not a field of a incident inject"
    )
    assert error_of(HEAD + FIRE.replace('kind = "incident"', 'kind = "weather"')).endswith(
        "kind: 'weather' is not one of incident, log, message, methane"
    )


def test_methane_inject() -> None:
    text = (
        HEAD
        + FIRE
        + """
[[inject]]
at = "T+10:00"
kind = "methane"
incident = "fire"
team = "LFB-DOW"
major_incident = true
exact_location = "Leadenhall Market, Whittington Avenue entrance"
type = "Fire in a restaurant kitchen spreading to the roof"
hazards = "Gas cylinders; glass roof"
access = "From Gracechurch Street"
casualties = 2
emergency_services = "LFB 4 pumps, LAS 2 ambulances, City Police cordon"
"""
    )
    scenario = parse_scenario(text, "thames.toml")
    methane = scenario.injects[1]
    assert methane.agency is Agency.FIRE
    assert methane.log_text().splitlines()[1] == "M - Major incident: DECLARED"
    assert "N - Number of casualties: 2" in methane.log_text()
