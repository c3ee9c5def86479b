// The signed-in account's own actions in the page header: download everything the server
// holds about the user, and delete the account (confirmed with the password in a dialog).

import { $ } from './dom.js';
import { ApiError, deleteAccount, exportAccount } from './api.js';
import { clearFieldErrors, detailsToErrors, setBusy, showFieldErrors } from './forms.js';
import { describeError, showError, toast } from './feedback.js';

const el = {
  exportBtn: $('export-btn'),
  deleteBtn: $('delete-account-btn'),
  dialog: $('delete-dialog'),
  form: $('delete-form'),
  error: $('delete-error'),
  cancel: $('delete-cancel'),
};

async function download() {
  el.exportBtn.disabled = true;
  try {
    const blob = await exportAccount();
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = 'todo-export.json';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    toast('Your data is downloading.');
  } catch (err) {
    showError(`Couldn’t download your data. ${describeError(err)}`);
  } finally {
    el.exportBtn.disabled = false;
  }
}

function openDialog() {
  el.error.textContent = '';
  clearFieldErrors(el.form);
  el.form.elements.password.value = '';
  el.dialog.showModal();
  el.form.elements.password.focus();
}

/** `onDeleted()` runs once the account is gone (main.js returns to the log-in page). */
export function initAccountActions({ onDeleted }) {
  el.exportBtn.addEventListener('click', download);
  el.deleteBtn.addEventListener('click', openDialog);
  el.cancel.addEventListener('click', () => el.dialog.close());
  el.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    el.error.textContent = '';
    clearFieldErrors(el.form);
    const password = el.form.elements.password.value;
    if (!password) {
      showFieldErrors(el.form, { password: 'Enter your password.' })?.focus();
      return;
    }
    setBusy(el.form, true);
    try {
      await deleteAccount(password);
      el.dialog.close();
      onDeleted();
    } catch (err) {
      el.error.textContent = err instanceof ApiError && err.code === 'invalid_credentials'
        ? 'That’s not your password.'
        : describeError(err);
      if (err instanceof ApiError && err.code === 'validation_failed') {
        showFieldErrors(el.form, detailsToErrors(err.details));
      }
      el.form.elements.password.focus();
    } finally {
      setBusy(el.form, false);
    }
  });
}
