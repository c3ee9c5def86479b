// The signed-out pages reached from a mailed link or the log-in form: "forgot your password"
// (ask for a link), the reset page (a link's token and a new password), confirming the
// address (a verification link), and "check your email" after a sign-up that must be
// confirmed first. Tokens arrive in the URL's fragment, which browsers never send to a server;
// main.js removes it from the address bar before calling these.

import { $ } from './dom.js';
import { ApiError, confirmPasswordReset, requestPasswordReset, resendVerification, verifyEmail } from './api.js';
import { readCredentials } from './rules.js';
import { clearFieldErrors, detailsToErrors, lockSubmit, setBusy, showFieldErrors } from './forms.js';
import { describeError } from './feedback.js';

const el = {
  heading: $('recovery-heading'),
  text: $('recovery-text'),
  forgotForm: $('forgot-form'),
  resetForm: $('reset-form'),
  resendForm: $('resend-form'),
  error: $('recovery-error'),
  back: $('recovery-back'),
};

let backToLogin = () => {};
let resetToken = null;

function page({ heading, text = '', form = null }) {
  el.heading.textContent = heading;
  el.text.textContent = text;
  el.error.textContent = '';
  for (const each of [el.forgotForm, el.resetForm, el.resendForm]) {
    each.hidden = each !== form;
    clearFieldErrors(each);
  }
  el.heading.focus();
}

/** Ask for a reset link for `email` (pre-filled from the log-in form). */
export function showForgot(email = '') {
  page({
    heading: 'Reset your password',
    text: 'Enter the address you signed up with. We’ll mail you a link to choose a new password.',
    form: el.forgotForm,
  });
  el.forgotForm.elements.email.value = email;
  el.forgotForm.elements.email.focus();
}

/** The page a reset link opens: choose a new password. */
export function showReset(token) {
  resetToken = token;
  page({ heading: 'Choose a new password', text: 'Every device signed in to your account will be logged out.', form: el.resetForm });
  el.resetForm.elements.new_password.value = '';
  el.resetForm.elements.new_password.focus();
}

/** "Check your email", with a way to get the link again. */
export function showCheckEmail(email, { afterLogin = false } = {}) {
  page({
    heading: 'Check your email',
    text: afterLogin
      ? `Confirm your address before logging in: follow the link we mailed to ${email}.`
      : `To finish signing up, follow the link we mailed to ${email}.`,
    form: el.resendForm,
  });
  el.resendForm.elements.email.value = email;
}

/** The page a verification link opens: confirm the address at once. */
export async function showVerify(token) {
  page({ heading: 'Confirming your address…' });
  try {
    await verifyEmail(token);
    page({ heading: 'Your address is confirmed', text: 'Thank you. You can log in and carry on.' });
  } catch (err) {
    if (err instanceof ApiError && err.code === 'invalid_verification_token') {
      page({
        heading: 'This link doesn’t work any more',
        text: 'It was used already, replaced by a newer one, or it expired. Ask for a new one:',
        form: el.resendForm,
      });
    } else {
      page({ heading: 'We couldn’t confirm your address' });
      el.error.textContent = describeError(err);
    }
  }
}

async function run(form, action) {
  el.error.textContent = '';
  clearFieldErrors(form);
  setBusy(form, true);
  try {
    await action();
  } catch (err) {
    el.error.textContent = describeError(err);
    if (err instanceof ApiError) {
      if (err.code === 'validation_failed') {
        showFieldErrors(form, detailsToErrors(err.details))?.focus();
      } else if (err.status === 429 && err.retryAfter) {
        setBusy(form, false);
        lockSubmit(form, err.retryAfter);
        return;
      } else if (err.code === 'invalid_reset_token') {
        el.error.textContent = 'This link doesn’t work any more: it was used, replaced by a newer one, or it expired. Ask for a new one.';
        el.forgotForm.hidden = false;
        el.resetForm.hidden = true;
      }
    }
  } finally {
    setBusy(form, false);
  }
}

function emailOf(form) {
  const { email, errors } = readCredentials({ email: form.elements.email.value, password: 'x' }, { signup: false });
  if (errors.email) {
    showFieldErrors(form, { email: errors.email })?.focus();
    return null;
  }
  return email;
}

export function initRecoveryView({ onBack }) {
  backToLogin = onBack;
  el.back.addEventListener('click', () => backToLogin());

  el.forgotForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearFieldErrors(el.forgotForm);
    const email = emailOf(el.forgotForm);
    if (!email) return;
    run(el.forgotForm, async () => {
      await requestPasswordReset(email);
      page({
        heading: 'Check your email',
        text: `If ${email} has an account, a link to reset its password is on its way. It works for 30 minutes.`,
      });
    });
  });

  el.resetForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const password = el.resetForm.elements.new_password.value;
    const { errors } = readCredentials({ email: 'a@b.c', password }, { signup: true });
    if (errors.password) {
      showFieldErrors(el.resetForm, { new_password: errors.password })?.focus();
      return;
    }
    run(el.resetForm, async () => {
      await confirmPasswordReset(resetToken, password);
      resetToken = null;
      el.resetForm.elements.new_password.value = '';
      backToLogin({ notice: 'Your password is changed. Log in with it.' });
    });
  });

  el.resendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const email = emailOf(el.resendForm);
    if (!email) return;
    run(el.resendForm, async () => {
      await resendVerification(email);
      el.text.textContent = `If ${email} still needs confirming, a new link is on its way.`;
    });
  });
}
