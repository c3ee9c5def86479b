// Deleting tasks with an Undo window: the task leaves the list at once, the
// DELETE is sent when the toast's Undo window ends (or earlier, on sign-out or
// when the page goes away), and a delete refused for an expired session waits
// until the same user logs back in.

import { deleteTask as apiDeleteTask, deleteTaskOnUnload, ApiError } from './api.js';
import { SessionExpiredError } from './session.js';
import { clearError, describeError, showError, toast } from './feedback.js';
import { findTask, matchesFilter, state } from './task-state.js';
import { focusNear, insertTask, removeTaskFromList } from './task-list.js';

const UNDO_MS = 5000;

export function deleteTask(id) {
  const task = findTask(id);
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
    await apiDeleteTask(id);
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

/** Send the deletes that were refused while the session had expired (the same user is back). */
export function flushBlockedDeletes() {
  for (const [id, pending] of state.pendingDeletes) {
    if (pending.blocked) {
      pending.blocked = false;
      commitDelete(id);
    }
  }
}

/** Send every delete still in its Undo window now; resolves when all are done. */
export async function commitAllDeletes() {
  await Promise.all([...state.pendingDeletes.keys()].map((id) => commitDelete(id)));
}

/** The page is going away: send the deletes still waiting for their Undo window, best effort. */
export function sendDeletesOnUnload() {
  for (const [id, pending] of state.pendingDeletes) {
    if (!pending.committing) {
      clearTimeout(pending.timer);
      deleteTaskOnUnload(id);
    }
  }
}
