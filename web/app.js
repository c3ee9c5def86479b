// Todo web client: views, forms and the task list.
// All user data goes into the DOM through textContent / value, never as HTML.

import * as api from '/api.js';
import { ApiError, NetworkError, SessionExpiredError } from '/api.js';

const PAGE_SIZE = 20;
const UNDO_MS = 5000;
const TOAST_MS = 4000;
const TITLE_MAX = 200;
const DESCRIPTION_MAX = 1000;

const $ = (id) => document.getElementById(id);

const el = {
  account: $('account'),
  currentUser: $('current-user'),
  logoutBtn: $('logout-btn'),
  logoutAllBtn: $('logout-all-btn'),
  main: $('main'),
  loadingView: $('loading-view'),
  authView: $('auth-view'),
  tasksView: $('tasks-view'),
  tabLogin: $('tab-login'),
  tabSignup: $('tab-signup'),
  loginPanel: $('login-panel'),
  signupPanel: $('signup-panel'),
  sessionNotice: $('session-notice'),
  loginForm: $('login-form'),
  loginError: $('login-error'),
  signupForm: $('signup-form'),
  signupError: $('signup-error'),
  appError: $('app-error'),
  appErrorText: $('app-error-text'),
  appErrorDismiss: $('app-error-dismiss'),
  newTaskForm: $('new-task-form'),
  newTaskTitle: $('new-task-title'),
  newTaskDescription: $('new-task-description'),
  addTaskBtn: $('add-task-btn'),
  filters: $('filters'),
  taskList: $('task-list'),
  listLoading: $('list-loading'),
  emptyState: $('empty-state'),
  emptyStateText: $('empty-state-text'),
  loadMore: $('load-more'),
  toast: $('toast'),
  toastText: $('toast-text'),
  toastAction: $('toast-action'),
};

const state = {
  user: null,
  filter: 'all',
  tasks: [], // what the list shows, newest first
  nextCursor: null,
  listRequest: 0, // bumps to ignore answers to superseded list requests
  pendingDeletes: new Map(), // id -> { task, timer, committing }
  editDraft: null, // { id, title, description } while a task is being edited
  draftOwner: null, // user id whose unsaved input the forms still hold
};

// ------------------------------------------------------------ small helpers

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'className') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function pluralSeconds(n) {
  return `${n} second${n === 1 ? '' : 's'}`;
}

