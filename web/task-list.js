// The task list on screen: loading pages of tasks for the current filter
// ("Load more" appends), keeping the `<ul>` in step with `state.tasks`
// (insert, replace, remove one item), the empty state and the "Load more"
// button, and where focus goes when an item disappears.

import { $ } from './dom.js';
import { listTasks } from './api.js';
import { reportTaskError, toast } from './feedback.js';
import { compareTasks, state } from './task-state.js';
import { renderTask } from './task-items.js';

const PAGE_SIZE = 20;

const EMPTY_TEXT = {
  all: 'No tasks yet. Add your first one above.',
  pending: 'Nothing pending. Nice work!',
  completed: 'No completed tasks yet.',
};

const el = {
  newTaskTitle: $('new-task-title'),
  newTaskDescription: $('new-task-description'),
  taskList: $('task-list'),
  listLoading: $('list-loading'),
  emptyState: $('empty-state'),
  emptyStateText: $('empty-state-text'),
  loadMore: $('load-more'),
};

function updateListChrome() {
  const empty = state.tasks.length === 0 && el.listLoading.hidden;
  el.emptyState.hidden = !empty;
  el.emptyStateText.textContent = EMPTY_TEXT[state.filter];
  el.loadMore.hidden = !state.nextCursor;
}

export function taskItemFor(id) {
  for (const li of el.taskList.children) if (li.dataset.taskId === id) return li;
  return null;
}

function renderList() {
  el.taskList.replaceChildren(...state.tasks.map(renderTask));
  updateListChrome();
}

/** Re-render one task's item in place; returns the new `<li>`. */
export function replaceItem(task) {
  const old = taskItemFor(task.id);
  const fresh = renderTask(task);
  if (old) old.replaceWith(fresh);
  return fresh;
}

/** Put a task at its place in the list (newest first); returns its `<li>`, or null if it belongs on a later page. */
export function insertTask(task) {
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

/** Put a task just created at the top of the list. */
export function prependTask(task) {
  if (insertTask(task)) return;
  state.tasks.unshift(task);
  el.taskList.prepend(renderTask(task));
  updateListChrome();
}

/** Take a task off the list; returns the index it had, or -1. */
export function removeTaskFromList(id) {
  const index = state.tasks.findIndex((t) => t.id === id);
  if (index === -1) return -1;
  state.tasks.splice(index, 1);
  taskItemFor(id)?.remove();
  updateListChrome();
  return index;
}

/** Put focus somewhere sensible after the item at `index` went away. */
export function focusNear(index) {
  const items = el.taskList.children;
  const target = items[index] || items[index - 1];
  const focusable = target?.querySelector('.task-check, input, button');
  (focusable || el.newTaskTitle).focus();
}

/** Empty the list and forget it (signed out); answers still in flight are ignored. */
export function clearList() {
  state.tasks = [];
  state.nextCursor = null;
  state.listRequest += 1;
  el.taskList.replaceChildren();
  el.loadMore.hidden = true;
  el.emptyState.hidden = true;
}

export async function loadTasks({ append = false, focusAfter = false, restoredDraft = false } = {}) {
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
    const page = await listTasks({ status: state.filter, limit: PAGE_SIZE, cursor });
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
