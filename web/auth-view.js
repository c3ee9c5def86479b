// The signed-out view: the Log in / Sign up tabs, their forms, the password
// reveal buttons and the notice above the log-in form (e.g. "session expired").
// It checks input with rules.js, calls the API, and hands a signed-in user to
// whoever called initAuthView (main.js); it does not know about tasks.

import { $ } from './dom.js';
import { ApiError, login, register } from './api.js';
import { readCredentials } from './rules.js';
import { clearFieldErrors, detailsToErrors, lockSubmit, setBusy, showFieldErrors } from './forms.js';
import { describeError } from './feedback.js';

const el = {
  tabLogin: $('tab-login'),
  tabSignup: $('tab-signup'),
  loginPanel: $('login-panel'),
  signupPanel: $('signup-panel'),
  sessionNotice: $('session-notice'),
  loginForm: $('login-form'),
  loginError: $('login-error'),
  signupForm: $('signup-form'),
  signupError: $('signup-error'),
};

let signedIn = () => {};
let forgot = () => {};
let checkEmail = () => {};

function selectTab(which, { focus = false } = {}) {
  const login = which === 'login';
  el.tabLogin.setAttribute('aria-selected', String(login));
  el.tabSignup.setAttribute('aria-selected', String(!login));
  el.tabLogin.tabIndex = login ? 0 : -1;
  el.tabSignup.tabIndex = login ? -1 : 0;
  el.loginPanel.hidden = !login;
  el.signupPanel.hidden = login;
  if (focus) (login ? el.tabLogin : el.tabSignup).focus();
}

/**
 * Reset the forms for a fresh visit (passwords and errors cleared) and focus
 * the first field to fill. Call once the view is visible.
 */
export function showAuth({ tab = 'login', notice = '', email = '' } = {}) {
  selectTab(tab);
  el.sessionNotice.textContent = notice;
  el.sessionNotice.hidden = !notice;
  el.loginError.textContent = '';
  el.signupError.textContent = '';
  clearFieldErrors(el.loginForm);
  clearFieldErrors(el.signupForm);
  el.loginForm.elements.password.value = '';
  el.signupForm.elements.password.value = '';
  if (email) el.loginForm.elements.email.value = email;
  const target = tab === 'login'
    ? (email ? el.loginForm.elements.password : el.loginForm.elements.email)
    : el.signupForm.elements.name;
  target.focus();
}

/** A message under the log-in form that is not about one field (e.g. the server is down). */
export function showLoginError(message) {
  el.loginError.textContent = message;
}

export function hideSessionNotice() {
  el.sessionNotice.hidden = true;
}

async function submitAuth(form, errorEl, signup) {
  clearFieldErrors(form);
  errorEl.textContent = '';
  const fields = form.elements;
  const { email, password, name, errors } = readCredentials({
    email: fields.email.value,
    password: fields.password.value,
    name: signup ? fields.name.value : '',
  }, { signup });
  if (Object.keys(errors).length) {
    showFieldErrors(form, errors)?.focus();
    errorEl.textContent = 'Please fix the highlighted fields.';
    return;
  }
  setBusy(form, true);
  try {
    const user = signup ? await register({ email, password, name }) : await login({ email, password });
    form.reset();
    if (user.verificationRequired) {
      checkEmail(email, { afterLogin: false });
      return;
    }
    signedIn(user, { signup });
  } catch (err) {
    errorEl.textContent = describeError(err);
    if (err instanceof ApiError) {
      if (err.code === 'validation_failed') {
        showFieldErrors(form, detailsToErrors(err.details))?.focus();
      } else if (err.code === 'email_not_verified') {
        form.reset();
        checkEmail(email, { afterLogin: true });
      } else if (err.code === 'invalid_credentials') {
        form.elements.password.value = '';
        form.elements.password.focus();
      } else if (err.code === 'email_taken') {
        form.elements.email.setAttribute('aria-invalid', 'true');
        form.elements.email.focus();
      } else if (err.status === 429 && err.retryAfter) {
        setBusy(form, false);
        lockSubmit(form, err.retryAfter);
        return;
      }
    }
  } finally {
    setBusy(form, false);
  }
}

/**
 * Wire the tabs and forms. `onSignedIn(user, { signup })` runs after a successful log-in or
 * sign-up; `onForgot(email)` when "Forgot your password?" is chosen; `onCheckEmail(email,
 * { afterLogin })` when the address must be confirmed first.
 */
export function initAuthView({ onSignedIn, onForgot, onCheckEmail }) {
  signedIn = onSignedIn;
  forgot = onForgot;
  checkEmail = onCheckEmail;
  $('forgot-link').addEventListener('click', () => forgot(el.loginForm.elements.email.value.trim()));
  el.tabLogin.addEventListener('click', () => selectTab('login'));
  el.tabSignup.addEventListener('click', () => selectTab('signup'));
  for (const tab of [el.tabLogin, el.tabSignup]) {
    tab.addEventListener('keydown', (event) => {
      if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) {
        event.preventDefault();
        let next = tab === el.tabLogin ? 'signup' : 'login';
        if (event.key === 'Home') next = 'login';
        if (event.key === 'End') next = 'signup';
        selectTab(next, { focus: true });
      }
    });
  }

  for (const button of document.querySelectorAll('[data-reveal]')) {
    button.addEventListener('click', () => {
      const input = $(button.dataset.reveal);
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      button.textContent = show ? 'Hide' : 'Show';
      button.setAttribute('aria-pressed', String(show));
      button.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
    });
  }

  el.loginForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitAuth(el.loginForm, el.loginError, false);
  });
  el.signupForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitAuth(el.signupForm, el.signupError, true);
  });
}
