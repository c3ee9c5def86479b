// What the task view holds in memory: whose list it is, the filter, the tasks
// on screen, paging, deletes still in their Undo window, the task being
// edited and whose unsaved text the forms keep. Shared by tasks-view.js and
// the task-*.js modules; no DOM, no network.

export const state = {
  user: null, // whose list is shown; null while signed out
  filter: 'all',
  tasks: [], // what the list shows, newest first
  nextCursor: null,
  listRequest: 0, // bumps to ignore answers to superseded list requests
  pendingDeletes: new Map(), // id -> { task, timer, committing, blocked, promise }
  editDraft: null, // { id, title, description } while a task is being edited
  draftOwner: null, // user id whose unsaved input the forms still hold
};

export function findTask(id) {
  return state.tasks.find((t) => t.id === id);
}

export function matchesFilter(task) {
  if (state.filter === 'pending') return !task.completed;
  if (state.filter === 'completed') return task.completed;
  return true;
}

/** Newest first, as the server orders them (created_at, then id). */
export function compareTasks(a, b) {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
