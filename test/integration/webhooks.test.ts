import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callable, callDevice } from '../helpers/accounts';
import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import { verifyWebhook, WebhookVerificationError } from '../../sdk/src';
import { WebhookReceiver } from '../helpers/webhookReceiver';

// Webhooks (docs/server-api.md "Webhooks"): a node POSTs its rooms' and calls' events, signed, to
// webhooks.urls, one at a time per URL in order, retried until taken, queued in the store.
jest.setTimeout(120_000);

const SECRET = 'the-webhook-secret-of-this-test-0123456789';

async function hookedNode(receiver: WebhookReceiver, overrides: { queueSize?: number; storePath?: string } = {}): Promise<TestNode> {
	return startTestNode({
		media: { workers: 1 },
		rooms: { emptyCloseGraceMs: 0, reconnectGraceMs: 0 },
		webhooks: { urls: [receiver.url], secret: SECRET, retryMaxSeconds: 1, timeoutMs: 2000, ...(overrides.queueSize ? { queueSize: overrides.queueSize } : {}) },
		...(overrides.storePath ? { store: { path: overrides.storePath } } : {}),
	});
}

async function devToken(node: TestNode, roomId: string): Promise<string> {
	const res = await fetch(`${node.url}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Ada', room: roomId }) });
	return (await res.json() as { token: string }).token;
}

/** A participant that joins `roomId`, publishes audio and video, then leaves: the room closes after it. */
async function visit(node: TestNode, roomId: string): Promise<void> {
	const signaling = await SignalingClient.connect(node.url, { token: await devToken(node, roomId) });
	const media = await MediaClient.create(signaling);
	await media.join(roomId, 'Ada');
	await media.produceSynthetic({ audio: true, video: { width: 160, height: 90 }, maxDurationMs: 10_000 });
	await media.close();
	await signaling.request('room.leave', {});
	signaling.disconnect();
	await pollUntil('the room closed', () => ![...node.registry.rooms()].some((room) => room.id === roomId));
}

/** Whether the SDK's check (what a receiver runs) takes the signature: it throws a WebhookVerificationError when not. */
function validSignature(body: string, header: string | undefined, secret: string): boolean {
	try {
		verifyWebhook(body, header, secret);
		return true;
	} catch (error) {
		if (error instanceof WebhookVerificationError) {
			return false;
		}
		throw error;
	}
}

const ROOM_EVENTS = ['room_started', 'participant_joined', 'track_published', 'track_published', 'track_unpublished', 'track_unpublished', 'participant_left', 'room_finished'];

async function metric(node: TestNode, line: string): Promise<number> {
	const text = await (await fetch(`${node.url}/metrics`)).text();
	return Number(text.split('\n').find((l) => l.startsWith(line))?.split(' ').at(-1) ?? NaN);
}

describe('webhooks', () => {
	let receiver: WebhookReceiver;
	let node: TestNode | undefined;
	beforeEach(async () => {
		receiver = await WebhookReceiver.start();
	});
	afterEach(async () => {
		await node?.close();
		node = undefined;
		await receiver.stop();
	});

	test('a room\'s events arrive in seq order, each signed; a tampered body or another secret fails the signature', async () => {
		node = await hookedNode(receiver);
		await visit(node, 'hooked');
		await pollUntil('every event', () => receiver.received.length >= ROOM_EVENTS.length, { timeoutMs: 15_000 });
		const events = receiver.received.map((r) => r.event);
		expect(events.map((e) => e.event)).toEqual(ROOM_EVENTS);
		expect(events.map((e) => e.seq)).toEqual(ROOM_EVENTS.map((_, i) => i + 1));
		expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
		expect(events.every((e) => e.room.id === 'hooked' && !Number.isNaN(Date.parse(e.createdAt)))).toBe(true);
		expect(events[1]).toMatchObject({ participant: { identity: expect.any(String), peerId: expect.any(String), displayName: 'Ada' } });
		expect(events.filter((e) => e.event === 'track_published').map((e) => (e.track as { kind: string }).kind).sort()).toEqual(['audio', 'video']);
		for (const { body, signature } of receiver.received) {
			expect(validSignature(body, signature, SECRET)).toBe(true);
			expect(validSignature(body.replace('"hooked"', '"hacked"'), signature, SECRET)).toBe(false);
			expect(validSignature(body, signature, `${SECRET}x`)).toBe(false);
		}
		expect(await metric(node, 'switchyard_webhook_deliveries_total{result="delivered"}')).toBe(ROOM_EVENTS.length);
	});

	test('a receiver down for 30 s then up gets every event at least once, and once each by id; refusals are retried too', async () => {
		node = await hookedNode(receiver);
		await receiver.stop();
		const downAt = Date.now();
		await visit(node, 'while-down');
		await pollUntil('failed attempts', async () => await metric(node!, 'switchyard_webhook_deliveries_total{result="failed"}') >= 3, { timeoutMs: 20_000 });
		// NOTE: the outage is the point of this test: it lasts 30 s whatever the node does meanwhile.
		await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - downAt))));
		receiver.status = 503;
		await receiver.start();
		await pollUntil('refused attempts', async () => await metric(node!, 'switchyard_webhook_deliveries_total{result="refused"}') >= 1, { timeoutMs: 10_000 });
		receiver.status = 204;
		await pollUntil('every event', () => receiver.unique().length >= ROOM_EVENTS.length, { timeoutMs: 15_000 });
		const unique = receiver.unique();
		expect(unique.map((e) => e.event)).toEqual(ROOM_EVENTS);
		expect(unique.map((e) => e.seq)).toEqual(ROOM_EVENTS.map((_, i) => i + 1));
		expect(receiver.received.every(({ body, signature }) => validSignature(body, signature, SECRET))).toBe(true);
	});

	test('events queued when the node stopped are delivered by its next start (the queue is in the store)', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-hooks-'));
		try {
			const storePath = path.join(dir, 'switchyard.db');
			await receiver.stop();
			node = await hookedNode(receiver, { storePath });
			await visit(node, 'before-restart');
			// A room still open when the node stops: its last events are made by the stop.
			const signaling = await SignalingClient.connect(node.url, { token: await devToken(node, 'open-at-stop') });
			await MediaClient.create(signaling).then((media) => media.join('open-at-stop', 'Bob', { consume: false }));
			await node.close();
			signaling.disconnect();
			node = undefined;
			await receiver.start();
			node = await hookedNode(receiver, { storePath });
			await pollUntil('every event', () => receiver.unique().length >= ROOM_EVENTS.length + 4, { timeoutMs: 15_000 });
			const of = (roomId: string) => receiver.unique().filter((e) => e.room.id === roomId).map((e) => [e.event, e.seq]);
			expect(of('before-restart')).toEqual(ROOM_EVENTS.map((event, i) => [event, i + 1]));
			expect(of('open-at-stop')).toEqual([['room_started', 1], ['participant_joined', 2], ['participant_left', 3], ['room_finished', 4]]);
		} finally {
			await node?.close();
			node = undefined;
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	test('a full queue drops new events and counts them; the queued ones still go', async () => {
		node = await hookedNode(receiver, { queueSize: 3 });
		await receiver.stop();
		await visit(node, 'overflow');
		await pollUntil('drops counted', async () => await metric(node!, 'switchyard_webhook_events_dropped_total{reason="queue_full"}') === ROOM_EVENTS.length - 3);
		await receiver.start();
		await pollUntil('the queued events', () => receiver.unique().length >= 3, { timeoutMs: 15_000 });
		expect(receiver.unique().map((e) => e.event)).toEqual(ROOM_EVENTS.slice(0, 3));
	});

	test('calls: call_started when one rings, call_ended with how it went and no private reason', async () => {
		node = await hookedNode(receiver);
		const clients: SignalingClient[] = [];
		try {
			const [ada, bob] = [await callable(node, 'ada_hooks'), await callable(node, 'bob_hooks')];
			const [adaDevice, bobDevice] = [await callDevice(node, ada, clients), await callDevice(node, bob, clients)];
			const answered = await adaDevice.request('call.invite', { to: [bob.handle], media: 'audio' });
			await bobDevice.waitFor('call.incoming');
			await bobDevice.request('call.accept', { callId: answered.callId, deviceId: bobDevice.deviceId });
			await adaDevice.request('call.hangup', { callId: answered.callId });
			const cancelled = await adaDevice.request('call.invite', { to: [bob.handle], media: 'audio' });
			await adaDevice.request('call.hangup', { callId: cancelled.callId });
			const declined = await adaDevice.request('call.invite', { to: [bob.handle], media: 'audio' });
			await bobDevice.request('call.decline', { callId: declined.callId });
			await pollUntil('six events', () => receiver.received.length >= 6, { timeoutMs: 15_000 });
			const calls = receiver.received.map((r) => r.event).map(({ event, room, call, seq }) => ({ event, room: room.id, call, seq }));
			expect(calls).toEqual([
				{ event: 'call_started', room: `call-${answered.callId}`, call: { id: answered.callId }, seq: 1 },
				{ event: 'call_ended', room: `call-${answered.callId}`, call: { id: answered.callId, outcome: 'answered' }, seq: 2 },
				{ event: 'call_started', room: `call-${cancelled.callId}`, call: { id: cancelled.callId }, seq: 1 },
				{ event: 'call_ended', room: `call-${cancelled.callId}`, call: { id: cancelled.callId, outcome: 'cancelled' }, seq: 2 },
				{ event: 'call_started', room: `call-${declined.callId}`, call: { id: declined.callId }, seq: 1 },
				{ event: 'call_ended', room: `call-${declined.callId}`, call: { id: declined.callId, outcome: 'not_answered' }, seq: 2 },
			]);
		} finally {
			clients.forEach((c) => c.disconnect());
		}
	});
});
