"""The read-growth bench's data, written by PostgreSQL itself (`INSERT … SELECT` over
`generate_series`), so 100k sessions and 1M presence rows take seconds, not an ORM's minutes.

Two users are measured: a teacher with `MEASURED_SESSIONS` sessions and a student who joined
as many. One of the teacher's sessions (`MEASURED_SESSION_INDEX`) holds a full class with a
few presence intervals each, for the attendance read. Everything else belongs to a pool of
other teachers and students, and `grow` only adds to that pool: the measured users' pages
hold the same rows at every size while the tables grow around them.

Ids are `md5(name)::uuid` of a stable name (`bench-student-17`, `bench-session-4200`), so the
SQL that seats a student and the Python that mints that student's token agree without a
lookup. Every row passes the schema's checks: statuses and roles are enum values, seats are
10-49 (at most 199), durations 30-135 minutes (5-720), room names and codes are unique.
"""

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from app.models.user import UserRole
from app.services.sessions.room_codes import ALPHABET, CODE_LENGTH
from bench.seed import PLACEHOLDER_PASSWORD_HASH

POOL_TEACHERS = 1_000
POOL_STUDENTS = 20_000
STUDENTS_PER_SESSION = 5
INTERVALS_PER_STUDENT = 2  # so a pool session holds 10 presence rows
MEASURED_SESSIONS = 50
MEASURED_UPCOMING = 3  # the measured teacher's newest sessions are still scheduled
MEASURED_SESSION_INDEX = 5
MEASURED_CLASS = 30  # students in the measured session, the measured student among them
MEASURED_INTERVALS = 3
# Session numbers (`bench-session-<n>`, room code n): the pool counts up from 0 and the measured
# teacher's sessions sit far above it. The measured student joined pool sessions spread over
# the first ones seeded, so growing the pool never adds to either user's list.
MEASURED_BASE = 900_000_000
MEASURED_TABLES = ("users", "sessions", "session_participants", "participant_presence")


def stable_id(name: str) -> uuid.UUID:
    """What PostgreSQL's `md5(name)::uuid` gives."""
    return uuid.UUID(hashlib.md5(name.encode()).hexdigest())  # noqa: S324 - a name, not a secret


@dataclass(frozen=True)
class Measured:
    teacher_id: uuid.UUID
    student_id: uuid.UUID
    session_id: uuid.UUID


MEASURED = Measured(
    teacher_id=stable_id("bench-measured-teacher-0"),
    student_id=stable_id("bench-measured-student-0"),
    session_id=stable_id(f"bench-session-{MEASURED_BASE + MEASURED_SESSION_INDEX}"),
)


def pool_sessions(total_sessions: int) -> int:
    return total_sessions - MEASURED_SESSIONS


