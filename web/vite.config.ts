/**
 * Vite serves and builds the reference app.
 *
 * The app calls the API at `/api/...` on its own origin; the dev and preview servers proxy that
 * to TUTORIUM_API_URL (default: `make run`'s http://127.0.0.1:8000), so no CORS is needed and a
 * production deployment serves `dist/` and the API behind one origin.
 *
 * `@daily-co/daily-js` is the real package unless DAILY_JS_URL names the emulator's stand-in
 * (an absolute URL: Vite and Rollup leave it external, so the browser loads it). `vite` (dev)
 * looks for the emulator at DAILY_EMULATOR_URL (default http://127.0.0.1:8787) and uses its
 * stand-in when it answers; DAILY_JS=real turns that off. `vite build` uses the stand-in only
 * when DAILY_JS_URL is given (the browser tests do), so `make web-build` ships the real one.
 */
import { defineConfig, type UserConfig } from 'vite';

const apiUrl = process.env.TUTORIUM_API_URL ?? 'http://127.0.0.1:8000';
const emulatorUrl = process.env.DAILY_EMULATOR_URL ?? 'http://127.0.0.1:8787';

async function emulatorAnswers(): Promise<boolean> {
  try {
    const answer = await fetch(`${emulatorUrl}/_emulator`, { signal: AbortSignal.timeout(1000) });
    return answer.ok;
  } catch {
    return false;
  }
}

async function dailyJsUrl(command: 'serve' | 'build'): Promise<string | undefined> {
  if (process.env.DAILY_JS_URL) return process.env.DAILY_JS_URL;
  if (command === 'build' || process.env.DAILY_JS === 'real') return undefined;
  return (await emulatorAnswers()) ? `${emulatorUrl}/_emulator/daily-js.mjs` : undefined;
}

export default defineConfig(async ({ command }): Promise<UserConfig> => {
  const standin = await dailyJsUrl(command);
  const alias: Record<string, string> = standin ? { '@daily-co/daily-js': standin } : {};
  console.log(`@daily-co/daily-js: ${standin ?? 'the real package'}`);
  const proxy = { '/api': { target: apiUrl, changeOrigin: false } };
  return {
    resolve: { alias },
    server: { host: '127.0.0.1', port: 5173, strictPort: true, proxy },
    preview: { host: '127.0.0.1', port: 4173, strictPort: true, proxy },
    build: { target: 'es2022' },
  };
});
