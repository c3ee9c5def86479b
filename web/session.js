// The signed-in session as this tab knows it, and its sync with other tabs.
//
// Owns the access token and the current user, kept in memory only (never in
// storage; the refresh token is an HttpOnly cookie JavaScript never sees), the
// listeners told when the session starts or ends, and the BroadcastChannel that
// tells other tabs about sign-in and sign-out. No network calls: api.js renews
// the session and calls startSession / renewSession / endSession.

let accessToken = null;
let currentUser = null;
// Bumped on every sign-in/sign-out so a refresh that finishes after the user
// logged out cannot bring the session back.
let generation = 0;

const listeners = new Set();

/** The session could not be renewed; the user must log in again. */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your session has expired');
    this.name = 'SessionExpiredError';
  }
}

/**
 * Subscribe to session changes. The listener receives
 * `{ type: 'signed-in' | 'signed-out' | 'expired', user }`.
 */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(type, user) {
  for (const listener of listeners) {
    try {
      listener({ type, user });
    } catch (err) {
      console.error(err);
    }
  }
}

export function getUser() {
  return currentUser;
}

export function isSignedIn() {
  return accessToken !== null;
}

export function getAccessToken() {
  return accessToken;
}

/** Changes whenever a session starts or ends; see api.js's refresh. */
export function sessionGeneration() {
  return generation;
}

function setSession(data) {
  generation += 1;
  accessToken = data.access_token;
  currentUser = data.user;
}

/** A sign-in or sign-up answer (`{ access_token, user }`): a new session. */
export function startSession(data) {
  setSession(data);
  emit('signed-in', currentUser);
  return currentUser;
}

/** A refresh answer: the same session with a new access token (signed-in only if it was not). */
export function renewSession(data) {
  const wasSignedIn = currentUser !== null;
  setSession(data);
  if (!wasSignedIn) emit('signed-in', currentUser);
}

/** Drop the session from memory and tell listeners why (`'signed-out'` or `'expired'`). */
export function endSession(type) {
  const user = currentUser;
  generation += 1;
  accessToken = null;
  currentUser = null;
  emit(type, user);
}

/** Forget the in-memory session without calling the server (e.g. another tab logged out). */
export function forgetSession() {
  endSession('signed-out');
}

// ---------------------------------------------------------------- other tabs

const channel = 'BroadcastChannel' in window ? new BroadcastChannel('todo-session') : null;

/** Tell this browser's other tabs that we signed in or out (`'signed-in'` / `'signed-out'`). */
export function tellOtherTabs(type) {
  try {
    channel?.postMessage({ type });
  } catch {
    // Ignore: cross-tab sync is a nicety.
  }
}

/** Call `listener(type)` when another tab signed in or out. */
export function onOtherTabs(listener) {
  channel?.addEventListener('message', (event) => listener(event.data && event.data.type));
}
