// Test harness: starts the real todo-server binary on a free port with a
// fresh database in a temporary directory, and stops it afterwards.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HEALTH_TIMEOUT_MS = 30_000;

export function serverBinary() {
  const configured = process.env.TODO_SERVER_BIN || '../target/release/todo-server';
  return path.resolve(E2E_DIR, configured);
}

/** Ask the OS for a port that is free right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function randomSecret(length = 48) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Start a server. Options:
 *   accessTokenTtlSeconds — sets ACCESS_TOKEN_TTL_SECONDS
 *   env — extra environment variables
 * Resolves to `{ baseURL, port, dataDir, logs(), stop() }`.
 */
export async function startServer({ accessTokenTtlSeconds, env = {} } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) {
    throw new Error(
      `todo-server binary not found at ${bin}. Build it with \`cargo build --release\` ` +
        'or point TODO_SERVER_BIN at it.',
    );
  }
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'todo-e2e-'));
  // Retry a couple of times in case another process grabs the port between probe and bind.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const childEnv = {
      ...process.env,
      DATABASE_URL: path.join(dataDir, 'todo.db'),
      BIND_ADDR: `127.0.0.1:${port}`,
      JWT_SECRET: randomSecret(48),
      COOKIE_SECURE: 'false',
      AUTH_RATE_LIMIT_PER_MINUTE: '0',
      APP_ENV: 'development',
      RUST_LOG: process.env.RUST_LOG || 'warn',
      // Mailed links point at this server.
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...env,
    };
    if (accessTokenTtlSeconds !== undefined) childEnv.ACCESS_TOKEN_TTL_SECONDS = String(accessTokenTtlSeconds);

    const child = spawn(bin, [], { env: childEnv, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let exited = null;
    const exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        exited = { code, signal };
        resolve(exited);
      });
      child.on('error', (err) => {
        exited = { code: null, signal: null, error: err };
        resolve(exited);
      });
    });

    const baseURL = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    let healthy = false;
    while (Date.now() < deadline && !exited) {
      try {
        const res = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) {
          healthy = true;
          break;
        }
      } catch {
        // not up yet
      }
      await sleep(100);
    }

    const stop = async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      await fs.rm(dataDir, { recursive: true, force: true });
    };

    if (healthy) {
      return { baseURL, port, dataDir, logs: () => output, stop };
    }
    if (!exited) {
      await stop();
      throw new Error(`todo-server did not answer GET /healthz with 200 within ${HEALTH_TIMEOUT_MS / 1000}s.\n--- server output ---\n${output}`);
    }
    const addrInUse = /address already in use|AddrInUse/i.test(output);
    if (addrInUse && attempt < 3) continue;
    await fs.rm(dataDir, { recursive: true, force: true });
    throw new Error(`todo-server exited early (${JSON.stringify(exited)}).\n--- server output ---\n${output}`);
  }
}

/**
 * Wait until access tokens issued now are refused by the server.
 *
 * Signs up a throwaway user through the JSON API (body transport), then polls
 * GET /api/auth/me with its access token until the answer is 401. Any token
 * the browser got before this call has expired by then too. This follows the
 * server's real cut-off (TTL plus whatever clock leeway it allows) instead of
 * guessing it. Resolves to the seconds waited.
 */
export async function waitForAccessTokenExpiry(baseURL, { timeoutMs = 90_000 } = {}) {
  const started = Date.now();
  const email = `probe-${crypto.randomBytes(6).toString('hex')}@example.com`;
  const res = await fetch(`${baseURL}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: `probe ${randomSecret(20)}` }),
  });
  if (res.status !== 201) throw new Error(`probe sign-up failed: ${res.status} ${await res.text()}`);
  const { access_token: token } = await res.json();
  for (;;) {
    const me = await fetch(`${baseURL}/api/auth/me`, { headers: { Authorization: `Bearer ${token}` } });
    if (me.status === 401) return (Date.now() - started) / 1000;
    if (me.status !== 200) throw new Error(`probe GET /api/auth/me answered ${me.status}`);
    if (Date.now() - started > timeoutMs) {
      throw new Error(`access token still accepted after ${timeoutMs / 1000}s; is ACCESS_TOKEN_TTL_SECONDS honoured?`);
    }
    await sleep(250);
  }
}
