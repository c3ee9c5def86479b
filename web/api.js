// HTTP calls to the todo API, and keeping the access token fresh.
//
// Owns the wire format (JSON bodies, `{"error": {...}}` answers, Retry-After),
// the refresh-once-and-retry policy for authenticated calls, and one function
// per endpoint. The session itself (access token, user, other tabs) lives in
// session.js. The refresh token lives only in an HttpOnly cookie that the
// server sets when we send `X-Token-Transport: cookie`; JavaScript never sees
// it. On a 401 from any authenticated call we refresh once (sharing a single
// in-flight refresh between concurrent callers) and retry the call.
//
// A refresh is safe to repeat: the server hands a refresh token presented again
// within a few seconds of its rotation the same successor, so a refresh whose
// answer was lost, or one racing another tab's, still succeeds.

import {
  SessionExpiredError, endSession, getAccessToken, getUser, renewSession, sessionGeneration, startSession,
} from './session.js';

const JSON_TYPE = 'application/json';
const COOKIE_TRANSPORT = { 'X-Token-Transport': 'cookie' };

let refreshInFlight = null;

/** An error answer from the API: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  constructor({ status, code, message, details = [], retryAfter = null }) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

/** The request never got an answer (offline, server down, connection reset). */
export class NetworkError extends Error {
  constructor(cause) {
    super('Network request failed');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return null;
}

async function send(path, { method = 'GET', body, token = null, headers: extra = {}, keepalive = false } = {}) {
  const headers = { Accept: JSON_TYPE, ...extra };
  if (body !== undefined) headers['Content-Type'] = JSON_TYPE;
  if (token) headers.Authorization = `Bearer ${token}`;

  let response;
  let text = '';
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      keepalive,
    });
    if (response.status !== 204) text = await response.text();
  } catch (err) {
    throw new NetworkError(err);
  }

  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (!response.ok) {
    const error = (data && typeof data.error === 'object' && data.error) || {};
    throw new ApiError({
      status: response.status,
      code: typeof error.code === 'string' ? error.code : `http_${response.status}`,
      message: typeof error.message === 'string' ? error.message : response.statusText || 'Request failed',
      details: Array.isArray(error.details) ? error.details : [],
      retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
    });
  }
  return data;
}

// ---------------------------------------------------------------- auth

/**
 * Sign up. Resolves to the user, or to `{ verificationRequired: true }` when the server wants
 * the address confirmed first (it then answers the same for every address, with no tokens).
 */
export async function register({ email, password, name }) {
  const body = { email, password };
  if (name) body.name = name;
  const data = await send('/api/auth/register', { method: 'POST', body, headers: COOKIE_TRANSPORT });
  if (data && data.status === 'verification_required') return { verificationRequired: true };
  return startSession(data);
}

/** Ask for a password reset link; the answer is the same whether the address has an account. */
export function requestPasswordReset(email) {
  return send('/api/auth/password-reset', { method: 'POST', body: { email } });
}

export function confirmPasswordReset(token, newPassword) {
  return send('/api/auth/password-reset/confirm', { method: 'POST', body: { token, new_password: newPassword } });
}

export function verifyEmail(token) {
  return send('/api/auth/verify-email', { method: 'POST', body: { token } });
}

/** A new verification link: for the signed-in user, or for `email` when signed out. */
export function resendVerification(email = null) {
  if (email === null) return authed('/api/auth/verify-email/resend', { method: 'POST' });
  return send('/api/auth/verify-email/resend', { method: 'POST', body: { email } });
}

export async function login({ email, password }) {
  const data = await send('/api/auth/login', { method: 'POST', body: { email, password }, headers: COOKIE_TRANSPORT });
  return startSession(data);
}

async function refreshOnce() {
  return send('/api/auth/refresh', { method: 'POST', body: {}, headers: COOKIE_TRANSPORT });
}

async function doRefresh() {
  const startedAt = sessionGeneration();
  let data;
  try {
    data = await refreshOnce();
  } catch (err) {
    // No answer: the server may have rotated the cookie without our browser
    // ever getting the new one. Presenting the old cookie again right away is
    // a retry the server answers with that same new token (after its grace
    // window it would count as theft), so try once more, at once.
    if (!(err instanceof NetworkError)) throw err;
    data = await refreshOnce();
  }
  if (startedAt !== sessionGeneration()) {
    // Signed out (or in as someone else) while the refresh was in flight.
    throw new SessionExpiredError();
  }
  renewSession(data);
  return data;
}

/** Refresh the session; concurrent callers share one request. */
export function refreshSession() {
  if (!refreshInFlight) {
    refreshInFlight = doRefresh().finally(() => {
      refreshInFlight = null;
    });
  }
  return refreshInFlight;
}

