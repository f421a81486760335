import type { CallSession } from '../CallSession';
import { joinChoices } from '../devicePrefs';
import { startRoom } from '../room';
import { Signaling } from '../signaling';
import { describeError } from './api';
import type { Account } from './auth';
import type { CallScreens, Party } from './CallScreens';
import type { DeviceIdentity } from '../e2ee/identity';
import { callProblem, publishedDevice } from './device';
import { byId, formatDuration } from './dom';
import { RingTone } from './ringTone';

type Media = 'audio' | 'video';

/** An invite ringing here. Several can ring at once (call waiting). */
type Ringing = { callId: string; from: Party; media: Media; waiting: boolean; e2ee: boolean };
/** The call this page is placing, until it is answered or over; `ringing`: the callees that ring. */
type Placing = { callId?: string; to: Party; media: Media; ringing: Set<string> };
/** The call this page is in. */
/** The call this page is in; `adding`, on the caller's page only: the handles it rang into the call that have not answered yet. */
type Active = { callId: string; other: Party; media: Media; session?: CallSession; startedAt: number; over: boolean; adding?: Set<string> };

export type PhoneState = 'connecting' | 'online' | 'offline';

export type PhoneOptions = {
	account: Account;
	screens: CallScreens;
	/** A one-line message on the page ("Missed call from Ada"). */
	notify(text: string): void;
	/** The account connection's state, for the page to show. */
	state(state: PhoneState): void;
	/** Busy (ringing out or in a call) or not: the page disables its Call buttons. */
	busy(busy: boolean): void;
	capture: { width: number; height: number };
};

/**
 * The account's device on this page: one signaling connection with the
 * account token, which makes every open signed-in page ring. It places calls
 * (call.invite), answers them (call.accept / call.decline), and on an answer
 * joins the call's room with its room token on a second connection (the room
 * view, room.ts). NOTE: the call lives as long as the page: leaving it while
 * ringing out cancels the call (the node cancels when the caller's device
 * goes), so the page warns before unloading. Calls are end-to-end
 * encrypted (docs/e2ee.md): the page publishes this browser's device key
 * first, and names the device when it places or answers a call.
 */
export class Phone {
	readonly signaling: Signaling;
	readonly #o: PhoneOptions;
	readonly #ringTone = new RingTone();
	readonly #ringing = new Map<string, Ringing>();
	#placing?: Placing;
	#active?: Active;
	#device: Promise<DeviceIdentity>;

