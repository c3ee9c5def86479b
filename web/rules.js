// The input rules the client checks before sending, and the messages for them.
//
// These are the server's own rules, in the server's units, so the client never
// refuses what the server would accept nor lets through what it would refuse:
// the server counts characters as Unicode scalar values (Rust's
// `chars().count()`), so `charCount` counts code points, never UTF-16 units
// (`.length`); and it trims with Rust's `str::trim` (Unicode White_Space), so
// `serverTrim` strips exactly that set. Every form checks its input here; no
// other file enforces a limit (the inputs carry no maxlength/minlength, which
// count UTF-16 units). Pure functions: no DOM, no network.

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 1000;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const NAME_MAX = 100;

/** Characters, as the server counts them (Unicode scalar values). */
export function charCount(text) {
  return [...text].length;
}

// Unicode White_Space, what Rust's `char::is_whitespace` and `str::trim` use.
// (JavaScript's trim() differs: it also strips U+FEFF and keeps U+0085.)
// Every one of them is a single UTF-16 unit, so indexing by unit is safe.
const WHITE_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

/** `text` without leading and trailing whitespace, as the server trims it. */
export function serverTrim(text) {
  let start = 0;
  let end = text.length;
  while (start < end && WHITE_SPACE.test(text[start])) start += 1;
  while (end > start && WHITE_SPACE.test(text[end - 1])) end -= 1;
  return text.slice(start, end);
}

// ---------------------------------------------------------------- tasks

/**
 * A task as typed into a form (new task or edit), as the server will take it:
 * the title trimmed, 1–200 characters; the description exactly as typed, up to
 * 1000 characters, and null when left empty. `errors` maps field to message.
 */
export function readTask({ title: rawTitle, description: rawDescription }) {
  const title = serverTrim(rawTitle);
  const description = rawDescription === '' ? null : rawDescription;
  const errors = {};
  if (!title) errors.title = 'Give the task a title.';
  else if (charCount(title) > TITLE_MAX) errors.title = `Keep the title under ${TITLE_MAX + 1} characters.`;
  if (description !== null && charCount(description) > DESCRIPTION_MAX) {
    errors.description = `Keep the description under ${DESCRIPTION_MAX + 1} characters.`;
  }
  return { title, description, errors };
}

// ---------------------------------------------------------------- accounts

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

/**
 * Log-in or sign-up input. The email is trimmed (the server also lower-cases
 * it); the password is sent as typed and, on sign-up, must be 8–128
 * characters; the optional name is trimmed and at most 100 characters (blank
 * means none). The server has the last word on the rest (e.g. weak passwords).
 */
export function readCredentials({ email: rawEmail, password, name: rawName = '' }, { signup }) {
  const email = serverTrim(rawEmail);
  const name = signup ? serverTrim(rawName) : '';
  const errors = {}; // in the sign-up form's field order, so focus goes to the first one
  if (signup && charCount(name) > NAME_MAX) errors.name = `Use at most ${NAME_MAX} characters.`;
  if (!email) errors.email = 'Enter your email address.';
  else if (!EMAIL_SHAPE.test(email)) errors.email = 'Enter a valid email address, like name@example.com.';
  if (!password) errors.password = 'Enter your password.';
  else if (signup && charCount(password) < PASSWORD_MIN) errors.password = `Use at least ${PASSWORD_MIN} characters.`;
  else if (signup && charCount(password) > PASSWORD_MAX) errors.password = `Use at most ${PASSWORD_MAX} characters.`;
  return { email, password, name, errors };
}
