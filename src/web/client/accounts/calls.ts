/**
 * The signed-in calling pages (/directory, /u/:handle, /settings, /history, /links):
 * the account from this browser's storage (or off to sign-in), the top bar,
 * the account's phone (incoming, outgoing and in-call screens), knocks on
 * the account's call links, then the page's own part.
 *
 * Query parameters `w` and `h` set the camera capture size of calls (1280x720
 * by default; the browser tests ask for less); they are kept for the tab.
 */
import { Account } from './auth';
import { offerCallNotifications } from './callNotifications';
import { CallScreens } from './CallScreens';
import { byId } from './dom';
import { showDirectory } from './directoryPage';
import { showHistory } from './historyPage';
import { showKnockNotices } from './knockNotices';
import { showLinks } from './linksPage';
import { Phone } from './Phone';
import { showProfile } from './profilePage';
import { showSettings } from './settingsPage';

function toSignIn(): void {
	location.replace(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** The capture size from `?w=&h=`, remembered for the tab so that it survives following links. */
function captureSize(): { width: number; height: number } {
	const params = new URLSearchParams(location.search);
	if (params.get('w') && params.get('h')) {
		sessionStorage.setItem('switchyard.capture', JSON.stringify({ width: Number(params.get('w')), height: Number(params.get('h')) }));
	}
	const kept = JSON.parse(sessionStorage.getItem('switchyard.capture') ?? 'null') as { width: number; height: number } | null;
	return { width: kept?.width || 1280, height: kept?.height || 720 };
}

const account = Account.load(toSignIn);
if (account) {
	const banner = byId('banner');
	const me = byId('me');
	me.textContent = `${account.me.displayName} (@${account.me.handle})`;
	byId('sign-out').addEventListener('click', () => void account.signOut());
	const phone = new Phone({
		account,
		screens: new CallScreens(),
		capture: captureSize(),
		notify: (text) => {
			banner.textContent = text;
			banner.hidden = false;
		},
		state: (state) => {
			// Tests and the top bar read it: only an online page rings.
			document.body.dataset.phone = state;
			me.title = state === 'online' ? 'Online: calls ring here' : 'Offline: calls do not ring here';
		},
		busy: (busy) => {
			for (const button of document.querySelectorAll<HTMLButtonElement>('[data-call]')) {
				button.disabled = busy;
			}
		},
	});
	showKnockNotices(account, phone);
	offerCallNotifications(byId('notify-offer'));
	const page = byId('page').dataset.page;
	const shown = page === 'directory' ? showDirectory(account, phone)
		: page === 'profile' ? showProfile(account, phone)
		: page === 'settings' ? showSettings(account)
		: page === 'links' ? showLinks(account)
		: showHistory(account, phone);
	shown.catch((error: Error) => console.error('switchyard: the page could not load', error.message));
}
