/**
 * The `pattern`s in /openapi.json mean, in a browser's regex dialect (ECMA-262), what the
 * server enforces in Python's: a client that checks a field first must never refuse what the
 * server would take, nor send what it will refuse. The values sit where the two dialects' `\s`
 * differ (U+001C-U+001F, U+0085, U+FEFF) and on either side of them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { createTutoriumClient } from "../src/index.js";
import { baseUrl, signedIn, uniqueEmail } from "./support.js";

const openapiUrl = process.env.TUTORIUM_OPENAPI_URL ?? `${baseUrl}/openapi.json`;

type Schema = { properties: Record<string, { pattern?: string }> };

async function publishedPattern(schema: string, field: string): Promise<RegExp> {
  const document = (await (await fetch(openapiUrl)).json()) as {
    components: { schemas: Record<string, Schema> };
  };
  const pattern = document.components.schemas[schema]?.properties[field]?.pattern;
  assert.ok(pattern, `${schema}.${field} publishes a pattern`);
  return new RegExp(pattern, "u");
}

test("the password pattern refuses in ECMA-262 exactly what the server refuses", async () => {
  const pattern = await publishedPattern("UserCreate", "password");
  const api = createTutoriumClient({ baseUrl });
  const passwords = [
    "\u001c\u001d\u001e\u001f\u001c\u001d\u001e\u001f", // all spaces to Python, none to ECMA
    "\ufeff \u00a0\u2000\ufeff \u00a0\u2000", // U+FEFF: a space to ECMA, not to Python
    "\u0085\u001c\u2028 \u0085\u001c\u2028 ", // all spaces to Python
    "correct horse battery",
    "aaaaaaaa", // fewer than 4 different characters
  ];
  for (const password of passwords) {
    const { response } = await api.client.POST("/api/v1/auth/register", {
      body: { email: uniqueEmail("pattern"), password, full_name: "A pattern", role: "student" },
    });
    const expected = pattern.test(password) ? 201 : 422;
    assert.equal(response.status, expected, `password ${JSON.stringify(password)}`);
  }
});

test("the title pattern refuses in ECMA-262 exactly what the server refuses", async () => {
  const pattern = await publishedPattern("SessionCreate", "title");
  const { api } = await signedIn("teacher");
  const titles = ["\u001c\u0085", "\ufeff", "\u00a0Algebra\u3000", " \t\u2028"];
  for (const title of titles) {
    const { response } = await api.client.POST("/api/v1/sessions", {
      body: { title, max_participants: 2 },
    });
    const expected = pattern.test(title) ? 201 : 422;
    assert.equal(response.status, expected, `title ${JSON.stringify(title)}`);
  }
});
