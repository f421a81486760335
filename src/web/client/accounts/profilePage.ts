import { describeError } from './api';
import type { Account, Me } from './auth';
import type { Party } from './CallScreens';
import { byId, fillAvatar, nameWithMark, showError } from './dom';
import type { Phone } from './Phone';

type Relation = 'follows' | 'contacts' | 'blocks';
const LABELS: Record<Relation, [off: string, on: string]> = {
	follows: ['Follow', 'Following'],
	contacts: ['Add to contacts', 'In contacts'],
	blocks: ['Block', 'Blocked'],
};
const UNDO: Record<Relation, string> = { follows: 'Unfollow', contacts: 'Remove from contacts', blocks: 'Unblock' };

/**
 * Who a handle is: the API has no profile route, so this takes the directory
 * entry (exact handle), else the same entry from the relation lists (a person
 * not listed in the directory who has one as a contact or follows one).
 * Undefined for anyone else: an unknown handle and a hidden account look alike.
 */
async function lookUp(account: Account, handle: string, lists: Record<Relation, Me[]>): Promise<Me | undefined> {
	const { users } = await account.api<{ users: Me[] }>('GET', `/api/users?${new URLSearchParams({ q: handle, limit: '50' })}`);
	return users.find((u) => u.handle === handle) ?? Object.values(lists).flat().find((u) => u.handle === handle);
}

/** /u/:handle: Call (video, audio), Follow, Add to contacts, Block, each undone by pressing it again. */
export async function showProfile(account: Account, phone: Phone): Promise<void> {
	const handle = byId('page').dataset.handle!;
	const error = byId('profile-error');
	const entries = await Promise.all((Object.keys(LABELS) as Relation[]).map(async (r) =>
		[r, (await account.api<{ users: Me[] }>('GET', `/api/me/${r}`)).users] as const));
	const lists = Object.fromEntries(entries) as Record<Relation, Me[]>;
	const found = await lookUp(account, handle, lists);
	const person: Party = found ?? { handle, displayName: `@${handle}`, verified: false };
	document.title = `${person.displayName} - Switchyard`;
	fillAvatar(byId('profile-avatar'), handle, person.displayName);
	byId('profile-name').replaceChildren(nameWithMark(person.displayName, person.verified));
	const note = byId('profile-note');
	const self = handle === account.me.handle;
	// NOTE: the node lists relations to an unlisted person only if that person has one as a contact
	// or follows one, so the buttons cannot show them; a relation set here still applies.
	note.textContent = self ? 'This is you.' : found ? '' : 'Not in the directory: these buttons cannot show what you set before. Press one twice to undo it.';
	note.hidden = !self && !!found;

	for (const [id, media] of [['call-video', 'video'], ['call-audio', 'audio']] as const) {
		const button = byId<HTMLButtonElement>(id);
		// data-call: enabled and disabled with the phone's busy state (never on one's own profile).
		if (!self) {
			button.dataset.call = media;
		}
		button.disabled = self || phone.busy;
		button.addEventListener('click', () => void phone.place(person, media));
	}
	for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-relation]')) {
		const relation = button.dataset.relation as Relation;
		const show = (on: boolean) => {
			button.setAttribute('aria-pressed', String(on));
			button.textContent = LABELS[relation][on ? 1 : 0];
			button.title = on ? UNDO[relation] : LABELS[relation][0];
		};
		show(lists[relation].some((u) => u.handle === handle));
		button.disabled = self;
		button.addEventListener('click', async () => {
			const on = button.getAttribute('aria-pressed') !== 'true';
			showError(error, undefined);
			button.disabled = true;
			try {
				await account.api(on ? 'PUT' : 'DELETE', `/api/me/${relation}/${encodeURIComponent(handle)}`);
				show(on);
			} catch (failure) {
				showError(error, describeError(failure));
			}
			button.disabled = false;
		});
	}
}
