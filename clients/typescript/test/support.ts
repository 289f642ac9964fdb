/** Accounts for the flow tests, made through the API itself. */
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
