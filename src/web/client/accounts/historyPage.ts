import { describeError } from './api';
import type { Account } from './auth';
import { byId, fillAvatar, formatDuration, showError } from './dom';
import type { Phone } from './Phone';

/** A row of GET /api/me/calls. */
type CallRecord = {
	callId: string;
	other: { handle: string; displayName: string };
	direction: 'outgoing' | 'incoming';
	media: 'audio' | 'video';
	outcome: string;
	startedAt: string;
	durationSeconds: number;
};

/** The outcomes as people say them, by direction. */
const OUTCOMES: Record<string, string> = {
	answered: 'Answered',
	declined: 'Declined',
	no_answer: 'No answer',
	missed: 'Missed',
	silenced: 'Silenced',
	cancelled: 'Cancelled',
	unavailable: 'Unavailable',
};

function row(call: CallRecord, phone: Phone, account: Account): HTMLLIElement {
	const item = document.createElement('li');
	item.className = `call ${call.direction} ${call.outcome}`;
	item.dataset.callId = call.callId;
	const avatar = document.createElement('span');
	avatar.className = 'avatar';
	fillAvatar(avatar, call.other.handle, call.other.displayName);
	const who = document.createElement('a');
	who.className = 'who';
	who.href = `/u/${encodeURIComponent(call.other.handle)}`;
	who.textContent = call.other.displayName;
	const what = document.createElement('span');
	what.className = 'what';
	const arrow = call.direction === 'outgoing' ? '↗ Outgoing' : '↙ Incoming';
	const duration = call.outcome === 'answered' ? ` · ${formatDuration(call.durationSeconds * 1000)}` : '';
	what.textContent = `${arrow} ${call.media} call · ${OUTCOMES[call.outcome] ?? call.outcome}${duration}`;
	const when = document.createElement('time');
	when.dateTime = call.startedAt;
	when.textContent = new Date(call.startedAt).toLocaleString();
	const again = document.createElement('button');
	again.type = 'button';
	again.className = 'quiet';
	again.dataset.call = call.media;
	again.textContent = 'Call back';
	again.disabled = phone.busy;
	again.addEventListener('click', () => void phone.place({ ...call.other, verified: false }, call.media));
	item.append(avatar, who, what, when, again);
	if (call.direction === 'incoming') {
		item.append(reportButton(account, call.other.handle));
	}
	return item;
}

/** /history: this account's calls, newest first, a page at a time. */
export async function showHistory(account: Account, phone: Phone): Promise<void> {
	const list = byId('history');
	const more = byId<HTMLButtonElement>('history-more');
	const error = byId('history-error');
	let next: string | undefined;

	async function load(): Promise<void> {
		try {
			const page = await account.api<{ calls: CallRecord[]; next?: string }>('GET', `/api/me/calls${next ? `?before=${encodeURIComponent(next)}` : ''}`);
			list.append(...page.calls.map((call) => row(call, phone, account)));
			next = page.next;
			more.hidden = !next;
			byId('history-empty').hidden = list.childElementCount > 0;
		} catch (failure) {
			showError(error, describeError(failure));
		}
	}
	more.addEventListener('click', () => void load());
	await load();
}

/** Report as spam: blocks the caller at once (POST /api/me/reports/:handle); it is never told. */
export function reportButton(account: Account, handle: string): HTMLButtonElement {
	const button = document.createElement('button');
	button.type = 'button';
	button.className = 'quiet report';
	button.textContent = 'Report spam';
	button.title = `Block @${handle} and report the call as spam (they are not told)`;
	button.addEventListener('click', async () => {
		button.disabled = true;
		try {
			await account.api('POST', `/api/me/reports/${encodeURIComponent(handle)}`);
			button.textContent = 'Reported';
		} catch (failure) {
			button.disabled = false;
			button.title = describeError(failure);
		}
	});
	return button;
}
