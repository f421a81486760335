/**
 * The calling pages' HTML shells: sign in / sign up, and the signed-in pages
 * (directory, profile, settings, history). They hold no account data: the
 * bundles fetch it with the token kept in the browser. Every signed-in page
 * also carries the call screens (incoming, outgoing, in-call), hidden until
 * a call needs them, because the account's connection, and so the call,
 * lives as long as the page.
 */
import { escapeHtml, page, roomMarkup } from './pages';

/** /signin and /signup: one form each; /assets/signin.js posts it to the API. */
export function signinPage(kind: 'signin' | 'signup'): string {
	const signup = kind === 'signup';
	return page(signup ? 'Create an account - Switchyard' : 'Sign in - Switchyard', `<main class="lobby">
	<h1>Switchyard</h1>
	<p class="tagline">${signup ? 'Create an account: your handle is your address.' : 'Sign in to call people by their handle.'}</p>
	<form class="card" id="signin" data-kind="${signup ? 'signup' : 'login'}" novalidate>
		<label>Handle <input name="handle" required minlength="3" maxlength="30" autocomplete="username" autocapitalize="none" spellcheck="false" placeholder="ada"></label>
		${signup ? '<label>Display name <input name="displayName" required maxlength="64" autocomplete="name" placeholder="Ada Lovelace"></label>' : ''}
		<label>Password <input name="password" type="password" required minlength="${signup ? 8 : 1}" maxlength="256" autocomplete="${signup ? 'new-password' : 'current-password'}"></label>
		<p class="form-error" id="form-error" role="alert" hidden></p>
		<button type="submit">${signup ? 'Create account' : 'Sign in'}</button>
	</form>
	<p class="switch">${signup ? 'Have an account? <a href="/signin">Sign in</a>' : 'New here? <a href="/signup">Create an account</a>'}
		· <a href="/">Join a room as a guest</a></p>
</main>`, '/assets/signin.js');
}

export type AppPageName = 'directory' | 'profile' | 'settings' | 'history' | 'links';

const NAV: [AppPageName, string, string][] = [['directory', '/directory', 'People'], ['history', '/history', 'Calls'], ['links', '/links', 'Links'], ['settings', '/settings', 'Settings']];

/** A signed-in page: the navigation, `main`, and the call screens; /assets/calls.js does the rest. */
function appPage(name: AppPageName, title: string, main: string, data = ''): string {
	const nav = NAV.map(([key, href, label]) => `<a href="${href}"${key === name ? ' aria-current="page"' : ''}>${label}</a>`).join('');
	return page(`${title} - Switchyard`, `<div class="app" id="page" data-page="${name}"${data}>
	<header class="topbar">
		<a class="brand" href="/directory">Switchyard</a>
		<nav class="nav">${nav}</nav>
		<span class="me" id="me"></span>
		<button type="button" class="quiet" id="sign-out">Sign out</button>
	</header>
	<p class="banner" id="banner" role="status" hidden></p>
	<p class="banner notify-offer" id="notify-offer" hidden>Get a notification when a call comes in while this page is in the background.
		<button type="button" id="notify-on">Turn on</button> <button type="button" class="quiet" id="notify-later">Not now</button></p>
	<main class="content">${main}</main>
</div>
${callScreens()}`, '/assets/calls.js');
}

/** The incoming-call screen, the outgoing "ringing" screen and the in-call view (the room view). */
function callScreens(): string {
	return `<section class="overlay" id="incoming" role="alertdialog" aria-labelledby="incoming-name" hidden>
	<div class="ring-card">
		<p class="ring-kind" id="incoming-kind">Incoming call</p>
		<div class="avatar big" id="incoming-avatar" aria-hidden="true"></div>
		<h2 id="incoming-name"></h2>
		<p class="handle" id="incoming-handle"></p>
		<p class="waiting" id="incoming-waiting" hidden>Answering ends your current call.</p>
		<p class="e2ee-line" id="incoming-e2ee" hidden>End-to-end encrypted</p>
		<p class="form-error" id="incoming-problem" role="alert" hidden></p>
		<div class="ring-actions">
			<button type="button" class="quiet" id="report">Report spam</button>
			<button type="button" class="danger" id="decline">Decline</button>
			<button type="button" class="accept" id="accept">Accept</button>
		</div>
	</div>
</section>
<section class="overlay" id="outgoing" role="dialog" aria-labelledby="outgoing-name" hidden>
	<div class="ring-card">
		<p class="ring-kind" id="outgoing-state">Calling…</p>
		<div class="avatar big" id="outgoing-avatar" aria-hidden="true"></div>
		<h2 id="outgoing-name"></h2>
		<p class="handle" id="outgoing-handle"></p>
		<p class="form-error" id="outgoing-error" role="alert" hidden></p>
		<div class="ring-actions">
			<button type="button" class="danger" id="cancel">Cancel</button>
			<button type="button" class="quiet" id="outgoing-close" hidden>Close</button>
		</div>
	</div>
</section>
<section class="call-view" id="call-view" hidden>${roomMarkup('', { home: '/directory', homeTitle: 'People' })}</section>`;
}

