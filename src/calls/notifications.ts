import type { CallMedia as Media } from '../store';

/**
 * What the call service (and the lobby of call links) tells an account's
 * devices, by name, with its payload. signaling/ maps each to its wire event (src/signaling/wire.ts).
 */
export type CallNotifications = {
	/**
	 * To each device of a callee: a call rings. `waiting`: the callee is in
	 * another call, which accepting ends. `e2ee`: the call is end-to-end
	 * encrypted (every call between accounts is: docs/e2ee.md).
	 */
	incoming: { callId: string; from: { handle: string; displayName: string; verified: boolean }; media: Media; waiting: boolean; e2ee: boolean };
	/** To the caller: the callee `handle` rings. */
	ringing: { callId: string; handle: string };
	/** To the caller: the callee `handle` answered; the call's room and a token for it. */
	accepted: { callId: string; handle: string; roomId: string; token: string };
	/** To the caller: the callee `handle` declined. */
	declined: { callId: string; handle: string };
	/** To the caller: the callee `handle` did not answer within the ring timeout. */
	noAnswer: { callId: string; handle: string };
	/** To the caller: the callee `handle` hung up; the call goes on with whoever is left. */
	left: { callId: string; handle: string };
	/** To each device of a callee: the call stopped ringing (the caller gave up, or it may no longer ring). */
	cancelled: { callId: string };
	/** To each device of a callee: the ring timed out. */
	missed: { callId: string };
	/**
	 * To each device of a callee whose settings silence the caller
	 * (silenceOthers): a call that did not ring, to call back.
	 */
	silenced: { callId: string; from: { handle: string; displayName: string; verified: boolean }; media: Media };
	/** To the callee's other devices: one of them answered. */
	answeredElsewhere: { callId: string };
	/** The call is over for this device. */
	ended: { callId: string; reason: CallEndedReason };
	/**
	 * To each device of a call link's owner (links/LinkLobby.ts): someone
	 * knocks on the link, a guest by the name they typed or an account.
	 */
	knock: { linkId: string; knockId: string; title: string; name: string; handle?: string; verified: boolean; guest: boolean };
	/** To each device of a link's owner: the knock was answered (on one of them) or withdrawn. */
	knockEnded: { linkId: string; knockId: string };
};

export type CallNotificationName = keyof CallNotifications;

/**
 * Why a call ended for a device: a party hung up (`hangup`), nobody is left
 * ringing or in it (`over`), or another device of the callee declined it
 * (`declinedElsewhere`).
 */
export type CallEndedReason = 'hangup' | 'over' | 'declinedElsewhere';
