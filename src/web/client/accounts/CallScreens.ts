import { announce } from '../announcer';
import { CallNotifications } from './callNotifications';
import { parseHandles } from './handles';
import { byId, fillAvatar, formatDuration, nameWithMark, showError } from './dom';

/** Who is on the other end, as the call events and the directory describe them. */
export type Party = { handle: string; displayName: string; verified: boolean };

/**
 * The call screens of a signed-in page (markup in src/web/accountPages.ts):
 * the incoming-call screen, the outgoing "ringing" screen and the in-call
 * view, and the incoming call's system notification while the page is in
 * the background. Only what is shown; Phone decides when.
 */
export class CallScreens {
	readonly incoming = byId('incoming');
	readonly outgoing = byId('outgoing');
	readonly callView = byId('call-view');
	/** The room view as the server rendered it: each call starts from a fresh copy (no listeners of the last call). */
	readonly #roomTemplate = this.callView.innerHTML;
	readonly #notifications = new CallNotifications();
	#timer?: ReturnType<typeof setInterval>;

	/**
	 * The incoming screen for `callId` (what Accept and Decline answer). An
	 * end-to-end encrypted call says so; when this browser cannot take part
	 * (`problem`), the screen says why and only Decline is offered.
	 */
	showIncoming(callId: string, from: Party, media: 'audio' | 'video', { waiting, e2ee, problem }: { waiting: boolean; e2ee: boolean; problem?: string }): void {
		this.incoming.dataset.callId = callId;
		byId('incoming-kind').textContent = media === 'video' ? 'Incoming video call' : 'Incoming audio call';
		this.#party('incoming', from);
		byId('incoming-waiting').hidden = !waiting;
		byId('incoming-e2ee').hidden = !e2ee;
		showError(byId('incoming-problem'), e2ee ? problem : undefined);
		const accept = byId('accept') as HTMLButtonElement;
		accept.disabled = e2ee && problem !== undefined;
		this.incoming.hidden = false;
		(accept.disabled ? byId('decline') : accept).focus();
		// NOTE: said as well as shown: a screen reader in another part of the page hears of the call at once.
		announce(`Incoming ${media} call from ${from.displayName}, @${from.handle}.${waiting ? ' Answering ends your current call.' : ''}`);
		this.#notifications.ring({ callId, from, media });
	}

	/** The call the incoming screen shows, if it is shown. */
	get incomingCallId(): string | undefined {
		return this.incoming.hidden ? undefined : this.incoming.dataset.callId;
	}

	hideIncoming(): void {
		this.incoming.hidden = true;
		this.#notifications.stop();
	}

	showOutgoing(to: Party, media: 'audio' | 'video'): void {
		this.#party('outgoing', to);
		this.setOutgoing(media === 'video' ? 'Video calling…' : 'Audio calling…');
		showError(byId('outgoing-error'), undefined);
		byId('cancel').hidden = false;
		byId('outgoing-close').hidden = true;
		this.outgoing.hidden = false;
	}

	/** "Calling…", "Ringing…", "Declined": shown and said. */
	setOutgoing(state: string): void {
		byId('outgoing-state').textContent = state;
		announce(state);
	}

	/** The call did not happen (declined, no answer, an error): say why, offer Close instead of Cancel. */
	failOutgoing(state: string, error?: string): void {
		this.setOutgoing(state);
		showError(byId('outgoing-error'), error);
		byId('cancel').hidden = true;
		byId('outgoing-close').hidden = false;
		byId('outgoing-close').focus();
	}

	hideOutgoing(): void {
		this.outgoing.hidden = true;
	}

	/**
	 * A fresh room view for a call with `other`, with the call's running
	 * time; the Leave button is the Hang up. `add`: the caller's page, which
	 * may ring more people into the call (a handle field in the bar).
	 */
	showCall(other: Party, roomId: string, startedAt: number, add?: (handles: string[]) => void): void {
		this.callView.innerHTML = this.#roomTemplate;
		byId('app').dataset.roomId = roomId;
		const title = this.callView.querySelector('.room-name')!;
		const timer = document.createElement('span');
		timer.className = 'call-timer';
		timer.id = 'call-timer';
		title.replaceChildren(nameWithMark(other.displayName, other.verified), ' ', timer);
		const tick = () => {
			timer.textContent = formatDuration(Date.now() - startedAt);
		};
		tick();
		clearInterval(this.#timer);
		this.#timer = setInterval(tick, 1000);
		if (add) {
			title.after(addForm(add));
		}
		const leave = byId('leave');
		leave.querySelector('.label')!.textContent = 'Hang up';
		leave.title = 'Hang up';
		this.callView.hidden = false;
		document.body.classList.add('in-call');
	}

	/** Who the caller rang into the call and has not answered yet, in the bar. */
	setAdding(handles: string[]): void {
		const line = document.getElementById('adding');
		if (line) {
			line.textContent = handles.length > 0 ? `Ringing ${handles.map((h) => `@${h}`).join(', ')}…` : '';
			line.hidden = handles.length === 0;
		}
	}

	hideCall(): void {
		clearInterval(this.#timer);
		this.callView.hidden = true;
		this.callView.innerHTML = this.#roomTemplate;
		document.body.classList.remove('in-call');
	}

	#party(prefix: 'incoming' | 'outgoing', party: Party): void {
		fillAvatar(byId(`${prefix}-avatar`), party.handle, party.displayName);
		byId(`${prefix}-name`).replaceChildren(nameWithMark(party.displayName, party.verified));
		byId(`${prefix}-handle`).textContent = `@${party.handle}`;
	}
}

/** The bar's "Add someone" field: handles (`@gus, @hal`), rung into the call on submit; and the line of who rings. */
function addForm(add: (handles: string[]) => void): HTMLElement {
	const form = document.createElement('form');
	form.className = 'add-person';
	form.id = 'add-person';
	const input = document.createElement('input');
	Object.assign(input, { name: 'handle', placeholder: 'Add by handle', required: true, maxLength: 300, autocomplete: 'off' });
	input.setAttribute('aria-label', 'Add people to the call by handle (several: separate them with commas)');
	const button = document.createElement('button');
	button.type = 'submit';
	button.className = 'quiet';
	button.textContent = 'Add';
	const ringing = document.createElement('span');
	ringing.id = 'adding';
	ringing.className = 'adding';
	ringing.hidden = true;
	form.append(input, button, ringing);
	form.addEventListener('submit', (event) => {
		event.preventDefault();
		const handles = parseHandles(input.value);
		input.value = '';
		if (handles.length > 0) {
			add(handles);
		}
	});
	return form;
}

