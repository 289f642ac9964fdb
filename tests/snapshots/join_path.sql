-- join target, by id
SELECT sessions.id, sessions.teacher_id, sessions.status, sessions.expires_at, sessions.room_name, sessions.room_url, sessions.recording, users.is_active, users.password_changed_at, users.full_name, session_participants.id AS id_1, session_participants.removed_at
FROM sessions LEFT OUTER JOIN users ON users.id = %(user_id)s::UUID LEFT OUTER JOIN session_participants ON session_participants.session_id = sessions.id AND session_participants.user_id = %(user_id)s::UUID
WHERE sessions.id = %(session_id)s::UUID;

-- join target, by room code
SELECT sessions.id, sessions.teacher_id, sessions.status, sessions.expires_at, sessions.room_name, sessions.room_url, sessions.recording, users.is_active, users.password_changed_at, users.full_name, session_participants.id AS id_1, session_participants.removed_at
FROM sessions LEFT OUTER JOIN users ON users.id = %(user_id)s::UUID LEFT OUTER JOIN session_participants ON session_participants.session_id = sessions.id AND session_participants.user_id = %(user_id)s::UUID
WHERE sessions.room_code = %(room_code)s;

-- rejoin
SELECT FROM sessions WHERE id = %(target_session)s FOR UPDATE;
WITH rejoined AS
(UPDATE session_participants SET status=%(param_1)s, last_joined_at=CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE), left_at=%(param_2)s WHERE session_participants.session_id = %(target_session)s::UUID AND session_participants.user_id = %(caller)s::UUID AND session_participants.removed_at IS NULL AND (EXISTS (SELECT sessions.id
FROM sessions
WHERE sessions.id = %(target_session)s::UUID AND NOT (sessions.status = %(status_1)s OR sessions.expires_at <= CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE)))) RETURNING session_participants.id)
 SELECT EXISTS (SELECT rejoined.id
FROM rejoined) AS anon_1;

-- take a new seat
SELECT FROM sessions WHERE id = %(target_session)s FOR UPDATE;
WITH new_seat AS
(INSERT INTO session_participants (id, session_id, user_id, role, status, first_joined_at, last_joined_at) SELECT CAST(%(seat_id)s::UUID AS UUID) AS anon_6, CAST(%(target_session)s::UUID AS UUID) AS anon_7, CAST(%(caller)s::UUID AS UUID) AS anon_8, CAST(%(seat_role)s AS VARCHAR(16)) AS anon_9, CAST(%(seat_status)s AS VARCHAR(16)) AS anon_10, CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE) AS anon_5, CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE) AS anon__1
FROM sessions
WHERE sessions.id = %(target_session)s::UUID AND NOT (sessions.status = %(status_1)s OR sessions.expires_at <= CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE)) AND (NOT %(seat_is_limited)s OR sessions.max_participants > (SELECT count(*) AS count_1
FROM session_participants
WHERE session_participants.session_id = %(target_session)s::UUID AND session_participants.role = %(role_1)s AND session_participants.removed_at IS NULL)) ON CONFLICT (session_id, user_id) DO NOTHING RETURNING session_participants.session_id, session_participants.user_id),
seated_event AS
(INSERT INTO session_events (id, session_id, type, source, actor_id, payload, occurred_at) SELECT CAST(%(event_id)s::UUID AS UUID) AS anon_1, new_seat.session_id AS session_id, CAST(%(event_type)s AS VARCHAR(64)) AS anon_2, CAST(%(event_source)s AS VARCHAR(16)) AS anon_3, new_seat.user_id AS user_id, CAST(%(event_payload)s::JSONB AS JSONB) AS anon_4, CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE) AS anon_5
FROM new_seat)
 SELECT EXISTS (SELECT new_seat.session_id
FROM new_seat) AS anon_11;

-- why not seated
SELECT EXISTS (SELECT sessions.id
FROM sessions
WHERE sessions.id = %(target_session)s::UUID) AS anon_1, EXISTS (SELECT session_participants.id
FROM session_participants
WHERE session_participants.session_id = %(target_session)s::UUID AND session_participants.user_id = %(caller)s::UUID) AS anon_2, EXISTS (SELECT session_participants.id
FROM session_participants
WHERE session_participants.session_id = %(target_session)s::UUID AND session_participants.user_id = %(caller)s::UUID AND session_participants.removed_at IS NOT NULL) AS anon_3, EXISTS (SELECT sessions.id
FROM sessions
WHERE sessions.id = %(target_session)s::UUID AND NOT (sessions.status = %(status_1)s OR sessions.expires_at <= CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE))) AS anon_4;

-- teacher's first join: lock the session
SELECT sessions.id, sessions.title, sessions.description, sessions.teacher_id, sessions.status, sessions.max_participants, sessions.room_name, sessions.room_url, sessions.room_code, sessions.recording, sessions.screen_sharer_id, sessions.screen_sharer_daily_id, sessions.scheduled_start_at, sessions.duration_minutes, sessions.expires_at, sessions.started_at, sessions.ended_at, sessions.created_at, sessions.updated_at, sessions.last_event_position
FROM sessions
WHERE sessions.id = %(session_id)s::UUID FOR UPDATE;
