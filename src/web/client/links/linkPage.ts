/**
 * A call link's page (/l/:id#e2ee=<secret>): looks the link up (a link that
 * is revoked, expired or was never made shows one and the same "does not
 * work"), asks for a name (a signed-in account goes as itself), then joins
 * or knocks (POST /api/links/:id/join) and waits in the lobby, asking after
 * the knock every 1.5 s, until the owner admits or denies it. In the call,
 * end-to-end encrypted with the fragment's secret, tiles mark guests and
 * accounts; the owner also gets the list of knocks to answer (knockPanel.ts).
 * Query parameters `w` and `h` set the camera capture size (the tests ask for less).
 */
import { ApiError, describeError, requestJson } from '../accounts/api';
import { Account } from '../accounts/auth';
import { byId, nameWithMark, showError } from '../accounts/dom';
import { joinChoices } from '../devicePrefs';
import { secretOf } from '../e2ee/link';
import { startRoom } from '../room';
import { showKnocks } from './knockPanel';

type LinkInfo = { title: string; admit: 'anyone' | 'owner'; owner: { handle: string; displayName: string; verified: boolean } };
type Entry = { state: 'admitted'; roomId: string; token: string };
type Answer = Entry | { state: 'waiting'; knockId: string } | { state: 'waiting' | 'denied' };

const POLL_MS = 1500;

const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const params = new URLSearchParams(location.search);
const fragment = secretOf(location.hash);
const account = Account.load(() => undefined);
const views = ['link-loading', 'link-gone', 'link-join', 'link-waiting', 'link-denied'] as const;

function show(view: (typeof views)[number]): void {
	for (const other of views) {
		byId(other).hidden = other !== view;
	}
}

async function open(): Promise<void> {
	let info: LinkInfo;
	try {
		info = await requestJson<LinkInfo>('GET', `/api/links/${encodeURIComponent(id)}`);
	} catch (error) {
		if ((error as ApiError).code === 'not_found') {
			show('link-gone');
			return;
		}
		throw error;
	}
	const form = byId<HTMLFormElement>('link-join');
	const error = byId('link-error');
	const nameInput = form.elements.namedItem('name') as HTMLInputElement;
	const owner = account?.me.handle === info.owner.handle;
	byId('link-title').textContent = info.title || `${info.owner.displayName}'s call`;
	byId('link-owner').replaceChildren('Hosted by ', nameWithMark(info.owner.displayName, info.owner.verified), ` @${info.owner.handle}`);
	byId('link-go').textContent = info.admit === 'anyone' || owner ? 'Join' : 'Ask to join';
	if (account) {
		byId('link-name-label').hidden = true;
		byId('link-as').hidden = false;
		byId('link-as').textContent = `Joining as ${account.me.displayName} (@${account.me.handle})`;
	} else {
		nameInput.required = true;
	}
	show('link-join');
	if (!fragment || 'problem' in fragment) {
		// NOTE: never joined in the clear: without the secret there is no call to see.
		showError(error, fragment ? fragment.problem : 'This link is missing its encryption key (the part after #): ask for the whole link.');
		byId<HTMLButtonElement>('link-go').disabled = true;
		return;
	}
	const secret = fragment.secret;
	const name = () => account?.me.displayName ?? nameInput.value.trim();

	const enter = (entry: Entry) => {
		byId('link-lobby').hidden = true;
		byId('call-view').hidden = false;
		document.querySelector('.room-name')!.textContent = byId('link-title').textContent;
		if (owner && account) {
			showKnocks(account, id, byId('knocks'), byId('knock-list'));
		}
		startRoom({
			roomId: entry.roomId, name: name(), width: Number(params.get('w')) || 1280, height: Number(params.get('h')) || 720,
			token: async () => entry.token, e2eeSecret: secret, retryHref: null, markGuests: true,
			e2eeNotice: 'End-to-end encrypted with the key in this link: the server cannot see or hear the call.',
			...joinChoices(),
		}).catch(() => undefined);
	};

	const denied = (title: string, text: string) => {
		byId('link-denied-title').textContent = title;
		byId('link-denied-text').textContent = text;
		show('link-denied');
	};

	const wait = async (knockId: string) => {
		show('link-waiting');
		byId('link-waiting-text').textContent = `${info.owner.displayName} sees that you are here and can let you in.`;
		const knock = `/api/links/${encodeURIComponent(id)}/knocks/${encodeURIComponent(knockId)}`;
		let withdrawn = false;
		byId('link-withdraw').onclick = () => {
			withdrawn = true;
			void requestJson('DELETE', knock).catch(() => undefined);
			show('link-join');
		};
		for (;;) {
			await new Promise((resolve) => setTimeout(resolve, POLL_MS));
			if (withdrawn) {
				return;
			}
			let answer: Answer;
			try {
				answer = await requestJson<Answer>('GET', knock);
			} catch (failure) {
				if ((failure as ApiError).code === 'not_found') {
					denied('No one let you in', 'The wait is over. You can ask again.');
					return;
				}
				continue;
			}
			if (answer.state === 'admitted') {
				enter(answer);
				return;
			}
			if (answer.state === 'denied') {
				denied('You were not let in', `${info.owner.displayName} did not let you into this call.`);
				return;
			}
		}
	};

	const go = async () => {
		showError(error, undefined);
		if (!account && !name()) {
			showError(error, 'Type your name: the others see it.');
			return;
		}
		const answer = await requestJson<Answer>('POST', `/api/links/${encodeURIComponent(id)}/join`, {
			body: account ? {} : { name: name() }, token: account ? await account.token() : undefined,
		});
		if (answer.state === 'admitted') {
			enter(answer);
		} else if ('knockId' in answer) {
			await wait(answer.knockId);
		}
	};
	const attempt = () => {
		go().catch((failure: unknown) => {
			if ((failure as ApiError).code === 'not_found') {
				show('link-gone');
				return;
			}
			show('link-join');
			showError(error, describeError(failure));
		});
	};
	form.addEventListener('submit', (event) => {
		event.preventDefault();
		attempt();
	});
	byId('link-again').addEventListener('click', () => show('link-join'));
}

open().catch((error: unknown) => {
	show('link-join');
	showError(byId('link-error'), describeError(error));
	byId<HTMLButtonElement>('link-go').disabled = true;
});
