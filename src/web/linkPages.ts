/**
 * The page of a call link (/l/:id): one shell for every id, so that a link
 * that was revoked, expired or never made shows the same page as a live one
 * until the bundle (/assets/link.js) asks the API, and then the same
 * "does not work" for each. The lobby card, then the room view.
 */
import { page, roomMarkup } from './pages';

export function linkPage(): string {
	return page('Call link - Switchyard', `<main class="lobby" id="link-lobby">
	<h1>Switchyard</h1>
	<section class="card" id="link-card" aria-live="polite">
		<p class="muted" id="link-loading">Opening the link…</p>
		<div id="link-gone" hidden>
			<h2>This call link does not work</h2>
			<p class="muted">It may have been revoked or expired, or the address is not complete. Ask whoever sent it for a new one.</p>
		</div>
		<form id="link-join" hidden>
			<h2 id="link-title"></h2>
			<p class="handle" id="link-owner"></p>
			<p class="e2ee-line">End-to-end encrypted</p>
			<label id="link-name-label">Your name <input name="name" maxlength="64" autocomplete="nickname" placeholder="Ada"></label>
			<p class="muted" id="link-as" hidden></p>
			<p class="form-error" id="link-error" role="alert" hidden></p>
			<button type="submit" id="link-go">Join</button>
		</form>
		<div id="link-waiting" hidden>
			<h2>Waiting to be let in</h2>
			<p class="muted" id="link-waiting-text"></p>
			<button type="button" class="quiet" id="link-withdraw">Cancel</button>
		</div>
		<div id="link-denied" hidden>
			<h2 id="link-denied-title"></h2>
			<p class="muted" id="link-denied-text"></p>
			<button type="button" id="link-again">Ask again</button>
		</div>
	</section>
</main>
<section class="call-view" id="call-view" hidden>
	<aside class="knocks card" id="knocks" aria-label="People waiting to join" hidden>
		<h2>Waiting to join</h2>
		<ul id="knock-list"></ul>
	</aside>
	${roomMarkup('', { home: '/', homeTitle: 'Switchyard' })}
</section>`, '/assets/link.js');
}
