// Messages to the user outside the forms: the toast (short news, with an
// optional Undo action and its Ctrl/Cmd+Z shortcut), the error banner at the
// top of the task view, and the sentence that explains any failed request.

import { $ } from './dom.js';
import { ApiError, NetworkError } from './api.js';
import { SessionExpiredError } from './session.js';

const TOAST_MS = 4000;

const el = {
  main: $('main'),
  appError: $('app-error'),
  appErrorText: $('app-error-text'),
  appErrorDismiss: $('app-error-dismiss'),
  toast: $('toast'),
  toastText: $('toast-text'),
  toastAction: $('toast-action'),
};

function pluralSeconds(n) {
  return `${n} second${n === 1 ? '' : 's'}`;
}

/** A sentence for the user about what went wrong. */
export function describeError(err, context = 'generic') {
  if (err instanceof NetworkError) {
    return 'Can’t reach the server. Check your connection and try again.';
  }
  if (err instanceof SessionExpiredError) {
    return 'Your session has expired. Please log in again.';
  }
  if (err instanceof ApiError) {
    const code = err.status === 429 ? 'rate_limited' : err.code;
    switch (code) {
      case 'invalid_credentials':
        return 'That email and password don’t match. Please try again.';
      case 'email_taken':
        return 'An account with this email already exists. Log in instead?';
      case 'validation_failed':
        return 'Please fix the highlighted fields.';
      case 'rate_limited':
        return err.retryAfter !== null
          ? `Too many attempts. Please wait ${pluralSeconds(err.retryAfter)} and try again.`
          : 'Too many attempts. Please wait a moment and try again.';
      case 'not_found':
        return context === 'task' ? 'That task no longer exists.' : 'Not found.';
      case 'forbidden':
        return 'You don’t have access to that.';
      case 'service_unavailable':
        return 'The service is temporarily unavailable. Please try again shortly.';
      default:
        if (err.status >= 500) return 'Something went wrong on our side. Please try again.';
        return err.message || 'Something went wrong. Please try again.';
    }
  }
  console.error(err);
  return 'Something went wrong. Please try again.';
}

// ------------------------------------------------------------ toast

let toastTimer = null;
let toastOnDismiss = null;

/** Show a short message; an optional action (e.g. Undo) gets a button. */
export function toast(message, { actionLabel = null, onAction = null, onDismiss = null, duration = TOAST_MS } = {}) {
  dismissToast();
  el.toastText.textContent = message;
  if (actionLabel) {
    el.toastAction.textContent = actionLabel;
    el.toastAction.setAttribute('aria-keyshortcuts', 'Control+Z');
    el.toastAction.hidden = false;
    el.toastAction.onclick = () => {
      toastOnDismiss = null;
      hideToast();
      onAction();
    };
  } else {
    el.toastAction.hidden = true;
    el.toastAction.onclick = null;
  }
  el.toast.hidden = false;
  toastOnDismiss = onDismiss;
  toastTimer = setTimeout(dismissToast, duration);
}

/** Hide the toast without running its `onDismiss`. */
export function hideToast() {
  clearTimeout(toastTimer);
  toastTimer = null;
  el.toast.hidden = true;
  el.toastText.textContent = '';
  el.toastAction.onclick = null;
}

/** Hide the toast and run its `onDismiss` (e.g. commit a delete that can no longer be undone). */
export function dismissToast() {
  const callback = toastOnDismiss;
  toastOnDismiss = null;
  hideToast();
  if (callback) callback();
}

// ------------------------------------------------------------ error banner

export function showError(message) {
  el.appErrorText.textContent = message;
  el.appErrorDismiss.hidden = false;
  el.appError.classList.add('visible');
}

export function clearError() {
  el.appErrorText.textContent = '';
  el.appErrorDismiss.hidden = true;
  el.appError.classList.remove('visible');
}

/** Common handling for failed task operations. */
export function reportTaskError(err) {
  if (err instanceof SessionExpiredError) return; // the login view takes over
  showError(describeError(err, 'task'));
}

/** Wire the banner's dismiss button and the Ctrl/Cmd+Z shortcut for the toast's action. */
export function initFeedback() {
  // Ctrl/Cmd+Z undoes the last delete while its toast shows (text fields with
  // text in them keep their own undo).
  document.addEventListener('keydown', (event) => {
    if (event.key.toLowerCase() !== 'z' || !(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) return;
    const field = event.target.closest?.('input[type="text"], input[type="email"], input[type="password"], textarea');
    if (field && field.value !== '') return;
    if (!el.toast.hidden && !el.toastAction.hidden) {
      event.preventDefault();
      el.toastAction.click();
    }
  });

  el.appErrorDismiss.addEventListener('click', () => {
    clearError();
    el.main.focus();
  });
}
