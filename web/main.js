// Entry point (loaded by index.html as a module). Wires the views together and
// moves between them: loading → signed out (auth-view.js) or signed in
// (tasks-view.js), on page load, sign-in, log-out, an expired session, and a
// sign-in or log-out in another tab. Owns the page header's account area.

import { $ } from './dom.js';
import { logout, logoutEverywhere, restoreSession } from './api.js';
import { SessionExpiredError, forgetSession, onOtherTabs, onSessionChange, tellOtherTabs } from './session.js';
import { clearError, describeError, dismissToast, hideToast, initFeedback, showError, toast } from './feedback.js';
import { hideSessionNotice, initAuthView, showAuth, showLoginError } from './auth-view.js';
import { closeTasks, discardDrafts, initTasksView, keepDraftsFor, listOwner, openTasks } from './tasks-view.js';
import { commitAllDeletes } from './task-delete.js';

const el = {
  account: $('account'),
  currentUser: $('current-user'),
  logoutBtn: $('logout-btn'),
  logoutAllBtn: $('logout-all-btn'),
  loadingView: $('loading-view'),
  authView: $('auth-view'),
  tasksView: $('tasks-view'),
};

function showView(name) {
  el.loadingView.hidden = name !== 'loading';
  el.authView.hidden = name !== 'auth';
  el.tasksView.hidden = name !== 'tasks';
  el.account.hidden = name !== 'tasks';
  document.body.dataset.view = name;
}

function enterAuth(options) {
  showView('auth');
  showAuth(options);
}

function enterApp(user) {
  el.currentUser.textContent = user.name ? user.name : user.email;
  el.currentUser.title = user.email;
  hideSessionNotice();
  clearError();
  showView('tasks');
  openTasks(user);
}

function leaveApp() {
  closeTasks();
  hideToast();
  clearError();
}

function onSignedIn(user, { signup }) {
  tellOtherTabs('signed-in');
  enterApp(user);
  toast(signup ? `Welcome, ${user.name || user.email}!` : `Signed in as ${user.email}.`);
}

async function signOut(everywhere) {
  const button = everywhere ? el.logoutAllBtn : el.logoutBtn;
  button.disabled = true;
  clearError();
  try {
    dismissToast();
    await commitAllDeletes();
    if (everywhere) await logoutEverywhere();
    else await logout();
    discardDrafts();
    leaveApp();
    tellOtherTabs('signed-out');
    enterAuth({ notice: everywhere ? 'You’ve been logged out on all your devices.' : 'You’ve been logged out.' });
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
  keepDraftsFor(user);
  leaveApp();
  enterAuth({
    notice: 'Your session has expired. Log in again to continue — anything you were typing is kept.',
    email: user ? user.email : '',
  });
}

async function onOtherTab(type) {
  if (type === 'signed-out' && listOwner()) {
    forgetSession();
    discardDrafts();
    leaveApp();
    enterAuth({ notice: 'You logged out in another tab.' });
  } else if (type === 'signed-in' && !listOwner() && !el.authView.hidden) {
    try {
      const user = await restoreSession();
      if (user) enterApp(user);
    } catch {
      // Stay on the login view.
    }
  }
}

function wire() {
  initFeedback();
  initAuthView({ onSignedIn });
  initTasksView();
  el.logoutBtn.addEventListener('click', () => signOut(false));
  el.logoutAllBtn.addEventListener('click', () => signOut(true));
  onSessionChange(({ type, user }) => {
    if (type === 'expired') onSessionExpired(user);
  });
  onOtherTabs(onOtherTab);
}

async function boot() {
  wire();
  showView('loading');
  try {
    const user = await restoreSession();
    if (user) enterApp(user);
    else enterAuth();
  } catch (err) {
    enterAuth();
    showLoginError(describeError(err));
  }
}

boot();