/** A sentence for the user about what went wrong. */
function describeError(err, context = 'generic') {
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

// ------------------------------------------------------------ field errors

function clearFieldErrors(form) {
  for (const p of form.querySelectorAll('[data-field-error]')) p.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** Show `{field: message}` errors beside the inputs; returns the first invalid input. */
function showFieldErrors(form, errors) {
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

function detailsToErrors(details) {
  const errors = {};
  for (const d of details || []) {
    if (!d || typeof d.field !== 'string') continue;
    errors[d.field] = errors[d.field] ? `${errors[d.field]} ${d.message}` : String(d.message ?? 'Invalid value.');
  }
  return errors;
}

/** Disable a form's submit button for the Retry-After period, with a countdown. */
function lockSubmit(form, seconds) {
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

function setBusy(form, busy) {
  const button = form.querySelector('button[type="submit"]');
  if (button.dataset.timer) return; // rate-limit countdown owns it
  button.disabled = busy;
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
}

// ------------------------------------------------------------ toasts & banner

let toastTimer = null;
let toastOnDismiss = null;

/** Show a short message; an optional action (e.g. Undo) gets a button. */
function toast(message, { actionLabel = null, onAction = null, onDismiss = null, duration = TOAST_MS } = {}) {
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

function hideToast() {
  clearTimeout(toastTimer);
  toastTimer = null;
  el.toast.hidden = true;
  el.toastText.textContent = '';
  el.toastAction.onclick = null;
}

function dismissToast() {
  const callback = toastOnDismiss;
  toastOnDismiss = null;
  hideToast();
  if (callback) callback();
}

function showError(message) {
  el.appErrorText.textContent = message;
  el.appErrorDismiss.hidden = false;
  el.appError.classList.add('visible');
}

function clearError() {
  el.appErrorText.textContent = '';
  el.appErrorDismiss.hidden = true;
  el.appError.classList.remove('visible');
}

/** Common handling for failed task operations. */
function reportTaskError(err) {
  if (err instanceof SessionExpiredError) return; // the login view takes over
  showError(describeError(err, 'task'));
}

// ------------------------------------------------------------ views

function showView(name) {
  el.loadingView.hidden = name !== 'loading';
  el.authView.hidden = name !== 'auth';
  el.tasksView.hidden = name !== 'tasks';
  el.account.hidden = name !== 'tasks';
  document.body.dataset.view = name;
}

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

function showAuth({ tab = 'login', notice = '', email = '' } = {}) {
  showView('auth');
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

function clearTaskForms() {
  el.newTaskForm.reset();
  clearFieldErrors(el.newTaskForm);
  state.editDraft = null;
}

function enterApp(user) {
  const sameOwner = state.draftOwner !== null && state.draftOwner === user.id;
  if (!sameOwner) clearTaskForms();
  state.draftOwner = user.id;
  state.user = user;
  el.currentUser.textContent = user.name ? user.name : user.email;
  el.currentUser.title = user.email;
  el.sessionNotice.hidden = true;
  clearError();
  showView('tasks');
  if (sameOwner) {
    flushBlockedDeletes();
  } else {
    state.pendingDeletes.clear();
  }
  loadTasks({ focusAfter: true, restoredDraft: sameOwner });
}

function leaveApp() {
  state.user = null;
  state.tasks = [];
  state.nextCursor = null;
  state.listRequest += 1;
  el.taskList.replaceChildren();
  el.loadMore.hidden = true;
  el.emptyState.hidden = true;
  hideToast();
  clearError();
}

// ------------------------------------------------------------ auth forms

function readCredentials(form, { signup }) {
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  const name = signup ? form.elements.name.value.trim() : '';
  const errors = {};
  if (!email) errors.email = 'Enter your email address.';
  else if (!/^[^\s@]+@[^\s@]+$/.test(email)) errors.email = 'Enter a valid email address, like name@example.com.';
  if (!password) errors.password = 'Enter your password.';
  else if (signup && password.length < 8) errors.password = 'Use at least 8 characters.';
  else if (signup && password.length > 128) errors.password = 'Use at most 128 characters.';
  return { email, password, name, errors };
}

async function submitAuth(form, errorEl, signup) {
  clearFieldErrors(form);
  errorEl.textContent = '';
  const { email, password, name, errors } = readCredentials(form, { signup });
  if (Object.keys(errors).length) {
    showFieldErrors(form, errors)?.focus();
    errorEl.textContent = 'Please fix the highlighted fields.';
    return;
  }
  setBusy(form, true);
  try {
    const user = signup ? await api.register({ email, password, name }) : await api.login({ email, password });
    form.reset();
    broadcast('signed-in');
    enterApp(user);
    toast(signup ? `Welcome, ${user.name || user.email}!` : `Signed in as ${user.email}.`);
  } catch (err) {
    errorEl.textContent = describeError(err);
    if (err instanceof ApiError) {
      if (err.code === 'validation_failed') {
        showFieldErrors(form, detailsToErrors(err.details))?.focus();
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

// ------------------------------------------------------------ task list

const EMPTY_TEXT = {
  all: 'No tasks yet. Add your first one above.',
  pending: 'Nothing pending. Nice work!',
  completed: 'No completed tasks yet.',
};

function matchesFilter(task) {
  if (state.filter === 'pending') return !task.completed;
  if (state.filter === 'completed') return task.completed;
  return true;
}

/** Newest first, as the server orders them (created_at, then id). */
function compareTasks(a, b) {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function updateListChrome() {
  const empty = state.tasks.length === 0 && el.listLoading.hidden;
  el.emptyState.hidden = !empty;
  el.emptyStateText.textContent = EMPTY_TEXT[state.filter];
  el.loadMore.hidden = !state.nextCursor;
}

function taskItemFor(id) {
  for (const li of el.taskList.children) if (li.dataset.taskId === id) return li;
  return null;
}

function checkboxId(task) {
  return `task-check-${task.id}`;
}

function renderTask(task) {
  if (state.editDraft && state.editDraft.id === task.id) return renderEditor(task);
  const cbId = checkboxId(task);
  const checkbox = h('input', {
    type: 'checkbox',
    id: cbId,
    className: 'task-check',
    'data-testid': 'task-toggle',
    'aria-describedby': task.description ? `task-desc-${task.id}` : null,
  });
  checkbox.checked = task.completed;
  checkbox.addEventListener('change', () => toggleTask(task.id, checkbox.checked));

  const title = h('label', { for: cbId, className: 'task-title', 'data-testid': 'task-title', text: task.title });
  const body = h('div', { className: 'task-body' }, title);
  if (task.description) {
    body.append(h('p', { id: `task-desc-${task.id}`, className: 'task-desc', 'data-testid': 'task-description', text: task.description }));
  }

  const edit = h('button', {
    type: 'button',
    className: 'btn btn-icon',
    'data-action': 'edit',
    'aria-label': `Edit “${task.title}”`,
    onclick: () => startEdit(task.id),
  }, icon('edit'), h('span', { className: 'btn-icon-text', text: 'Edit' }));
  const del = h('button', {
    type: 'button',
    className: 'btn btn-icon btn-danger-ghost',
    'data-action': 'delete',
    'aria-label': `Delete “${task.title}”`,
    onclick: () => deleteTask(task.id),
  }, icon('trash'), h('span', { className: 'btn-icon-text', text: 'Delete' }));

  return h('li', {
    className: task.completed ? 'task completed' : 'task',
    'data-testid': 'task-item',
    'data-task-id': task.id,
    'data-completed': String(task.completed),
  }, checkbox, body, h('div', { className: 'task-actions' }, edit, del));
}

const ICONS = {
  edit: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
  trash: 'M5 7h14M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V5a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2',
};

function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2');
  path.setAttribute('stroke-linecap', 'round');
  path.setAttribute('stroke-linejoin', 'round');
  svg.append(path);
  return svg;
}

function renderEditor(task) {
  const draft = state.editDraft;
  const titleId = `edit-title-${task.id}`;
  const descId = `edit-desc-${task.id}`;
  const titleInput = h('input', {
    id: titleId, name: 'title', type: 'text', maxlength: TITLE_MAX, required: true,
    autocomplete: 'off', 'data-testid': 'edit-title', 'aria-describedby': `${titleId}-error`,
  });
  titleInput.value = draft.title;
  const descInput = h('textarea', {
    id: descId, name: 'description', rows: 3, maxlength: DESCRIPTION_MAX,
    'data-testid': 'edit-description', 'aria-describedby': `${descId}-error`,
  });
  descInput.value = draft.description;
  const saveBtn = h('button', { type: 'submit', className: 'btn btn-primary btn-small', 'data-label': 'Save', text: 'Save' });
  const cancelBtn = h('button', { type: 'button', className: 'btn btn-secondary btn-small', text: 'Cancel', onclick: () => cancelEdit(task.id) });

  const form = h('form', { className: 'task-edit stack-sm', novalidate: true, 'aria-label': `Edit “${task.title}”` },
    h('div', { className: 'field' },
      h('label', { for: titleId, text: 'Title' }),
      titleInput,
      h('p', { id: `${titleId}-error`, className: 'field-error', 'data-field-error': 'title' })),
    h('div', { className: 'field' },
      h('label', { for: descId }, 'Description ', h('span', { className: 'optional', text: '(optional)' })),
      descInput,
      h('p', { id: `${descId}-error`, className: 'field-error', 'data-field-error': 'description' })),
    h('div', { className: 'edit-actions' }, saveBtn, cancelBtn));

  form.addEventListener('input', () => {
    if (state.editDraft && state.editDraft.id === task.id) {
      state.editDraft.title = titleInput.value;
      state.editDraft.description = descInput.value;
    }
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      cancelEdit(task.id);
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    saveEdit(task.id, form);
  });

  return h('li', {
    className: 'task editing',
    'data-testid': 'task-item',
    'data-task-id': task.id,
    'data-completed': String(task.completed),
  }, form);
}

function renderList() {
  el.taskList.replaceChildren(...state.tasks.map(renderTask));
  updateListChrome();
}

function replaceItem(task) {
  const old = taskItemFor(task.id);
  const fresh = renderTask(task);
  if (old) old.replaceWith(fresh);
  return fresh;
}

function insertTask(task) {
  if (state.tasks.some((t) => t.id === task.id)) return taskItemFor(task.id);
  let index = state.tasks.findIndex((t) => compareTasks(task, t) < 0);
  if (index === -1) {
    // Older than everything shown: it belongs on a later page, unless this is the last page.
    if (state.nextCursor) return null;
    index = state.tasks.length;
  }
  state.tasks.splice(index, 0, task);
  const li = renderTask(task);
  const before = el.taskList.children[index] || null;
  el.taskList.insertBefore(li, before);
  updateListChrome();
  return li;
}

function removeTaskFromList(id) {
  const index = state.tasks.findIndex((t) => t.id === id);
  if (index === -1) return -1;
  state.tasks.splice(index, 1);
  taskItemFor(id)?.remove();
  updateListChrome();
  return index;
}

/** Put focus somewhere sensible after the item at `index` went away. */
function focusNear(index) {
  const items = el.taskList.children;
  const target = items[index] || items[index - 1];
  const focusable = target?.querySelector('.task-check, input, button');
  (focusable || el.newTaskTitle).focus();
}

async function loadTasks({ append = false, focusAfter = false, restoredDraft = false } = {}) {
  const request = ++state.listRequest;
  const cursor = append ? state.nextCursor : null;
  if (!append) {
    state.tasks = [];
    state.nextCursor = null;
    el.taskList.replaceChildren();
    el.emptyState.hidden = true;
    el.loadMore.hidden = true;
  }
  el.listLoading.hidden = false;
  el.loadMore.disabled = true;
  el.taskList.setAttribute('aria-busy', 'true');
  try {
    const page = await api.listTasks({ status: state.filter, limit: PAGE_SIZE, cursor });
    if (request !== state.listRequest) return;
    const seen = new Set(state.tasks.map((t) => t.id));
    const fresh = (page.items || []).filter((t) => !seen.has(t.id) && !state.pendingDeletes.has(t.id));
    state.nextCursor = page.next_cursor || null;
    el.listLoading.hidden = true;
    if (append) {
      const firstNew = state.tasks.length;
      state.tasks.push(...fresh);
      el.taskList.append(...fresh.map(renderTask));
      updateListChrome();
      if (fresh.length) {
        el.taskList.children[firstNew]?.querySelector('.task-check')?.focus();
        toast(`Loaded ${fresh.length} more task${fresh.length === 1 ? '' : 's'}.`);
      }
    } else {
      state.tasks = fresh;
      renderList();
    }
    if (focusAfter) {
      el.newTaskTitle.focus();
      if (restoredDraft && (el.newTaskTitle.value || el.newTaskDescription.value)) {
        toast('Welcome back. Your unsaved text is still here.');
      }
    }
  } catch (err) {
    if (request !== state.listRequest) return;
    el.listLoading.hidden = true;
    updateListChrome();
    el.emptyState.hidden = true;
    reportTaskError(err);
  } finally {
    if (request === state.listRequest) {
      el.loadMore.disabled = false;
      el.taskList.setAttribute('aria-busy', 'false');
    }
  }
}

// ------------------------------------------------------------ task actions

async function addTask() {
  clearFieldErrors(el.newTaskForm);
  clearError();
  const title = el.newTaskTitle.value.trim();
  const description = el.newTaskDescription.value.trim();
  const errors = {};
  if (!title) errors.title = 'Give the task a title.';
  else if (title.length > TITLE_MAX) errors.title = `Keep the title under ${TITLE_MAX + 1} characters.`;
  if (description.length > DESCRIPTION_MAX) errors.description = `Keep the description under ${DESCRIPTION_MAX + 1} characters.`;
  if (Object.keys(errors).length) {
    showFieldErrors(el.newTaskForm, errors)?.focus();
    return;
  }
  setBusy(el.newTaskForm, true);
  try {
    const task = await api.createTask({ title, description: description || null });
    el.newTaskForm.reset();
    el.newTaskTitle.focus();
    if (matchesFilter(task)) {
      if (!insertTask(task)) {
        state.tasks.unshift(task);
        el.taskList.prepend(renderTask(task));
        updateListChrome();
      }
      toast(`Added “${task.title}”.`);
    } else {
      toast(`Added “${task.title}”. Switch to “All” or “Pending” to see it.`);
    }
  } catch (err) {
    // The typed text stays in the form so nothing is lost.
    if (err instanceof ApiError && err.code === 'validation_failed') {
      showFieldErrors(el.newTaskForm, detailsToErrors(err.details))?.focus();
    } else if (err instanceof ApiError && err.status === 429 && err.retryAfter) {
      setBusy(el.newTaskForm, false);
      lockSubmit(el.newTaskForm, err.retryAfter);
      reportTaskError(err);
    } else {
      reportTaskError(err);
    }
  } finally {
    setBusy(el.newTaskForm, false);
  }
}

async function toggleTask(id, completed) {
  const task = state.tasks.find((t) => t.id === id);
  if (!task) return;
  clearError();
  const li = taskItemFor(id);
  const checkbox = li?.querySelector('.task-check');
  if (checkbox) checkbox.disabled = true;
  li?.classList.toggle('completed', completed);
  try {
    // An explicit value (not the toggle endpoint) so a retried request is harmless.
    const updated = await api.updateTask(id, { completed });
    Object.assign(task, updated);
    if (!matchesFilter(task)) {
      const index = removeTaskFromList(id);
      focusNear(index);
      toast(completed ? `Completed “${task.title}”.` : `Moved “${task.title}” back to pending.`);
    } else {
      const fresh = replaceItem(task);
      fresh.querySelector('.task-check')?.focus();
      toast(completed ? `Completed “${task.title}”.` : `Marked “${task.title}” as not done.`);
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      focusNear(removeTaskFromList(id));
    } else if (checkbox) {
      checkbox.checked = task.completed;
      checkbox.disabled = false;
      li.classList.toggle('completed', task.completed);
    }
    reportTaskError(err);
  }
}

function startEdit(id) {
  const task = state.tasks.find((t) => t.id === id);
  if (!task) return;
  if (state.editDraft && state.editDraft.id !== id) {
    const other = state.tasks.find((t) => t.id === state.editDraft.id);
    state.editDraft = null;
    if (other) replaceItem(other);
  }
  state.editDraft = { id, title: task.title, description: task.description || '' };
  const li = replaceItem(task);
  const input = li.querySelector('[data-testid="edit-title"]');
  input.focus();
  input.select();
}

function cancelEdit(id) {
  state.editDraft = null;
  const task = state.tasks.find((t) => t.id === id);
  if (!task) return;
  replaceItem(task).querySelector('[data-action="edit"]')?.focus();
}

async function saveEdit(id, form) {
  const task = state.tasks.find((t) => t.id === id);
  if (!task) return;
  clearFieldErrors(form);
  clearError();
  const title = form.elements.title.value.trim();
  const description = form.elements.description.value.trim();
  const errors = {};
  if (!title) errors.title = 'Give the task a title.';
  if (description.length > DESCRIPTION_MAX) errors.description = `Keep the description under ${DESCRIPTION_MAX + 1} characters.`;
  if (Object.keys(errors).length) {
    showFieldErrors(form, errors)?.focus();
    return;
  }
  if (title === task.title && (description || null) === (task.description || null)) {
    cancelEdit(id);
    return;
  }
  setBusy(form, true);
  try {
    const updated = await api.updateTask(id, { title, description: description || null });
    Object.assign(task, updated);
    state.editDraft = null;
    replaceItem(task).querySelector('[data-action="edit"]')?.focus();
    toast('Changes saved.');
  } catch (err) {
    if (!form.isConnected) return reportTaskError(err);
    setBusy(form, false);
    if (err instanceof ApiError && err.code === 'validation_failed') {
      showFieldErrors(form, detailsToErrors(err.details))?.focus();
    } else if (err instanceof ApiError && err.status === 404) {
      state.editDraft = null;
      focusNear(removeTaskFromList(id));
      reportTaskError(err);
    } else {
      reportTaskError(err);
    }
  }
}

function deleteTask(id) {
  const task = state.tasks.find((t) => t.id === id);
  if (!task) return;
  clearError();
  if (state.editDraft?.id === id) state.editDraft = null;
  const index = removeTaskFromList(id);
  focusNear(index);
  const pending = { task, committing: false, blocked: false, timer: setTimeout(() => commitDelete(id), UNDO_MS) };
  state.pendingDeletes.set(id, pending);
  toast(`Deleted “${task.title}”.`, {
    actionLabel: 'Undo',
    onAction: () => undoDelete(id),
    onDismiss: () => commitDelete(id),
    duration: UNDO_MS,
  });
}

function undoDelete(id) {
  const pending = state.pendingDeletes.get(id);
  if (!pending || pending.committing) return;
  clearTimeout(pending.timer);
  state.pendingDeletes.delete(id);
  if (!matchesFilter(pending.task)) return;
  const li = insertTask(pending.task);
  li?.querySelector('.task-check')?.focus();
  toast(`Restored “${pending.task.title}”.`);
}

function commitDelete(id) {
  const pending = state.pendingDeletes.get(id);
  if (!pending) return Promise.resolve();
  if (!pending.committing) {
    clearTimeout(pending.timer);
    pending.committing = true;
    pending.promise = sendDelete(id, pending);
  }
  return pending.promise;
}

async function sendDelete(id, pending) {
  try {
    await api.deleteTask(id);
    state.pendingDeletes.delete(id);
  } catch (err) {
    pending.committing = false;
    if (err instanceof ApiError && err.status === 404) {
      state.pendingDeletes.delete(id);
      return;
    }
    if (err instanceof SessionExpiredError) {
      // Finish it once the same user logs back in.
      pending.blocked = true;
      return;
    }
    state.pendingDeletes.delete(id);
    if (state.user && matchesFilter(pending.task)) insertTask(pending.task);
    showError(`Couldn’t delete “${pending.task.title}”. ${describeError(err, 'task')}`);
  }
}

function flushBlockedDeletes() {
  for (const [id, pending] of state.pendingDeletes) {
    if (pending.blocked) {
      pending.blocked = false;
      commitDelete(id);
    }
  }
}

async function commitAllDeletes() {
  await Promise.all([...state.pendingDeletes.keys()].map((id) => commitDelete(id)));
}

// ------------------------------------------------------------ sign out

async function signOut(everywhere) {
  const button = everywhere ? el.logoutAllBtn : el.logoutBtn;
  button.disabled = true;
  clearError();
  try {
    dismissToast();
    await commitAllDeletes();
    if (everywhere) await api.logoutEverywhere();
    else await api.logout();
    state.draftOwner = null;
    clearTaskForms();
    leaveApp();
    broadcast('signed-out');
    showAuth({ notice: everywhere ? 'You’ve been logged out on all your devices.' : 'You’ve been logged out.' });
  } catch (err) {
    if (!(err instanceof SessionExpiredError)) {
      showError(`Couldn’t log out. ${describeError(err)}`);
    }
  } finally {
    button.disabled = false;
  }
}

function onSessionExpired(user) {
  // Keep whatever the user typed: the forms stay in the DOM, just hidden.
  state.draftOwner = user ? user.id : state.draftOwner;
  leaveApp();
  showAuth({
    notice: 'Your session has expired. Log in again to continue — anything you were typing is kept.',
    email: user ? user.email : '',
  });
}

// ------------------------------------------------------------ other tabs

const channel = 'BroadcastChannel' in window ? new BroadcastChannel('todo-session') : null;

function broadcast(type) {
  try {
    channel?.postMessage({ type });
  } catch {
    // Ignore: cross-tab sync is a nicety.
  }
}

if (channel) {
  channel.addEventListener('message', async (event) => {
    const type = event.data && event.data.type;
    if (type === 'signed-out' && state.user) {
      api.forgetSession();
      state.draftOwner = null;
      clearTaskForms();
      leaveApp();
      showAuth({ notice: 'You logged out in another tab.' });
    } else if (type === 'signed-in' && !state.user && !el.authView.hidden) {
      try {
        const user = await api.restoreSession();
        if (user) enterApp(user);
      } catch {
        // Stay on the login view.
      }
    }
  });
}

// ------------------------------------------------------------ wiring

function wire() {
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

  el.newTaskForm.addEventListener('submit', (event) => {
    event.preventDefault();
    addTask();
  });
  // Enter in the description adds a newline; Ctrl/Cmd+Enter submits.
  el.newTaskDescription.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      el.newTaskForm.requestSubmit();
    }
  });

  el.filters.addEventListener('change', (event) => {
    if (event.target.name !== 'filter') return;
    state.filter = event.target.value;
    state.editDraft = null;
    clearError();
    loadTasks();
  });

  el.loadMore.addEventListener('click', () => loadTasks({ append: true }));
  el.logoutBtn.addEventListener('click', () => signOut(false));
  el.logoutAllBtn.addEventListener('click', () => signOut(true));
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

  api.onSessionChange(({ type, user }) => {
    if (type === 'expired') onSessionExpired(user);
  });

  // A delete still waiting for its Undo window is sent now if the page goes away.
  window.addEventListener('pagehide', () => {
    for (const [id, pending] of state.pendingDeletes) {
      if (!pending.committing) {
        clearTimeout(pending.timer);
        api.deleteTaskOnUnload(id);
      }
    }
  });
}

async function boot() {
  wire();
  showView('loading');
  try {
    const user = await api.restoreSession();
    if (user) enterApp(user);
    else showAuth();
  } catch (err) {
    showAuth();
    el.loginError.textContent = describeError(err);
  }
}

boot();