def seed(connection: Connection, *, total_sessions: int, room_base_url: str) -> None:
    """Users, the measured users' sessions and the pool, `total_sessions` in all."""
    pool = pool_sessions(total_sessions)
    if pool < MEASURED_SESSIONS - 1:
        raise ValueError(f"at least {2 * MEASURED_SESSIONS - 1} sessions, for the measured ones")
    joined_pool = [k * (pool // (MEASURED_SESSIONS - 1)) for k in range(MEASURED_SESSIONS - 1)]
    _insert_users(connection, "bench-teacher-", POOL_TEACHERS, UserRole.TEACHER)
    _insert_users(connection, "bench-student-", POOL_STUDENTS, UserRole.STUDENT)
    _insert_users(connection, "bench-measured-teacher-", 1, UserRole.TEACHER)
    _insert_users(connection, "bench-measured-student-", 1, UserRole.STUDENT)
    connection.execute(_PLAN_TABLE)
    connection.execute(
        _MEASURED_PLAN,
        {
            **_POOL_SHAPE,
            "base": MEASURED_BASE,
            "teacher": str(MEASURED.teacher_id),
            "sessions": MEASURED_SESSIONS,
            "upcoming": MEASURED_UPCOMING,
            "class": MEASURED_SESSION_INDEX,
            "class_size": MEASURED_CLASS,
            "class_intervals": MEASURED_INTERVALS,
        },
    )
    connection.execute(_POOL_PLAN, {**_POOL_SHAPE, "first": 0, "stop": pool})
    extra = {
        "student": str(MEASURED.student_id),
        "teacher": str(MEASURED.teacher_id),
        "measured_session": str(MEASURED.session_id),
        "joined": [f"bench-session-{n}" for n in joined_pool],
    }
    _write_plan(connection, room_base_url, extra=extra)


def grow(
    connection: Connection, *, from_sessions: int, to_sessions: int, room_base_url: str
) -> None:
    """More pool sessions, with their participants and presence; nothing for measured users."""
    connection.execute(_PLAN_TABLE)
    first, stop = pool_sessions(from_sessions), pool_sessions(to_sessions)
    connection.execute(_POOL_PLAN, {**_POOL_SHAPE, "first": first, "stop": stop})
    _write_plan(connection, room_base_url, extra={})


def analyze(engine: Engine) -> None:
    """VACUUM ANALYZE, as autovacuum would do by itself soon after a bulk load: fresh planner
    statistics, and a visibility map that lets index-only scans skip the heap."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in MEASURED_TABLES:
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608
            for table in MEASURED_TABLES
        }


def _insert_users(connection: Connection, prefix: str, count: int, role: UserRole) -> None:
    connection.execute(
        text("""
            INSERT INTO users (id, email, full_name, hashed_password, role, is_active,
                               password_changed_at, created_at, updated_at)
            SELECT md5(:prefix || i)::uuid, :prefix || i || '@bench.example.com',
                   initcap(replace(:prefix || i, '-', ' ')), :hash, :role, true,
                   -- a token issued before password_changed_at is refused
                   now() - interval '5 minutes', now() - interval '5 minutes',
                   now() - interval '5 minutes'
            FROM generate_series(0, :count - 1) AS i
        """),
        {"prefix": prefix, "count": count, "role": role.value, "hash": PLACEHOLDER_PASSWORD_HASH},
    )


# One row per session to write. `n` names the session and its room; `students` and
# `intervals` say how full it is.
_PLAN_TABLE = text("""
    CREATE TEMPORARY TABLE bench_plan (
        n bigint PRIMARY KEY, teacher_id uuid NOT NULL, created_at timestamptz NOT NULL,
        scheduled_start_at timestamptz, duration_minutes int NOT NULL, seats int NOT NULL,
        students int NOT NULL, intervals int NOT NULL
    )
""")

_POOL_SHAPE = {
    "teachers": POOL_TEACHERS,
    "pool_students": POOL_STUDENTS,
    "students": STUDENTS_PER_SESSION,
    "intervals": INTERVALS_PER_STUDENT,
}

# Pool sessions: spread over the past year, all ended, each pool teacher's in turn.
_POOL_PLAN = text("""
    INSERT INTO bench_plan
    SELECT n, md5('bench-teacher-' || n % :teachers)::uuid,
           now() - interval '1 day' - make_interval(mins => ((n * 7919) % 525600)::int),
           NULL, 30 + (n % 8)::int * 15, 10 + (n % 40)::int, :students, :intervals
    FROM generate_series(CAST(:first AS bigint), :stop - 1) AS n
""")

# The measured teacher's sessions, one a day: the newest few scheduled, the rest ended, and
# one of those the measured class (the measured student joins it separately).
_MEASURED_PLAN = text("""
    INSERT INTO bench_plan
    SELECT :base + k, CAST(:teacher AS uuid), now() - make_interval(days => k, hours => 1),
           CASE WHEN k < :upcoming THEN now() + make_interval(days => k + 1) END, 60, 40,
           CASE WHEN k < :upcoming THEN 0 WHEN k = :class THEN :class_size - 1
                ELSE :students END,
           CASE WHEN k = :class THEN :class_intervals ELSE :intervals END
    FROM generate_series(0, :sessions - 1) AS k
""")

# The plan's sessions: ended ones started two minutes after creation and ended five minutes
# before they expire. The room code is `bench.seed.room_code(n)`: n in the code alphabet.
_SESSIONS = text("""
    INSERT INTO sessions (id, title, description, teacher_id, status, max_participants,
                          room_name, room_url, room_code, scheduled_start_at, duration_minutes,
                          expires_at, started_at, ended_at, created_at, updated_at)
    SELECT md5('bench-session-' || p.n)::uuid, 'Bench session ' || p.n, NULL, p.teacher_id,
           CASE WHEN t.ended THEN 'ended' ELSE 'scheduled' END, p.seats,
           'tutorium-bench-' || p.n, :room_base || '/tutorium-bench-' || p.n,
           (SELECT string_agg(substr(:alphabet,
                                     ((p.n / power(:radix, d)::bigint) % :radix)::int + 1, 1),
                              '' ORDER BY d DESC)
            FROM generate_series(0, :code_length - 1) AS d),
           p.scheduled_start_at, p.duration_minutes, t.expires_at,
           CASE WHEN t.ended THEN p.created_at + interval '2 minutes' END,
           CASE WHEN t.ended THEN t.expires_at - interval '5 minutes' END,
           p.created_at, p.created_at
    FROM bench_plan AS p
    CROSS JOIN LATERAL (
        SELECT coalesce(p.scheduled_start_at, p.created_at)
               + make_interval(mins => p.duration_minutes) AS expires_at
    ) AS e
    CROSS JOIN LATERAL (SELECT e.expires_at, e.expires_at <= now() AS ended) AS t
""")

# `students` pool students per planned session, a different run of the pool for each.
_POOL_PARTICIPANTS = text("""
    INSERT INTO session_participants (id, session_id, user_id, role, status,
                                      first_joined_at, last_joined_at, left_at)
    SELECT gen_random_uuid(), s.id,
           md5('bench-student-' || (p.n * :students + j) % :pool_students)::uuid,
           'student', 'left', s.started_at + make_interval(secs => j),
           s.started_at + make_interval(secs => j)
               + (p.intervals - 1) * (s.ended_at - s.started_at) / p.intervals,
           s.ended_at
    FROM bench_plan AS p
    JOIN sessions AS s ON s.id = md5('bench-session-' || p.n)::uuid
    CROSS JOIN LATERAL generate_series(0, p.students - 1) AS j
""")

# The measured student in the measured class and in 49 pool sessions; the measured teacher
# in the measured class (a teacher who joins the call gets a participant row too).
_EXTRA_PARTICIPANTS = text("""
    INSERT INTO session_participants (id, session_id, user_id, role, status,
                                      first_joined_at, last_joined_at, left_at)
    SELECT gen_random_uuid(), s.id, m.user_id, m.role, 'left',
           s.started_at + interval '1 minute', s.started_at + interval '1 minute', s.ended_at
    FROM (
        SELECT CAST(:student AS uuid) AS user_id, 'student' AS role,
               md5(name)::uuid AS session_id
        FROM unnest(CAST(:joined AS text[])) AS name
        UNION ALL SELECT CAST(:student AS uuid), 'student', CAST(:measured_session AS uuid)
        UNION ALL SELECT CAST(:teacher AS uuid), 'teacher', CAST(:measured_session AS uuid)
    ) AS m
    JOIN sessions AS s ON s.id = m.session_id
""")

# `intervals` presence intervals per participant of the planned sessions, each closed by
# Daily's `participant.left` after 80 % of its share of the session.
_PRESENCE = text("""
    INSERT INTO participant_presence (id, session_id, user_id, daily_session_id,
                                      joined_at, left_at, duration_seconds, closed_by)
    SELECT gen_random_uuid(), sp.session_id, sp.user_id, md5(sp.id::text || k),
           sp.first_joined_at + k * w.slot, sp.first_joined_at + k * w.slot + 0.8 * w.slot,
           extract(epoch FROM 0.8 * w.slot)::float8, 'left'
    FROM bench_plan AS p
    JOIN sessions AS s ON s.id = md5('bench-session-' || p.n)::uuid
    JOIN session_participants AS sp ON sp.session_id = s.id
    CROSS JOIN LATERAL (SELECT (s.ended_at - s.started_at) / p.intervals AS slot) AS w
    CROSS JOIN LATERAL generate_series(0, p.intervals - 1) AS k
""")


def _write_plan(connection: Connection, room_base_url: str, *, extra: dict[str, object]) -> None:
    """The planned sessions, `extra` participants (if any), the pool students, presence."""
    code = {"alphabet": ALPHABET, "radix": len(ALPHABET), "code_length": CODE_LENGTH}
    connection.execute(_SESSIONS, {"room_base": room_base_url, **code})
    if extra:
        connection.execute(_EXTRA_PARTICIPANTS, extra)
    connection.execute(_POOL_PARTICIPANTS, _POOL_SHAPE)
    connection.execute(_PRESENCE)
    connection.execute(text("DROP TABLE bench_plan"))
