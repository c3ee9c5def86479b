// Entry point (loaded by index.html as a module). Wires the views together and
// moves between them: loading → signed out (auth-view.js), a page opened from a
// mailed link or "forgot your password" (recovery-view.js), or signed in
// (tasks-view.js), on page load, sign-in, log-out, an expired session, account
// deletion, and a sign-in or log-out in another tab. Owns the page header's
// account area (its own actions are in account-actions.js).

import { $ } from './dom.js';
import { logout, logoutEverywhere, resendVerification, restoreSession } from './api.js';
import { SessionExpiredError, forgetSession, onOtherTabs, onSessionChange, tellOtherTabs } from './session.js';
import { clearError, describeError, dismissToast, hideToast, initFeedback, showError, toast } from './feedback.js';
import { hideSessionNotice, initAuthView, showAuth, showLoginError } from './auth-view.js';
import { initRecoveryView, showCheckEmail, showForgot, showReset, showVerify } from './recovery-view.js';
import { initAccountActions } from './account-actions.js';
import { closeTasks, discardDrafts, initTasksView, keepDraftsFor, listOwner, openTasks } from './tasks-view.js';
import { commitAllDeletes } from './task-delete.js';

const el = {
  account: $('account'),
  currentUser: $('current-user'),
  logoutBtn: $('logout-btn'),
  logoutAllBtn: $('logout-all-btn'),
  loadingView: $('loading-view'),
  authView: $('auth-view'),
  recoveryView: $('recovery-view'),
  tasksView: $('tasks-view'),
  verifyBanner: $('verify-banner'),
  verifyBannerEmail: $('verify-banner-email'),
  verifyResend: $('verify-resend'),
};

function showView(name) {
  el.loadingView.hidden = name !== 'loading';
  el.authView.hidden = name !== 'auth';
  el.recoveryView.hidden = name !== 'recovery';
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
  el.verifyBannerEmail.textContent = user.email;
  el.verifyBanner.classList.toggle('visible', user.email_verified === false);
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
    // A mailed link opened in this tab while the logout was on its way has already moved the
    // user to the page they chose: leave them there rather than on the log-in page.
    if (document.body.dataset.view !== 'tasks') return;
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

function enterRecovery(show) {
  showView('recovery');
  show();
}

// A mailed link opens the page with its token in the fragment: take it out of the address
// bar (and history) at once, then open the page it is for. False when there is none.
function followMailedLink() {
  const match = /^#(reset-password|verify-email)=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!match) return false;
  window.history.replaceState(null, '', window.location.pathname);
  const [, kind, token] = match;
  enterRecovery(() => (kind === 'reset-password' ? showReset(token) : showVerify(token)));
  return true;
}

async function backFromRecovery(options = {}) {
  try {
    const user = await restoreSession();
    if (user) {
      enterApp(user);
      return;
    }
  } catch {
    // Fall through to the log-in page.
  }
  enterAuth(options);
}

function onAccountDeleted() {
  discardDrafts();
  leaveApp();
  tellOtherTabs('signed-out');
  enterAuth({ notice: 'Your account and all its tasks have been deleted.' });
}

function wire() {
  initFeedback();
  initAuthView({
    onSignedIn,
    onForgot: (email) => enterRecovery(() => showForgot(email)),
    onCheckEmail: (email, options) => enterRecovery(() => showCheckEmail(email, options)),
  });
  initRecoveryView({ onBack: backFromRecovery });
  initAccountActions({ onDeleted: onAccountDeleted });
  el.verifyResend.addEventListener('click', async () => {
    el.verifyResend.disabled = true;
    try {
      await resendVerification();
      toast('A new link is on its way.');
    } catch (err) {
      if (!(err instanceof SessionExpiredError)) showError(`Couldn’t send a new link. ${describeError(err)}`);
    } finally {
      el.verifyResend.disabled = false;
    }
  });
  // A mailed link opened in a tab that is already showing the app.
  window.addEventListener('hashchange', () => {
    if (!/^#(reset-password|verify-email)=/.test(window.location.hash)) return;
    if (listOwner()) leaveApp();
    followMailedLink();
  });
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
  if (followMailedLink()) return;
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
