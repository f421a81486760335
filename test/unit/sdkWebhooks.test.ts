import { createHmac } from 'node:crypto';
import { WebhookVerificationError, signWebhook, verifyWebhook, type WebhookEvent, type WebhookVerificationReason } from '../../sdk/src';

const SECRET = 'the-webhook-secret-0123456789abcdef';
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const T = Math.floor(NOW / 1000);
// NOTE: the shape the server sends (src/webhooks/events.ts); `satisfies` holds the SDK's type to it.
const event = {
	event: 'track_published', id: 'evt-1', seq: 7, createdAt: new Date(NOW).toISOString(), room: { id: 'standup' },
	participant: { identity: 'user-42', peerId: 'peer-1', displayName: 'Ada' }, track: { id: 'p-1', kind: 'audio', source: 'mic' },
} satisfies WebhookEvent;
const body = JSON.stringify(event);

/** The reason verifyWebhook refuses with, or 'accepted'. */
function outcome(...args: Parameters<typeof verifyWebhook>): WebhookVerificationReason | 'accepted' {
	try {
		verifyWebhook(...args);
		return 'accepted';
	} catch (error) {
		if (!(error instanceof WebhookVerificationError)) {
			throw error;
		}
		return error.reason;
	}
}

// The webhook contract of issue 27 (sdk/README.md): `Switchyard-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">`
// under webhooks.secret, checked within 5 minutes.
describe('the SDK\'s webhook verification', () => {
	test('a body signed under the secret within the window gives its event, from a string or a Buffer', () => {
		const header = signWebhook(body, SECRET, T);
		// The signature is the HMAC of "t.body", as a receiver in another language computes it.
		expect(header).toBe(`t=${T},v1=${createHmac('sha256', SECRET).update(`${T}.${body}`).digest('hex')}`);
		expect(verifyWebhook(body, header, SECRET, { now: NOW })).toEqual(event);
		expect(verifyWebhook(Buffer.from(body), signWebhook(Buffer.from(body), SECRET, T), SECRET, { now: NOW })).toEqual(event);
		// Spaces around the entries and entries of a later scheme are passed over.
		expect(outcome(body, ` t=${T} , v2=abc, ${header.split(',')[1]} `, SECRET, { now: NOW })).toBe('accepted');
	});

	test('a tampered body, another secret or a wrong t is a bad signature', () => {
		const header = signWebhook(body, SECRET, T);
		expect(outcome(body.replace('user-42', 'user-43'), header, SECRET, { now: NOW })).toBe('bad_signature');
		expect(outcome(body, header, `${SECRET}x`, { now: NOW })).toBe('bad_signature');
		expect(outcome(body, header.replace(`t=${T}`, `t=${T + 1}`), SECRET, { now: NOW })).toBe('bad_signature');
		// One hex digit of the signature changed.
		const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
		expect(outcome(body, flipped, SECRET, { now: NOW })).toBe('bad_signature');
	});

	test('outside the window it is too old or too new: 300 s by default, or as asked', () => {
		const at = (seconds: number, tolerance?: number) =>
			outcome(body, signWebhook(body, SECRET, T + seconds), SECRET, { now: NOW, ...(tolerance ? { toleranceSeconds: tolerance } : {}) });
		expect([at(-300), at(300), at(-301), at(301)]).toEqual(['accepted', 'accepted', 'timestamp_too_old', 'timestamp_too_new']);
		expect([at(-60, 30), at(60, 30), at(-20, 30)]).toEqual(['timestamp_too_old', 'timestamp_too_new', 'accepted']);
		// Without `now`, the clock's time.
		expect(outcome(body, signWebhook(body, SECRET), SECRET)).toBe('accepted');
		expect(outcome(body, signWebhook(body, SECRET, Math.floor(Date.now() / 1000) - 400), SECRET)).toBe('timestamp_too_old');
	});

	test('a missing or malformed header is refused as such', () => {
		const v1 = signWebhook(body, SECRET, T).split(',')[1]!;
		expect(outcome(body, undefined, SECRET, { now: NOW })).toBe('missing_header');
		expect(outcome(body, '', SECRET, { now: NOW })).toBe('missing_header');
		for (const header of ['garbage', `t=${T}`, v1, `t=abc,${v1}`, `t=${T},t=${T},${v1}`, `t=${T},v1=xyz`, `t=${T},v1=${'a'.repeat(63)}`, `t=-5,${v1}`]) {
			expect([header, outcome(body, header, SECRET, { now: NOW })]).toEqual([header, 'malformed_header']);
		}
	});

	test('several v1 signatures (a secret being rotated): any one that matches will do', () => {
		const ours = signWebhook(body, SECRET, T).split(',')[1]!;
		const theirs = signWebhook(body, 'the-old-webhook-secret-0123456789', T).split(',')[1]!;
		expect(outcome(body, `t=${T},${theirs},${ours}`, SECRET, { now: NOW })).toBe('accepted');
		expect(outcome(body, `t=${T},${ours},${theirs}`, SECRET, { now: NOW })).toBe('accepted');
		expect(outcome(body, `t=${T},${theirs},${theirs}`, SECRET, { now: NOW })).toBe('bad_signature');
	});

	test('a signed body that is not an event is refused as malformed', () => {
		for (const bad of ['not json', 'null', '[]', JSON.stringify({ ...event, seq: '7' }), JSON.stringify({ ...event, room: undefined })]) {
			expect([bad, outcome(bad, signWebhook(bad, SECRET, T), SECRET, { now: NOW })]).toEqual([bad, 'malformed_body']);
		}
	});
});
