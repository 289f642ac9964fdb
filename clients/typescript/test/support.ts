/** Accounts for the flow tests, made through the API itself. */
import { createHmac } from "node:crypto";

import { createTutoriumClient, ok } from "../src/index.js";
import type { TutoriumClient } from "../src/index.js";

export const baseUrl = process.env.TUTORIUM_API_URL ?? "http://127.0.0.1:8000";
export const PASSWORD = "correct horse battery";

let counter = 0;

export function uniqueEmail(role: string): string {
  counter += 1;
  return `${role}-${process.pid}-${Date.now()}-${counter}@example.com`;
}

export async function signedIn(
  role: "teacher" | "student",
): Promise<{ api: TutoriumClient; email: string }> {
  const api = createTutoriumClient({ baseUrl });
  const email = uniqueEmail(role);
  await ok(
    api.client.POST("/api/v1/auth/register", {
      body: { email, password: PASSWORD, full_name: `A ${role}`, role },
    }),
  );
  await api.login(email, PASSWORD);
  return { api, email };
}

/**
 * An access token of this API that expired a minute ago, for the user of `token`.
 * Signed with the secret `make test-client` gave the API (HS256, as the API signs).
 */
export function expiredAccessToken(token: string): string {
  const secret = process.env.TUTORIUM_TEST_SECRET_KEY;
  if (!secret) {
    throw new Error("TUTORIUM_TEST_SECRET_KEY is not set: run this through make test-client");
  }
  const [, payload] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as {
    sub: string;
    role: string;
  };
  const now = Math.floor(Date.now() / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({
    sub: claims.sub,
    role: claims.role,
    iat: now - 3600,
    exp: now - 60,
  })}`;
  const signature = createHmac("sha256", secret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}
