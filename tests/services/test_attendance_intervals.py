import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.models.participant import ParticipantRole
from app.schemas.attendance import AttendanceReport, AttendanceRow
from app.services.attendance.report import (
    Span,
    attendance_ratio,
    covered_seconds,
    merge_intervals,
    summarize,
    to_csv,
)

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_disjoint_intervals_are_summed() -> None:
    intervals = [(at(0), at(100)), (at(200), at(260)), (at(300), at(310))]
    assert merge_intervals(intervals) == intervals
    assert covered_seconds(intervals) == 170


def test_overlaps_count_once_whatever_the_order() -> None:
    # A reconnect: the new join arrives before the old connection's leave.
    intervals = [(at(50), at(300)), (at(0), at(100)), (at(280), at(400))]
    assert merge_intervals(intervals) == [(at(0), at(400))]
    assert covered_seconds(intervals) == 400


def test_touching_and_contained_intervals_merge() -> None:
    assert merge_intervals([(at(0), at(10)), (at(10), at(20)), (at(2), at(5))]) == [(at(0), at(20))]


def test_empty_and_inverted_intervals_count_nothing() -> None:
    assert merge_intervals([(at(5), at(5)), (at(9), at(3))]) == []
    assert covered_seconds([]) == 0


def test_three_reconnects_give_the_sum_of_their_intervals() -> None:
    spans = [Span(at(0), at(600)), Span(at(620), at(1200)), Span(at(1210), at(1800))]
    summary = summarize(spans, counted_until=at(3600), running=True)
    assert summary.total_seconds == 600 + 580 + 590
    assert summary.join_count == 3
    assert summary.first_joined_at == at(0)
    assert summary.last_left_at == at(1800)
    assert summary.present_now is False


def test_an_open_interval_counts_up_to_now_and_means_present() -> None:
    summary = summarize([Span(at(100), None)], counted_until=at(400), running=True)
    assert summary.total_seconds == 300
    assert summary.present_now is True
    assert summary.last_left_at is None


def test_after_the_session_ended_nothing_counts_past_its_end() -> None:
    spans = [Span(at(0), None), Span(at(10), at(9000))]
    summary = summarize(spans, counted_until=at(3600), running=False)
    assert summary.total_seconds == 3600
    assert summary.present_now is False


def test_an_interval_starting_after_the_end_counts_nothing() -> None:
    summary = summarize([Span(at(4000), None)], counted_until=at(3600), running=False)
    assert summary.total_seconds == 0
    assert summary.join_count == 1


def test_nobody_there_gives_zeros() -> None:
    summary = summarize([], counted_until=at(10), running=True)
    assert (summary.total_seconds, summary.join_count, summary.first_joined_at) == (0, 0, None)


@pytest.mark.parametrize(
    ("present", "started", "until", "expected"),
    [
        (1800, at(0), at(3600), 0.5),
        (3600, at(0), at(3600), 1.0),
        (4000, at(0), at(3600), 1.0),  # capped: joined before the recorded start
        (0, at(0), at(3600), 0.0),
        (1, at(0), at(3), 0.3333),
        (10, None, at(3600), None),  # never started
        (0, at(100), at(100), 0.0),  # started this instant
    ],
)
def test_attendance_ratio(
    present: float, started: datetime | None, until: datetime, expected: float | None
) -> None:
    assert attendance_ratio(present, started, until) == expected


def test_csv_has_the_json_columns_and_neutralises_formulas() -> None:
    row = AttendanceRow(
        user_id=uuid.uuid4(),
        full_name='=HYPERLINK("http://evil")',
        role=ParticipantRole.STUDENT,
        first_joined_at=at(0),
        last_left_at=None,
        total_seconds=42,
        join_count=1,
        present_now=True,
        attendance_ratio=None,
    )
    rows = list(csv.DictReader(io.StringIO(to_csv(AttendanceReport(items=[row])))))
    assert list(rows[0]) == list(AttendanceRow.model_fields)
    assert rows[0]["full_name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["first_joined_at"] == "2030-01-01T09:00:00Z"
    assert rows[0]["last_left_at"] == ""
    assert rows[0]["present_now"] == "true"
    assert rows[0]["attendance_ratio"] == ""
