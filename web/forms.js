// Form mechanics shared by the sign-in, sign-up, new-task and edit forms:
// per-field error messages (from the client's rules or the server's
// `validation_failed` details), the busy state while a request runs, and the
// submit-button countdown after a 429 with Retry-After. Forms mark each error
// slot with `data-field-error="<field>"` next to the input of the same name.

export function clearFieldErrors(form) {
  for (const p of form.querySelectorAll('[data-field-error]')) p.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** Show `{field: message}` errors beside the inputs; returns the first invalid input. */
export function showFieldErrors(form, errors) {
  let first = null;
  for (const [field, message] of Object.entries(errors)) {
    const p = form.querySelector(`[data-field-error="${CSS.escape(field)}"]`);
    const input = form.elements.namedItem(field);
    if (p) p.textContent = message;
    if (input instanceof HTMLElement) {
      input.setAttribute('aria-invalid', 'true');
      if (!first) first = input;
    }
  }
  return first;
}

/** The server's `details: [{field, message}]` as `{field: message}` (messages for one field joined). */
export function detailsToErrors(details) {
  const errors = {};
  for (const d of details || []) {
    if (!d || typeof d.field !== 'string') continue;
    errors[d.field] = errors[d.field] ? `${errors[d.field]} ${d.message}` : String(d.message ?? 'Invalid value.');
  }
  return errors;
}

/** Disable a form's submit button for the Retry-After period, with a countdown. */
export function lockSubmit(form, seconds) {
  const button = form.querySelector('button[type="submit"]');
  const label = button.dataset.label || button.textContent;
  let left = Math.max(1, seconds);
  clearInterval(Number(button.dataset.timer || 0));
  button.disabled = true;
  button.textContent = `${label} (${left})`;
  const timer = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      button.disabled = false;
      button.textContent = label;
      delete button.dataset.timer;
    } else {
      button.textContent = `${label} (${left})`;
    }
  }, 1000);
  button.dataset.timer = String(timer);
}

export function setBusy(form, busy) {
  const button = form.querySelector('button[type="submit"]');
  if (button.dataset.timer) return; // rate-limit countdown owns it
  button.disabled = busy;
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
}