/** /directory?q=: search, a group call by handles, the contacts and the people followed. */
export function directoryPage(query: string): string {
	return appPage('directory', 'People', `<form class="search" id="search" role="search">
		<input name="q" type="search" value="${escapeHtml(query)}" maxlength="64" placeholder="Search by handle or name" aria-label="Search people" autocomplete="off">
		<button type="submit">Search</button>
	</form>
	<p class="form-error" id="search-error" role="alert" hidden></p>
	<section id="results" hidden><h2>Results</h2><ul class="people" id="result-list"></ul><button type="button" class="quiet" id="results-more" hidden>More results</button></section>
	<form class="card group-call" id="group-call">
		<label>Group call <input name="handles" required maxlength="300" placeholder="@fay, @gus" autocomplete="off" aria-label="Handles to call together, separated by commas"></label>
		<div class="actions">
			<button type="submit" name="media" value="video" data-call="video">Video call</button>
			<button type="submit" name="media" value="audio" data-call="audio">Audio call</button>
		</div>
	</form>
	<section id="contacts-section"><h2>Contacts</h2><ul class="people" id="contacts"></ul></section>
	<section id="following-section"><h2>Following</h2><ul class="people" id="following"></ul></section>`);
}

/** /u/:handle: who it is, and Call (audio, video), Follow, Add to contacts, Block. */
export function profilePage(handle: string): string {
	return appPage('profile', `@${handle}`, `<article class="profile card">
		<div class="avatar big" id="profile-avatar" aria-hidden="true"></div>
		<h1 id="profile-name">@${escapeHtml(handle)}</h1>
		<p class="handle">@${escapeHtml(handle)}</p>
		<p class="muted" id="profile-note" hidden></p>
		<div class="actions">
			<button type="button" id="call-video">Video call</button>
			<button type="button" id="call-audio">Audio call</button>
		</div>
		<div class="actions">
			<button type="button" class="toggle" id="follow" data-relation="follows" aria-pressed="false" disabled>Follow</button>
			<button type="button" class="toggle" id="contact" data-relation="contacts" aria-pressed="false" disabled>Add to contacts</button>
			<button type="button" class="toggle danger-outline" id="block" data-relation="blocks" aria-pressed="false" disabled>Block</button>
		</div>
		<p class="form-error" id="profile-error" role="alert" hidden></p>
	</article>`, ` data-handle="${escapeHtml(handle)}"`);
}

/** /settings: who can call me, and whether the directory lists me. */
export function settingsPage(): string {
	return appPage('settings', 'Settings', `<form class="card settings" id="settings">
		<h1>Settings</h1>
		<fieldset>
			<legend>Calls</legend>
			<label class="check"><input type="checkbox" name="enabled"> Accept calls</label>
			<p class="muted">Who may ring me (any one that matches is enough):</p>
			<label class="check"><input type="checkbox" name="contacts"> My contacts</label>
			<label class="check"><input type="checkbox" name="following"> People I follow</label>
			<label class="check"><input type="checkbox" name="verified"> Verified accounts</label>
			<label class="check"><input type="checkbox" name="everyone"> Everyone (except people blocked either way)</label>
			<label class="check"><input type="checkbox" name="silenceOthers"> Silence the others instead: their calls do not ring, but show in my history to call back (never people I blocked)</label>
		</fieldset>
		<fieldset>
			<legend>Directory</legend>
			<label class="check"><input type="checkbox" name="discoverable"> List me in the directory search</label>
		</fieldset>
		<p class="form-error" id="settings-error" role="alert" hidden></p>
		<p class="saved" id="settings-saved" role="status" hidden>Saved.</p>
		<button type="submit" disabled>Save</button>
	</form>
	<section class="card"><h2>Blocked</h2><ul class="people" id="blocked"></ul></section>`);
}

/** /history: the calls of this account, newest first. */
export function historyPage(): string {
	return appPage('history', 'Calls', `<h1>Calls</h1>
	<p class="form-error" id="history-error" role="alert" hidden></p>
	<ol class="history" id="history"></ol>
	<p class="muted" id="history-empty" hidden>No calls yet.</p>
	<button type="button" class="quiet" id="history-more" hidden>Older calls</button>`);
}

/**
 * /links: the account's call links (title, who joins, expiry, the whole link
 * where this browser made it), a form for a new one, and Revoke.
 */
export function linksPage(): string {
	return appPage('links', 'Call links', `<h1>Call links</h1>
	<form class="card" id="new-link">
		<label>Title <input name="title" maxlength="64" placeholder="Weekly standup" autocomplete="off"></label>
		<fieldset>
			<legend>Who joins</legend>
			<label class="check"><input type="radio" name="admit" value="owner" checked> I admit each person (they knock and wait)</label>
			<label class="check"><input type="radio" name="admit" value="anyone"> Anyone with the link</label>
		</fieldset>
		<p class="muted">Calls through a link are end-to-end encrypted: the key is made here and travels only inside the link, so keep the whole link. This browser remembers it.</p>
		<p class="form-error" id="links-error" role="alert" hidden></p>
		<button type="submit">Create link</button>
	</form>
	<ol class="links" id="links"></ol>
	<p class="muted" id="links-empty" hidden>No call links yet.</p>`);
}
