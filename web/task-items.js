// Builds the DOM for one task in the list: the normal row (checkbox, title,
// description, Edit and Delete buttons) or, while it is being edited, the edit
// form. Only builds elements: tasks-view.js handles their events on the list
// (buttons carry `data-action`, the edit form is `form.task-edit`), so
// rendering needs no actions and no import cycle. Task text goes in as text,
// never as HTML.

import { h, icon } from './dom.js';
import { state } from './task-state.js';

const ICONS = {
  edit: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
  trash: 'M5 7h14M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V5a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2',
};

/** The `<li>` for `task`: its editor if `state.editDraft` is for it, else the normal row. */
export function renderTask(task) {
  if (state.editDraft && state.editDraft.id === task.id) return renderEditor(task);
  const cbId = `task-check-${task.id}`;
  const checkbox = h('input', {
    type: 'checkbox',
    id: cbId,
    className: 'task-check',
    'data-testid': 'task-toggle',
    'aria-describedby': task.description ? `task-desc-${task.id}` : null,
  });
  checkbox.checked = task.completed;

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
  }, icon(ICONS.edit), h('span', { className: 'btn-icon-text', text: 'Edit' }));
  const del = h('button', {
    type: 'button',
    className: 'btn btn-icon btn-danger-ghost',
    'data-action': 'delete',
    'aria-label': `Delete “${task.title}”`,
  }, icon(ICONS.trash), h('span', { className: 'btn-icon-text', text: 'Delete' }));

  return h('li', {
    className: task.completed ? 'task completed' : 'task',
    'data-testid': 'task-item',
    'data-task-id': task.id,
    'data-completed': String(task.completed),
  }, checkbox, body, h('div', { className: 'task-actions' }, edit, del));
}

// No maxlength on the inputs: it counts UTF-16 units, the server counts
// characters; rules.js checks the lengths on save.
function renderEditor(task) {
  const draft = state.editDraft;
  const titleId = `edit-title-${task.id}`;
  const descId = `edit-desc-${task.id}`;
  const titleInput = h('input', {
    id: titleId, name: 'title', type: 'text', required: true,
    autocomplete: 'off', 'data-testid': 'edit-title', 'aria-describedby': `${titleId}-error`,
  });
  titleInput.value = draft.title;
  const descInput = h('textarea', {
    id: descId, name: 'description', rows: 3,
    'data-testid': 'edit-description', 'aria-describedby': `${descId}-error`,
  });
  descInput.value = draft.description;
  const saveBtn = h('button', { type: 'submit', className: 'btn btn-primary btn-small', 'data-label': 'Save', text: 'Save' });
  const cancelBtn = h('button', { type: 'button', className: 'btn btn-secondary btn-small', 'data-action': 'cancel-edit', text: 'Cancel' });

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

  return h('li', {
    className: 'task editing',
    'data-testid': 'task-item',
    'data-task-id': task.id,
    'data-completed': String(task.completed),
  }, form);
}