	constructor(options: PhoneOptions) {
		this.#o = options;
		this.#device = publishedDevice(options.account);
		this.#device.catch((error: Error) => console.warn('switchyard: no device key for calls', error.message));
		this.signaling = new Signaling(() => options.account.token());
		this.#watchConnection();
		this.#listen();
		byId('accept').addEventListener('click', () => void this.#answer(true));
		byId('decline').addEventListener('click', () => void this.#answer(false));
		byId('report').addEventListener('click', () => void this.#report());
		byId('cancel').addEventListener('click', () => void this.cancel());
		byId('outgoing-close').addEventListener('click', () => this.#closeOutgoing());
		addEventListener('beforeunload', (event) => {
			if (this.busy) {
				event.preventDefault();
			}
		});
	}

	get busy(): boolean {
		return Boolean(this.#placing || this.#active);
	}

	/**
	 * Rings `to`, and `others` (handles) into the same call: a group call. The
	 * outgoing screen shows `to`; the first to answer opens the call, whose bar
	 * says who still rings. Each callee goes through the same rules.
	 */
	async place(to: Party, media: Media, others: string[] = []): Promise<void> {
		if (this.busy) {
			this.#o.notify('Hang up the current call first.');
			return;
		}
		const placing: Placing = { to, media, ringing: new Set() };
		this.#placing = placing;
		this.#busyChanged();
		this.#o.screens.showOutgoing(to, media);
		try {
			const { deviceId } = await this.#ready();
			const { callId, invited } = await this.signaling.request('call.invite', { to: [to.handle, ...others], media, deviceId });
			placing.callId = callId;
			this.#invited(invited, (handle) => placing.ringing.add(handle));
			if (this.#placing !== placing) {
				// Cancelled while the invite was on its way.
				await this.signaling.request('call.cancel', { callId }).catch(() => undefined);
			}
		} catch (error) {
			if (this.#placing === placing) {
				this.#o.screens.failOutgoing('Call failed', describeError(error));
			}
		}
	}

	/** The caller rings `handles` too, into the call this page is in (the same rules as any invite); the bar shows them ringing. */
	async add(handles: string[]): Promise<void> {
		const active = this.#active;
		if (!active?.adding) {
			return;
		}
		try {
			const { invited } = await this.signaling.request('call.invite', { callId: active.callId, to: handles });
			this.#invited(invited, (handle) => this.#adding(active, handle, true));
		} catch (error) {
			this.#o.notify(`${handles.map((h) => `@${h}`).join(', ')}: ${describeError(error)}`);
		}
	}

	/** An invite's reply: `ringing` for each callee that rings; a line for those who cannot take the call. */
	#invited(invited: Record<string, 'ringing' | 'unavailable'>, ringing: (handle: string) => void): void {
		const unavailable = Object.keys(invited).filter((handle) => invited[handle] !== 'ringing');
		Object.keys(invited).filter((handle) => invited[handle] === 'ringing').forEach(ringing);
		if (unavailable.length > 0) {
			this.#o.notify(`${unavailable.map((h) => `@${h}`).join(', ')}: ${describeError({ code: 'unavailable' })}`);
		}
	}

	#adding(active: Active, handle: string, ringing: boolean, outcome?: string): void {
		if (ringing) {
			active.adding?.add(handle);
		} else if (active.adding?.delete(handle) && outcome) {
			this.#o.notify(`@${handle}: ${outcome}`);
		}
		this.#o.screens.setAdding([...active.adding ?? []]);
	}

	/** The published device; a failure (the network, say) is tried once more. @throws Error with what the person is told */
	async #ready(): Promise<DeviceIdentity> {
		try {
			return await this.#device;
		} catch (error) {
			if (callProblem()) {
				throw error;
			}
			this.#device = publishedDevice(this.#o.account);
			return this.#device;
		}
	}

	/** The caller gives up before an answer. */
	async cancel(): Promise<void> {
		const placing = this.#placing;
		if (placing?.callId) {
			await this.signaling.request('call.cancel', { callId: placing.callId }).catch(() => undefined);
		}
		this.#closeOutgoing();
	}

	/** Ends this side of the call: call.hangup, then the room is left. */
	async hangup(): Promise<void> {
		const active = this.#active;
		if (!active) {
			return;
		}
		// NOTE: not_found when the other side ended it a moment ago: nothing to do.
		await this.signaling.request('call.hangup', { callId: active.callId }).catch(() => undefined);
		await this.#end(active, 'Call ended');
	}

	#watchConnection(): void {
		const { socket } = this.signaling;
		this.#o.state('connecting');
		socket.on('connect', () => this.#o.state('online'));
		socket.on('disconnect', () => this.#o.state('offline'));
		socket.on('connect_error', (error: Error & { data?: { code: string } }) => {
			this.#o.state('offline');
			// socket.io does not retry a refused handshake (Signaling does, for a
			// store that is down). An expired or revoked token: the API call
			// refreshes it, or (session over) goes to sign-in.
			if (error.data && error.data.code !== 'service_unavailable' && error.data.code !== 'not_ready') {
				void this.#o.account.api('GET', '/api/me').then(() => setTimeout(() => socket.connect(), 1000), () => undefined);
			}
		});
	}

	#listen(): void {
		const s = this.signaling;
		s.on('session.ended', () => {
			// The node closes this connection next; the page goes to sign-in.
			if (this.#active) {
				void this.#end(this.#active, 'Call ended');
			}
			this.#o.account.ended();
		});
		s.on('call.incoming', ({ callId, from, media, waiting, e2ee }) => {
			this.#ringing.set(callId, { callId, from, media, waiting: waiting || this.busy, e2ee });
			this.#showRinging();
		});
		s.on('call.cancelled', ({ callId }) => this.#stopRinging(callId, 'Missed call from'));
		// No ring: a line on the page, and the call in the history to call back.
		s.on('call.silenced', ({ from }) => this.#o.notify(`Silenced call from ${from.displayName} (@${from.handle}): see your history to call back`));
		s.on('call.missed', ({ callId }) => this.#stopRinging(callId, 'Missed call from'));
		s.on('call.answeredElsewhere', ({ callId }) => this.#stopRinging(callId, 'Answered on another device:'));
		s.on('call.ringing', ({ callId }) => {
			if (this.#placing?.callId === callId || (this.#placing && !this.#placing.callId)) {
				this.#o.screens.setOutgoing('Ringing…');
			}
		});
		s.on('call.accepted', ({ callId, handle, roomId, token }) => {
			const placing = this.#placing;
			if (this.#active?.callId === callId) {
				// Someone rung into the call this page is in answered: the room shows them.
				this.#adding(this.#active, handle, false);
				return;
			}
			if (placing?.callId !== callId) {
				// Answered just as this page gave up on it: end it rather than leave the callee alone in the room.
				void this.signaling.request('call.hangup', { callId }).catch(() => undefined);
				return;
			}
			this.#placing = undefined;
			this.#o.screens.hideOutgoing();
			// The others rung with it still ring: the bar says so.
			placing.ringing.delete(handle);
			void this.#join({ callId, other: placing.to, media: placing.media, startedAt: Date.now(), over: false, adding: placing.ringing }, roomId, token);
		});
		s.on('call.declined', ({ callId, handle }) => this.#outgoingOver(callId, handle, 'Declined'));
		s.on('call.noAnswer', ({ callId, handle }) => this.#outgoingOver(callId, handle, 'No answer'));
		// NOTE: a party left; the call goes on while others are in it (call.ended says when it is over).
		s.on('call.left', ({ callId, handle }) => {
			if (this.#active?.callId === callId) {
				this.#o.notify(`@${handle} left the call`);
			}
		});
		s.on('call.ended', ({ callId, reason }) => {
			if (reason === 'declinedElsewhere') {
				this.#stopRinging(callId, 'Declined on another device:');
			} else {
				this.#remoteEnded(callId);
			}
		});
	}

	async #answer(accept: boolean): Promise<void> {
		// NOTE: the call on the screen, not the newest: another may have started ringing a moment ago.
		const ringing = this.#ringing.get(this.#o.screens.incomingCallId ?? '');
		if (!ringing) {
			return;
		}
		this.#ringing.delete(ringing.callId);
		this.#showRinging();
		try {
			if (!accept) {
				await this.signaling.request('call.decline', { callId: ringing.callId });
				return;
			}
			const { deviceId } = await this.#ready();
			const { roomId, token } = await this.signaling.request('call.accept', { callId: ringing.callId, deviceId });
			// Call waiting: the node has ended the other call; leave its room here too.
			if (this.#active) {
				await this.#end(this.#active, 'Call ended');
			}
			if (this.#placing) {
				this.#closeOutgoing();
			}
			await this.#join({ callId: ringing.callId, other: ringing.from, media: ringing.media, startedAt: Date.now(), over: false }, roomId, token);
		} catch (error) {
			this.#o.notify(`Could not ${accept ? 'answer' : 'decline'} the call from ${ringing.from.displayName}: ${describeError(error)}`);
		}
	}

	/** Report as spam, from the incoming screen: the block stops the ringing here (call.cancelled); the caller hears it ring on, as if unanswered. */
	async #report(): Promise<void> {
		const ringing = this.#ringing.get(this.#o.screens.incomingCallId ?? '');
		if (!ringing) {
			return;
		}
		try {
			await this.#o.account.api('POST', `/api/me/reports/${encodeURIComponent(ringing.from.handle)}`);
			this.#o.notify(`Reported and blocked @${ringing.from.handle}`);
		} catch (error) {
			this.#o.notify(`Could not report @${ringing.from.handle}: ${describeError(error)}`);
		}
	}

	/** The in-call view, joined with the call's room token. */
	async #join(active: Active, roomId: string, token: string): Promise<void> {
		this.#active = active;
		this.#busyChanged();
		this.#o.screens.showCall(active.other, roomId, active.startedAt, active.adding ? (handles) => void this.add(handles) : undefined);
		this.#o.screens.setAdding([...active.adding ?? []]);
		const { width, height } = this.#o.capture;
		try {
			active.session = await startRoom({
				roomId, width, height,
				callDevice: { handle: this.#o.account.me.handle, device: await this.#ready() },
				name: this.#o.account.me.displayName,
				video: active.media === 'video',
				token: async () => token,
				// A call may outlast its room token: a reconnection asks for a fresh one.
				renewToken: async () => (await this.signaling.request('call.token', { callId: active.callId })).token,
				onLeft: () => void this.hangup(),
				// The node ended this side of the call (here or on another device of the account).
				onRemoved: () => void this.#end(active, 'Call ended'),
				retryHref: null,
				// The devices and start-muted choices remembered from the pre-join screen (no screen here: the call is answered).
				...joinChoices(),
			});
		} catch {
			// The view says it failed; the Hang up button still ends the call.
			byId('leave').addEventListener('click', () => void this.hangup());
		}
		if (active.over) {
			await active.session?.leave();
		}
	}

	#remoteEnded(callId: string): void {
		if (this.#active?.callId === callId) {
			void this.#end(this.#active, 'Call ended');
		} else if (this.#placing?.callId === callId) {
			// call.ended "over" after a decline or no answer: the outgoing screen already says so.
			this.#placing = undefined;
			this.#busyChanged();
		} else {
			this.#stopRinging(callId, 'Missed call from');
		}
	}

	async #end(active: Active, text: string): Promise<void> {
		if (active.over) {
			return;
		}
		active.over = true;
		if (this.#active === active) {
			this.#active = undefined;
		}
		await active.session?.leave();
		this.#o.screens.hideCall();
		this.#busyChanged();
		this.#o.notify(`${text}: ${active.other.displayName} · ${formatDuration(Date.now() - active.startedAt)}`);
	}

	#outgoingOver(callId: string, handle: string, state: string): void {
		if (this.#active?.callId === callId) {
			this.#adding(this.#active, handle, false, state);
		} else if (this.#placing?.callId === callId) {
			// A group call rings on while another callee does.
			this.#placing.ringing.delete(handle);
			if (this.#placing.ringing.size === 0) {
				this.#o.screens.failOutgoing(state);
			} else {
				this.#o.notify(`@${handle}: ${state}`);
			}
		}
	}

	#closeOutgoing(): void {
		this.#placing = undefined;
		this.#o.screens.hideOutgoing();
		this.#busyChanged();
	}

	#stopRinging(callId: string, text: string): void {
		const ringing = this.#ringing.get(callId);
		if (!ringing) {
			return;
		}
		this.#ringing.delete(callId);
		this.#showRinging();
		this.#o.notify(`${text} ${ringing.from.displayName} (@${ringing.from.handle})`);
	}

	/** The newest ringing invite on the incoming screen, with the ring tone; nothing when none rings. */
	#showRinging(): void {
		const newest = [...this.#ringing.values()].at(-1);
		if (!newest) {
			this.#o.screens.hideIncoming();
			this.#ringTone.stop();
			return;
		}
		this.#o.screens.showIncoming(newest.callId, newest.from, newest.media, {
			waiting: newest.waiting || Boolean(this.#active), e2ee: newest.e2ee, problem: callProblem(),
		});
		this.#ringTone.start();
	}

	#busyChanged(): void {
		this.#o.busy(this.busy);
	}
}