/**
 * Restore a session on page load from the refresh cookie.
 * Resolves to the user, or null when there is no valid session.
 */
export async function restoreSession() {
  try {
    const data = await refreshSession();
    return data.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

// Renew the access token after a 401. Errors that do not say the session is
// over (lost connection, rate limiting, server trouble) are passed on as they
// are, without signing the user out.
async function renew() {
  try {
    await refreshSession();
  } catch (err) {
    if (err instanceof NetworkError) throw err;
    if (err instanceof ApiError && (err.status === 429 || err.status >= 500)) throw err;
    if (getUser() !== null) endSession('expired');
    throw new SessionExpiredError();
  }
}

// A 401 about the access token itself, as opposed to one about what the call carried (a
// wrong password when deleting the account is 401 `invalid_credentials`).
function tokenRefused(err) {
  return err instanceof ApiError && err.status === 401 && err.code !== 'invalid_credentials';
}

/** A call with `Authorization: Bearer`, refreshed and retried once when the token is refused. */
async function authed(path, options = {}) {
  if (!getAccessToken()) await renew();
  const token = getAccessToken();
  try {
    return await send(path, { ...options, token });
  } catch (err) {
    if (!tokenRefused(err)) throw err;
  }
  // Another caller may already have swapped in a fresh token meanwhile.
  if (getAccessToken() === token || !getAccessToken()) await renew();
  try {
    return await send(path, { ...options, token: getAccessToken() });
  } catch (err) {
    if (tokenRefused(err)) {
      // A brand-new token was refused: the session was revoked.
      if (getUser() !== null) endSession('expired');
      throw new SessionExpiredError();
    }
    throw err;
  }
}

/** Log out this device: the server revokes the refresh token and clears the cookie. */
export async function logout() {
  try {
    await send('/api/auth/logout', { method: 'POST', body: {}, headers: COOKIE_TRANSPORT });
  } catch (err) {
    // No answer means the cookie may still be valid; let the caller say so.
    if (err instanceof NetworkError) throw err;
    if (err instanceof ApiError && (err.status === 429 || err.status >= 500)) throw err;
    // 401 and friends: that session is already gone, which is what we wanted.
  }
  endSession('signed-out');
}

/** Revoke every session of this user, on all devices. */
export async function logoutEverywhere() {
  await authed('/api/auth/logout-all', { method: 'POST', body: {}, headers: COOKIE_TRANSPORT });
  // Also drop this browser's (now revoked) refresh cookie.
  try {
    await send('/api/auth/logout', { method: 'POST', body: {}, headers: COOKIE_TRANSPORT });
  } catch {
    // Already revoked server-side; nothing more to do.
  }
  endSession('signed-out');
}

export function me() {
  return authed('/api/auth/me');
}

/** Delete the account (confirmed with its password); the session ends with it. */
export async function deleteAccount(password) {
  await authed('/api/account', { method: 'DELETE', body: { password } });
  endSession('signed-out');
}

/** Everything the server holds about the user, as a JSON file (a Blob). */
export async function exportAccount() {
  if (!getAccessToken()) await renew();
  const fetchExport = (token) => fetch('/api/account/export', {
    headers: { Authorization: `Bearer ${token}` },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  let response;
  try {
    response = await fetchExport(getAccessToken());
    if (response.status === 401) {
      await renew();
      response = await fetchExport(getAccessToken());
    }
  } catch (err) {
    throw new NetworkError(err);
  }
  if (!response.ok) {
    throw new ApiError({ status: response.status, code: `http_${response.status}`, message: 'The export failed' });
  }
  return response.blob();
}

// ---------------------------------------------------------------- tasks

export function listTasks({ status = 'all', limit = 20, cursor = null } = {}) {
  const params = new URLSearchParams({ status, limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  return authed(`/api/tasks?${params}`);
}

export function createTask({ title, description = null }) {
  const body = { title };
  if (description) body.description = description;
  return authed('/api/tasks', { method: 'POST', body });
}

export function getTask(id) {
  return authed(`/api/tasks/${encodeURIComponent(id)}`);
}

/** Partial update: `{ title?, description?, completed? }`; `description: null` clears it. */
export function updateTask(id, changes) {
  return authed(`/api/tasks/${encodeURIComponent(id)}`, { method: 'PATCH', body: changes });
}

export function deleteTask(id) {
  return authed(`/api/tasks/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/**
 * Best-effort delete while the page is going away (no refresh, no retry);
 * `keepalive` lets the request outlive the page.
 */
export function deleteTaskOnUnload(id) {
  const token = getAccessToken();
  if (!token) return;
  send(`/api/tasks/${encodeURIComponent(id)}`, { method: 'DELETE', token, keepalive: true }).catch(() => {});
}
