import { verifyWebhook, WebhookVerificationError } from '../../sdk/src';
import { pollUntil } from '../helpers/poll';
import { WebhookReceiver } from '../helpers/webhookReceiver';
import { hook, openRoom, receivesFrom, type Participant } from './browser';
import { browserSuite } from './suite';

const SECRET = 'the-browser-suite-webhook-secret-0123456789';

// Webhooks of a call between real browsers (docs/server-api.md "Webhooks"): a receiver on loopback gets
// the room's events in seq order, each signed; the SDK's verifyWebhook, as a platform's backend runs it,
// takes every one and refuses each with its body tampered with.
describe('webhooks of a browser call', () => {
	const receiver = new WebhookReceiver();
	// NOTE: before the suite's own beforeAll, which reads the URL as it starts the node.
	beforeAll(() => receiver.start());
	afterAll(() => receiver.stop());
	const suite = browserSuite({
		media: { workers: 1 },
		rooms: { reconnectGraceMs: 0, emptyCloseGraceMs: 0 },
		webhooks: { get urls() {
			return [receiver.url];
		}, secret: SECRET, retryMaxSeconds: 1 },
	});
	const { open, reported } = suite;

	async function join(room: string, name: string): Promise<Participant> {
		const p = await openRoom(suite.browser, suite.node.url, room, name, { size: { w: 160, h: 120 } });
		open.push(p);
		return p;
	}

	test('a receiver gets the events of a browser call in seq order with valid signatures; a tampered body fails', reported(async () => {
		const ada = await join('hooked-call', 'Ada');
		const eve = await join('hooked-call', 'Eve');
		await receivesFrom(ada, [(await hook(eve)).peerId]);
		await receivesFrom(eve, [(await hook(ada)).peerId]);
		for (const p of open.splice(0)) {
			await p.context.close();
		}
		await pollUntil('room_finished', () => receiver.received.some((r) => r.event.event === 'room_finished'), { timeoutMs: 20_000 });

		const events = receiver.received.map((r) => r.event).filter((e) => e.room.id === 'hooked-call');
		expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
		expect(events[0]!.event).toBe('room_started');
		expect(events.at(-1)!.event).toBe('room_finished');
		const count = (name: string) => events.filter((e) => e.event === name).length;
		expect([count('participant_joined'), count('participant_left')]).toEqual([2, 2]);
		expect(count('track_published')).toBeGreaterThanOrEqual(4);
		expect(count('track_unpublished')).toBe(count('track_published'));
		expect(events.filter((e) => e.event === 'participant_joined').map((e) => (e.participant as { displayName: string }).displayName).sort()).toEqual(['Ada', 'Eve']);
		for (const { body, signature } of receiver.received) {
			expect(verifyWebhook(body, signature, SECRET)).toEqual(JSON.parse(body));
			expect(() => verifyWebhook(body.replace('hooked-call', 'hooked-cell'), signature, SECRET)).toThrow(WebhookVerificationError);
		}
	}), 90_000);
});
