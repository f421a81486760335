/**
 * /signin and /signup: posts the form to the API, stores the session and goes
 * on to `?next=` (a path on this node) or the directory. The API's errors are
 * shown under the form.
 */
import { describeError } from './api';
import { SESSION_KEY, signIn } from './auth';
import { showError } from './dom';
import { safeNext } from './nextPage';

const form = document.getElementById('signin') as HTMLFormElement;
const error = document.getElementById('form-error')!;
const submit = form.querySelector('button[type="submit"]') as HTMLButtonElement;

/** Only a page of this node: never an open redirect. */
function nextPage(): string {
	return safeNext(new URLSearchParams(location.search).get('next'), location.origin);
}

// Signed in already (this tab or another): on to the page. A stale session
// comes back here once the next page finds it ended, with storage cleared.
if (localStorage.getItem(SESSION_KEY)) {
	location.replace(nextPage());
}

form.addEventListener('submit', async (event) => {
	event.preventDefault();
	const fields = new FormData(form);
	const value = (name: string) => String(fields.get(name) ?? '').trim();
	const kind = form.dataset.kind === 'signup' ? 'signup' : 'login';
	showError(error, undefined);
	submit.disabled = true;
	try {
		await signIn(kind, {
			handle: value('handle'),
			// NOTE: passwords are not trimmed: spaces are characters like any other.
			password: String(fields.get('password') ?? ''),
			...(kind === 'signup' ? { displayName: value('displayName') } : {}),
		});
		location.assign(nextPage());
	} catch (failure) {
		showError(error, describeError(failure));
		submit.disabled = false;
	}
});
