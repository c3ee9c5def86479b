// The signed-in task view's actions: add a task, complete it, edit it in
// place, filter and page the list, and the events that trigger them (list
// events are handled here, by delegation, for the items task-items.js builds).
// Also what the view keeps across a sign-out or an expired session: unsaved
// text stays for the same user and is cleared for anyone else. Deletes live in
// task-delete.js, the list DOM in task-list.js.

import { $ } from './dom.js';
import { ApiError, createTask, updateTask } from './api.js';
import { readTask } from './rules.js';
import { clearFieldErrors, detailsToErrors, lockSubmit, setBusy, showFieldErrors } from './forms.js';
import { clearError, reportTaskError, toast } from './feedback.js';
import { findTask, matchesFilter, state } from './task-state.js';
import {
  clearList, focusNear, loadTasks, prependTask, removeTaskFromList, replaceItem, taskItemFor,
} from './task-list.js';
import { deleteTask, flushBlockedDeletes, sendDeletesOnUnload } from './task-delete.js';

const el = {
  newTaskForm: $('new-task-form'),
  newTaskTitle: $('new-task-title'),
  newTaskDescription: $('new-task-description'),
  filters: $('filters'),
  taskList: $('task-list'),
  loadMore: $('load-more'),
};

// ------------------------------------------------------------ entering and leaving

/** Show `user`'s list. Unsaved text in the forms stays only if it is theirs. */
export function openTasks(user) {
  const sameOwner = state.draftOwner !== null && state.draftOwner === user.id;
  if (!sameOwner) clearTaskForms();
  state.draftOwner = user.id;
  state.user = user;
  if (sameOwner) {
    flushBlockedDeletes();
  } else {
    state.pendingDeletes.clear();
  }
  loadTasks({ focusAfter: true, restoredDraft: sameOwner });
}

/** Empty the list (signed out or session expired); the forms keep their text. */
export function closeTasks() {
  state.user = null;
  clearList();
}

/** Whose list is open, or null. */
export function listOwner() {
  return state.user;
}

/** The user is gone for good (logged out): clear what they typed. */
export function discardDrafts() {
  state.draftOwner = null;
  clearTaskForms();
}

/** The session expired: keep what `user` typed until they log back in. */
export function keepDraftsFor(user) {
  state.draftOwner = user ? user.id : state.draftOwner;
}

function clearTaskForms() {
  el.newTaskForm.reset();
  clearFieldErrors(el.newTaskForm);
  state.editDraft = null;
}

// ------------------------------------------------------------ add, complete

async function addTask() {
  clearFieldErrors(el.newTaskForm);
  clearError();
  const { title, description, errors } = readTask({ title: el.newTaskTitle.value, description: el.newTaskDescription.value });
  if (Object.keys(errors).length) {
    showFieldErrors(el.newTaskForm, errors)?.focus();
    return;
  }
  setBusy(el.newTaskForm, true);
  try {
    const task = await createTask({ title, description });
    el.newTaskForm.reset();
    el.newTaskTitle.focus();
    if (matchesFilter(task)) {
      prependTask(task);
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
  const task = findTask(id);
  if (!task) return;
  clearError();
  const li = taskItemFor(id);
  const checkbox = li?.querySelector('.task-check');
  if (checkbox) checkbox.disabled = true;
  li?.classList.toggle('completed', completed);
  try {
    // An explicit value (not the toggle endpoint) so a retried request is harmless.
    const updated = await updateTask(id, { completed });
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

// ------------------------------------------------------------ edit in place

function startEdit(id) {
  const task = findTask(id);
  if (!task) return;
  if (state.editDraft && state.editDraft.id !== id) {
    const other = findTask(state.editDraft.id);
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
  const task = findTask(id);
  if (!task) return;
  replaceItem(task).querySelector('[data-action="edit"]')?.focus();
}

async function saveEdit(id, form) {
  const task = findTask(id);
  if (!task) return;
  clearFieldErrors(form);
  clearError();
  // The same rules as a new task: title trimmed and 1–200 characters, description as typed.
  const { title, description, errors } = readTask({ title: form.elements.title.value, description: form.elements.description.value });
  if (Object.keys(errors).length) {
    showFieldErrors(form, errors)?.focus();
    return;
  }
  if (title === task.title && description === (task.description || null)) {
    cancelEdit(id);
    return;
  }
  setBusy(form, true);
  try {
    const updated = await updateTask(id, { title, description });
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

// ------------------------------------------------------------ wiring

/** The id of the task whose item holds `node`, or null. */
function taskIdOf(node) {
  return node.closest?.('[data-task-id]')?.dataset.taskId ?? null;
}

function wireList() {
  el.taskList.addEventListener('click', (event) => {
    const button = event.target.closest?.('button[data-action]');
    const id = button && taskIdOf(button);
    if (!id) return;
    if (button.dataset.action === 'edit') startEdit(id);
    else if (button.dataset.action === 'delete') deleteTask(id);
    else if (button.dataset.action === 'cancel-edit') cancelEdit(id);
  });
  el.taskList.addEventListener('change', (event) => {
    const checkbox = event.target;
    if (!checkbox.matches('.task-check')) return;
    const id = taskIdOf(checkbox);
    if (id) toggleTask(id, checkbox.checked);
  });
  // The edit form: typing updates the draft, Escape cancels, Enter / Save submits.
  el.taskList.addEventListener('input', (event) => {
    const form = event.target.closest?.('form.task-edit');
    const id = form && taskIdOf(form);
    if (id && state.editDraft && state.editDraft.id === id) {
      state.editDraft.title = form.elements.title.value;
      state.editDraft.description = form.elements.description.value;
    }
  });
  el.taskList.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const form = event.target.closest?.('form.task-edit');
    const id = form && taskIdOf(form);
    if (!id) return;
    event.preventDefault();
    cancelEdit(id);
  });
  el.taskList.addEventListener('submit', (event) => {
    const form = event.target;
    const id = form.matches('form.task-edit') && taskIdOf(form);
    if (!id) return;
    event.preventDefault();
    saveEdit(id, form);
  });
}

export function initTasksView() {
  wireList();
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

  // A delete still waiting for its Undo window is sent now if the page goes away.
  window.addEventListener('pagehide', sendDeletesOnUnload);
}
