/** The seed plan's teacher flow, written with the client against the live API + emulator. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { ok, TutoriumError } from "../src/index.js";
import type { Schemas } from "../src/index.js";
import { expiredAccessToken, signedIn } from "./support.js";

test("a teacher creates a session, joins it, reads it, ends it and reads attendance", async () => {
  const { api } = await signedIn("teacher");

  // The seed plan's create body, unchanged: optional-with-default fields may be left out.
  const body: Schemas["SessionCreate"] = {
    title: "Algebra II — quadratic equations",
    description: "Bring last week's worksheet.",
    max_participants: 12,
  };
  const session = await ok(api.client.POST("/api/v1/sessions", { body }));
  assert.equal(session.status, "scheduled");
  assert.match(session.room_code, /^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  assert.equal(session.duration_minutes, 120);

  const listed = await ok(api.client.GET("/api/v1/sessions", { params: { query: { limit: 5 } } }));
  assert.deepEqual(
    listed.items.map((item) => item.id),
    [session.id],
  );

  const path = { session_id: session.id };
  const join = await ok(api.client.POST("/api/v1/sessions/{session_id}/join", { params: { path } }));
  assert.equal(join.role, "teacher");
  assert.ok(join.token.length > 0);
  assert.ok(join.join_url.startsWith(join.room_url));

  const started = await ok(api.client.GET("/api/v1/sessions/{session_id}", { params: { path } }));
  assert.equal(started.status, "active");

  const edited = await ok(
    api.client.PATCH("/api/v1/sessions/{session_id}", {
      params: { path },
      body: { title: "Algebra II (moved)" },
    }),
  );
  assert.equal(edited.title, "Algebra II (moved)");

  const ended = await ok(api.client.POST("/api/v1/sessions/{session_id}/end", { params: { path } }));
  assert.equal(ended.status, "ended");

  const attendance = await ok(
    api.client.GET("/api/v1/sessions/{session_id}/attendance", { params: { path } }),
  );
  assert.ok(Array.isArray(attendance.items));
});

test("errors arrive typed by their code", async () => {
  const { api } = await signedIn("teacher");
  await assert.rejects(
    ok(api.client.POST("/api/v1/sessions", { body: { title: "" } })),
    (error: unknown) => {
      assert.ok(error instanceof TutoriumError);
      assert.equal(error.status, 422);
      assert.equal(error.code, "validation_error");
      assert.deepEqual(error.errors[0]?.loc, ["body", "title"]);
      return true;
    },
  );
  api.logout();
  await assert.rejects(ok(api.client.GET("/api/v1/users/me")), (error: unknown) => {
    assert.ok(error instanceof TutoriumError);
    assert.equal(error.code, "not_authenticated");
    return true;
  });
});

test("an expired access token is refreshed and the call retried", async () => {
  const { api } = await signedIn("teacher");
  const current = api.tokens.get();
  assert.ok(current !== null);
  // A well-formed token of this API that has expired: what an app holds after an hour.
  const expired = expiredAccessToken(current.accessToken);
  api.tokens.set({ ...current, accessToken: expired });

  const me = await ok(api.client.GET("/api/v1/users/me"));
  assert.equal(me.role, "teacher");
  const renewed = api.tokens.get();
  assert.ok(renewed !== null);
  assert.notEqual(renewed.refreshToken, current.refreshToken);
});
