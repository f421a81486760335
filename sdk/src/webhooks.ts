import { createHmac, timingSafeEqual } from 'node:crypto';

/** The events a node sends to `webhooks.url` (docs/server-api.md). */
export const WEBHOOK_EVENTS = [
	'room_started', 'room_finished', 'participant_joined', 'participant_left',
	'track_published', 'track_unpublished', 'call_started', 'call_ended',
] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** `identity`: the token's `sub`; `peerId`: this connection of it. */
export type WebhookParticipant = { identity: string; peerId: string; displayName: string };
/** `source`: what the client said the track is (mic, cam, screen). */
export type WebhookTrack = { id: string; kind: 'audio' | 'video'; source: string };
/** `outcome` comes with `call_ended`: whether someone answered; never why a callee did not. */
export type WebhookCall = { id: string; outcome?: 'answered' | 'cancelled' | 'not_answered' };

/**
 * One webhook: its `event`, an `id` to drop a repeat by, `seq` counting up
 * per room (to order a room's events that arrive out of order), `createdAt`
 * (ISO 8601), its room, and what the event is about. NOTE: a newer node may
 * send an event or a field this type does not name yet; verifyWebhook passes
 * it on as it came, so keep a default branch.
 */
export type WebhookEvent = {
	event: WebhookEventName;
	id: string;
	seq: number;
	createdAt: string;
	room: { id: string };
	participant?: WebhookParticipant;
	track?: WebhookTrack;
	call?: WebhookCall;
};

/** The header a webhook's signature comes in. */
export const WEBHOOK_SIGNATURE_HEADER = 'Switchyard-Signature';

export type WebhookVerificationReason =
	| 'missing_header' | 'malformed_header' | 'bad_signature' | 'timestamp_too_old' | 'timestamp_too_new' | 'malformed_body';

/** A webhook verifyWebhook refused: why, as `reason`. Answer it with a 400 and drop it. */
export class WebhookVerificationError extends Error {
	override readonly name = 'WebhookVerificationError';

	constructor(readonly reason: WebhookVerificationReason, message: string) {
		super(message);
	}
}

/** The value of a Switchyard-Signature header for `body` sent at `t` (unix seconds): `t=<t>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signWebhook(body: string | Buffer, secret: string, t: number = Math.floor(Date.now() / 1000)): string {
	return `t=${t},v1=${hmac(body, secret, t).toString('hex')}`;
}

/**
 * The event of a webhook, once its Switchyard-Signature header proves the
 * node sent `rawBody` under `secret` (`webhooks.secret`) within
 * `toleranceSeconds` of `now` (ms). Pass the body exactly as it arrived,
 * before any JSON parser. Any of several `v1=` signatures may match (a
 * secret being rotated).
 * @throws WebhookVerificationError
 */
export function verifyWebhook(
	rawBody: string | Buffer,
	signatureHeader: string | undefined,
	secret: string,
	{ toleranceSeconds = 300, now = Date.now() }: { toleranceSeconds?: number; now?: number } = {},
): WebhookEvent {
	if (!signatureHeader) {
		throw new WebhookVerificationError('missing_header', `no ${WEBHOOK_SIGNATURE_HEADER} header`);
	}
	const { t, signatures } = parseHeader(signatureHeader);
	const expected = hmac(rawBody, secret, t);
	// NOTE: every signature is compared, in constant time each, so the time taken tells nothing of which matched.
	const matched = signatures.map((signature) => signature.length === expected.length && timingSafeEqual(signature, expected));
	if (!matched.includes(true)) {
		throw new WebhookVerificationError('bad_signature', 'no signature matches the body under the secret');
	}
	const age = Math.floor(now / 1000) - t;
	if (age > toleranceSeconds) {
		throw new WebhookVerificationError('timestamp_too_old', `signed ${age} s ago, more than ${toleranceSeconds} s`);
	}
	if (-age > toleranceSeconds) {
		throw new WebhookVerificationError('timestamp_too_new', `signed ${-age} s ahead, more than ${toleranceSeconds} s`);
	}
	return parseEvent(rawBody);
}

function hmac(body: string | Buffer, secret: string, t: number): Buffer {
	return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

/** `t=<digits>` once, and one or more `v1=<64 hex digits>`; other entries (a later scheme's) are passed over. */
function parseHeader(header: string): { t: number; signatures: Buffer[] } {
	const entries = header.split(',').map((entry) => {
		const at = entry.indexOf('=');
		return [entry.slice(0, at).trim(), entry.slice(at + 1).trim()] as const;
	});
	const ts = entries.filter(([key]) => key === 't').map(([, value]) => value);
	const v1 = entries.filter(([key]) => key === 'v1').map(([, value]) => value);
	if (ts.length !== 1 || !/^\d{1,12}$/.test(ts[0]!) || v1.length === 0 || !v1.every((value) => /^[0-9a-f]{64}$/i.test(value))) {
		throw new WebhookVerificationError('malformed_header', `expected ${WEBHOOK_SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256>`);
	}
	return { t: Number(ts[0]), signatures: v1.map((value) => Buffer.from(value, 'hex')) };
}

/** The signed body as an event: a JSON object with the fields every event has. */
function parseEvent(rawBody: string | Buffer): WebhookEvent {
	let event: unknown;
	try {
		event = JSON.parse(rawBody.toString());
	} catch {
		throw new WebhookVerificationError('malformed_body', 'the body is not JSON');
	}
	const e = event as Partial<Record<keyof WebhookEvent, unknown>> | null;
	if (typeof e !== 'object' || e === null || typeof e.event !== 'string' || typeof e.id !== 'string' || typeof e.seq !== 'number'
		|| typeof e.createdAt !== 'string' || typeof (e.room as { id?: unknown } | null)?.id !== 'string') {
		throw new WebhookVerificationError('malformed_body', 'the body lacks event, id, seq, createdAt or room.id');
	}
	return event as WebhookEvent;
}
