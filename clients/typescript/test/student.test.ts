/** The seed plan's student flow: join by room code, read the session, leave. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { ok, TutoriumError } from "../src/index.js";
import { signedIn } from "./support.js";

test("a student joins by room code, sees the session and the roster, and leaves", async () => {
  const { api: teacher } = await signedIn("teacher");
  const session = await ok(
    teacher.client.POST("/api/v1/sessions", { body: { title: "Geometry", max_participants: 2 } }),
  );

  const { api: student } = await signedIn("student");
  const join = await ok(
    student.client.POST("/api/v1/sessions/join-by-code", {
      body: { room_code: session.room_code },
    }),
  );
  assert.equal(join.role, "student");
  assert.equal(join.session_id, session.id);

  const path = { session_id: session.id };
  const seen = await ok(student.client.GET("/api/v1/sessions/{session_id}", { params: { path } }));
  assert.equal(seen.participant_count, 1);

  const roster = await ok(
    student.client.GET("/api/v1/sessions/{session_id}/participants", { params: { path } }),
  );
  assert.ok(roster.items.some((participant) => participant.role === "student"));

  const left = await student.client.POST("/api/v1/sessions/{session_id}/leave", {
    params: { path },
  });
  assert.equal(left.response.status, 204);

  await assert.rejects(
    ok(student.client.POST("/api/v1/sessions/{session_id}/end", { params: { path } })),
    (error: unknown) => error instanceof TutoriumError && error.code === "not_session_teacher",
  );
});

test("a wrong room code is room_code_not_found", async () => {
  const { api: student } = await signedIn("student");
  await assert.rejects(
    ok(student.client.POST("/api/v1/sessions/join-by-code", { body: { room_code: "ZZZZ-ZZZZ" } })),
    (error: unknown) => error instanceof TutoriumError && error.code === "room_code_not_found",
  );
});
