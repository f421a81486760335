import { createHmac } from 'node:crypto';
import type { CallOverOutcome } from '../calls';

/** The events a node sends (docs/server-api.md "Webhooks"). */
export const WEBHOOK_EVENTS = [
	'room_started', 'room_finished', 'participant_joined', 'participant_left', 'track_published', 'track_unpublished', 'call_started', 'call_ended',
] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** What an event is about: always a room (a call's is its room), then what the event names. */
export type WebhookSubject = {
	room: { id: string };
	/** `identity`: the token's `sub`; `peerId`: this connection of it. */
	participant?: { identity: string; peerId: string; displayName: string };
	/** `source`: what the client said it is (mic, cam, screen). */
	track?: { id: string; kind: 'audio' | 'video'; source: string };
	call?: { id: string; outcome?: CallOverOutcome };
};

/**
 * One event as its JSON body says it: `id` is unique (a receiver dedupes by
 * it: delivery is at least once), `seq` counts the room's events from 1 (in
 * a fleet across its nodes), `createdAt` is ISO 8601.
 */
export type WebhookEvent = WebhookSubject & { event: WebhookEventName; id: string; seq: number; createdAt: string };

/**
 * The `Switchyard-Signature` header of `body` sent at `t` (unix seconds):
 * `t=T,v1=HEX`, HEX the HMAC-SHA256 of "T.BODY" under `secret`. The receiver
 * recomputes it and refuses a `t` more than 5 minutes away from its clock.
 */
export function signatureHeader(body: string, secret: string, t: number): string {
	return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}
