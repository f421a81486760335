import { canRing } from '../../src/calls';
import type { UserSettings } from '../../src/store';
import { api, device, signup, type TestAccount } from '../helpers/accounts';
import { FakeClock } from '../helpers/fakeClock';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import type { SignalingClient } from '../helpers/signalingClient';

type Relation = 'stranger' | 'contact' | 'followed' | 'verified' | 'calleeBlocked' | 'callerBlocked';

const SETTINGS: Record<string, Partial<UserSettings['calls']> & { enabled: boolean }> = {
	default: { enabled: true },
	everyone: { enabled: true, allowFrom: { contacts: false, following: false, verified: false, everyone: true } },
	verifiedOnly: { enabled: true, allowFrom: { contacts: false, following: false, verified: true, everyone: false } },
	contactsOnly: { enabled: true, allowFrom: { contacts: true, following: false, verified: false, everyone: false } },
	followingOnly: { enabled: true, allowFrom: { contacts: false, following: true, verified: false, everyone: false } },
	nobody: { enabled: true, allowFrom: { contacts: false, following: false, verified: false, everyone: false } },
	callsOff: { enabled: false, allowFrom: { contacts: true, following: true, verified: true, everyone: true } },
};
const RELATIONS: Relation[] = ['stranger', 'contact', 'followed', 'verified', 'calleeBlocked', 'callerBlocked'];
const PERIODIC = new Set(['consumer.score', 'producer.score', 'room.activeSpeaker']);
const RING_MS = 1000;

describe('calls between accounts over HTTP, socket.io and SQLite', () => {
	let node: TestNode;
	// NOTE: the calls' clock: a ring times out when a test moves it on, not after a real wait.
	const clock = new FakeClock();
	const clients: SignalingClient[] = [];
	let counter = 0;
	const ADMIN = 'admin-token-for-tests-0123456789abcdef';

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			auth: { adminToken: ADMIN },
			accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000, searchesPerMinute: 10_000 },
			calls: { ringTimeoutSeconds: RING_MS / 1000, invitesPerMinute: 1000, unansweredPerDay: 1000 },
		}, { clock });
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	async function account(prefix: string): Promise<TestAccount> {
		return signup(node, `${prefix}_${++counter}`);
	}

	/** Sets up callee settings and the relation between the two; returns what canRing says. */
	async function arrange(caller: TestAccount, callee: TestAccount, settingsName: string, relation: Relation): Promise<boolean> {
		const calls = SETTINGS[settingsName]!;
		const current = (await api(node, callee.token, 'GET', '/api/me/settings')).body as UserSettings;
		const patch = { calls: { enabled: calls.enabled, ...(calls.allowFrom ? { allowFrom: calls.allowFrom } : {}) } };
		expect((await api(node, callee.token, 'PATCH', '/api/me/settings', patch)).status).toBe(200);
		if (relation === 'contact') {
			await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
		} else if (relation === 'followed') {
			await api(node, callee.token, 'PUT', `/api/me/follows/${caller.handle}`);
		} else if (relation === 'verified') {
			await api(node, ADMIN, 'PUT', `/api/admin/users/${caller.handle}`, { verified: true });
		} else if (relation === 'calleeBlocked') {
			await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
			await api(node, callee.token, 'PUT', `/api/me/blocks/${caller.handle}`);
		} else if (relation === 'callerBlocked') {
			await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
			await api(node, caller.token, 'PUT', `/api/me/blocks/${callee.handle}`);
		}
		const settings: UserSettings = { ...current, calls: { ...current.calls, enabled: calls.enabled, allowFrom: calls.allowFrom ?? current.calls.allowFrom } };
		const relations = await node.store.relationsBetween(caller.id, callee.id);
		const verified = relation === 'verified';
		return canRing({ id: caller.id, verified }, { id: callee.id }, relations, settings).allowed;
	}

	const table = Object.keys(SETTINGS).flatMap((settings) => RELATIONS.map((relation) => [settings, relation] as const));

	test(`every setting x relation (${table.length} cases) rings exactly as canRing says; every denial looks the same`, async () => {
		const denied: { label: string; caller: SignalingClient; callee: SignalingClient; account: TestAccount }[] = [];
		let rang = 0;
		for (const [settingsName, relation] of table) {
			const label = `settings ${settingsName}, relation ${relation}`;
			const caller = await account('caller');
			const callee = await account('callee');
			const expected = await arrange(caller, callee, settingsName, relation);
			// The verified flag is in the caller's next token.
			const fresh = relation === 'verified' ? (await api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken: caller.refreshToken })).body.token : caller.token;
			const callerDevice = await device(node, { ...caller, token: fresh }, clients);
			const calleeDevice = await device(node, callee, clients);
			const reply = await callerDevice.requestRaw('call.invite', { to: [callee.handle], media: 'audio' });
			if (expected) {
				expect([label, reply]).toMatchObject([label, { ok: true, data: { invited: { [callee.handle]: 'ringing' } } }]);
				await calleeDevice.waitFor('call.incoming');
				rang++;
			} else {
				// One reply for every reason...
				expect([label, reply]).toEqual([label, { ok: false, error: { code: 'unavailable', message: 'unavailable' } }]);
				denied.push({ label, caller: callerDevice, callee: calleeDevice, account: callee });
			}
		}
		expect(rang).toBeGreaterThan(5);
		expect(denied.length).toBeGreaterThan(5);
		// ...and nothing afterwards on either side, past the ring timeout; no row for the callee.
		await clock.advance(RING_MS);
		for (const { label, caller, callee, account: calleeAccount } of denied) {
			// A round trip on each connection: whatever the node sent it before has arrived.
			await Promise.all([caller, callee].map((c) => c.request('media.capabilities', {})));
			expect([label, callee.events.filter((e) => !PERIODIC.has(e.name))]).toEqual([label, []]);
			expect([label, caller.events.filter((e) => !PERIODIC.has(e.name))]).toEqual([label, []]);
			expect([label, (await api(node, calleeAccount.token, 'GET', '/api/me/calls')).body.calls]).toEqual([label, []]);
		}
	}, 60_000);

	test('an unknown handle and an offline callee are unavailable through the same reply', async () => {
		const caller = await account('caller');
		const offline = await account('offline');
		await arrange(caller, offline, 'everyone', 'stranger');
		const callerDevice = await device(node, caller, clients);
		const unknown = await callerDevice.requestRaw('call.invite', { to: ['nobody_here_zz'], media: 'video' });
		const away = await callerDevice.requestRaw('call.invite', { to: [offline.handle], media: 'video' });
		expect(unknown).toEqual(away);
		expect(away).toEqual({ ok: false, error: { code: 'unavailable', message: 'unavailable' } });
	});

	test('every device of the callee rings; answering on one tells the other; both sides get the room', async () => {
		const caller = await account('caller');
		const callee = await account('callee');
		await arrange(caller, callee, 'default', 'contact');
		const callerDevice = await device(node, caller, clients);
		const phone = await device(node, callee, clients);
		const laptop = await device(node, callee, clients);

		const { callId, invited } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'video' });
		expect(invited).toEqual({ [callee.handle]: 'ringing' });
		for (const d of [phone, laptop]) {
			expect(await d.waitFor('call.incoming')).toEqual({
				callId, from: { handle: caller.handle, displayName: caller.handle, verified: false }, media: 'video', waiting: false, e2ee: true,
			});
		}
		await callerDevice.waitFor('call.ringing');

		const accepted = await phone.request('call.accept', { callId });
		expect(await laptop.waitFor('call.answeredElsewhere')).toEqual({ callId });
		const toCaller = await callerDevice.waitFor('call.accepted');
		expect(toCaller.roomId).toBe(accepted.roomId);
		expect((await node.tokens.verify(accepted.token)).rooms).toEqual([accepted.roomId]);
		expect((await node.tokens.verify(toCaller.token)).rooms).toEqual([accepted.roomId]);

		// The other device can no longer answer.
		expect(await laptop.requestRaw('call.accept', { callId })).toMatchObject({ ok: false, error: { code: 'invalid_state' } });

		// Room tokens expire, calls need not: each party can get a fresh one while in the call.
		for (const d of [callerDevice, laptop]) {
			const renewed = await d.request('call.token', { callId });
			expect(renewed.roomId).toBe(accepted.roomId);
			expect((await node.tokens.verify(renewed.token)).rooms).toEqual([accepted.roomId]);
		}

		await callerDevice.request('call.hangup', { callId });
		await phone.waitFor('call.ended');
		await pollUntil('history written', async () => (await api(node, callee.token, 'GET', '/api/me/calls')).body.calls.length === 1);
		const calleeHistory = (await api(node, callee.token, 'GET', '/api/me/calls')).body.calls;
		expect(calleeHistory[0]).toMatchObject({ callId, other: { handle: caller.handle }, direction: 'incoming', media: 'video', outcome: 'answered' });
		const callerHistory = (await api(node, caller.token, 'GET', '/api/me/calls')).body.calls;
		expect(callerHistory[0]).toMatchObject({ callId, other: { handle: callee.handle }, direction: 'outgoing', outcome: 'answered' });
	});

	test('timeout, cancel, decline and unavailable leave exactly these history rows', async () => {
		const caller = await account('caller');
		const [timeout, cancel, decline, denied] = await Promise.all(['timeout', 'cancel', 'decline', 'denied'].map((p) => account(p))) as [TestAccount, TestAccount, TestAccount, TestAccount];
		for (const callee of [timeout, cancel, decline]) {
			await arrange(caller, callee, 'default', 'contact');
		}
		const callerDevice = await device(node, caller, clients);
		const devices = await Promise.all([timeout, cancel, decline, denied].map((a) => device(node, a, clients)));

		const t = await callerDevice.request('call.invite', { to: [timeout.handle], media: 'audio' });
		await devices[0]!.waitFor('call.incoming');
		await clock.advance(RING_MS);
		await devices[0]!.waitFor('call.missed');
		await callerDevice.waitFor('call.noAnswer', (e) => e.callId === t.callId);

		const c = await callerDevice.request('call.invite', { to: [cancel.handle], media: 'audio' });
		await devices[1]!.waitFor('call.incoming');
		await callerDevice.request('call.cancel', { callId: c.callId });
		await devices[1]!.waitFor('call.cancelled');

		const d = await callerDevice.request('call.invite', { to: [decline.handle], media: 'video' });
		await devices[2]!.waitFor('call.incoming');
		await devices[2]!.request('call.decline', { callId: d.callId });
		await callerDevice.waitFor('call.declined', (e) => e.callId === d.callId);

		await expect(callerDevice.request('call.invite', { to: [denied.handle], media: 'audio' })).rejects.toMatchObject({ code: 'unavailable' });

		const history = async (a: TestAccount) => (await api(node, a.token, 'GET', '/api/me/calls')).body.calls as { other: { handle: string }; direction: string; outcome: string }[];
		await pollUntil('caller history', async () => (await history(caller)).length === 4);
		const rows = (await history(caller)).map((r) => [r.other.handle, r.direction, r.outcome]).sort();
		expect(rows).toEqual([
			[cancel.handle, 'outgoing', 'cancelled'],
			[decline.handle, 'outgoing', 'declined'],
			[denied.handle, 'outgoing', 'unavailable'],
			[timeout.handle, 'outgoing', 'no_answer'],
		].sort());
		expect((await history(timeout)).map((r) => [r.direction, r.outcome])).toEqual([['incoming', 'missed']]);
		expect((await history(cancel)).map((r) => [r.direction, r.outcome])).toEqual([['incoming', 'missed']]);
		expect((await history(decline)).map((r) => [r.direction, r.outcome])).toEqual([['incoming', 'declined']]);
		expect(await history(denied)).toEqual([]);
	});

	test('a block made while an invite rings stops it on the callee side; the caller just sees no answer', async () => {
		const caller = await account('caller');
		const callee = await account('callee');
		await arrange(caller, callee, 'default', 'contact');
		const callerDevice = await device(node, caller, clients);
		const calleeDevice = await device(node, callee, clients);
		const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
		await calleeDevice.waitFor('call.incoming');
		await api(node, callee.token, 'PUT', `/api/me/blocks/${caller.handle}`);
		await calleeDevice.waitFor('call.cancelled');
		await clock.advance(RING_MS);
		expect(await callerDevice.waitFor('call.noAnswer')).toEqual({ callId, handle: callee.handle });
		// NOTE: call.ended follows once the call's history is written, a moment later on PostgreSQL.
		await callerDevice.waitFor('call.ended');
		expect(callerDevice.events.map((e) => e.name).filter((n) => !PERIODIC.has(n))).toEqual(['call.ringing', 'call.noAnswer', 'call.ended']);
	});

	test('call waiting: a callee in a call is rung with waiting set; accepting ends the other call', async () => {
		const [a, b, c] = await Promise.all(['alpha', 'bravo', 'charlie'].map((p) => account(p))) as [TestAccount, TestAccount, TestAccount];
		await arrange(a, b, 'everyone', 'stranger');
		const [da, db, dc] = await Promise.all([a, b, c].map((x) => device(node, x, clients))) as [SignalingClient, SignalingClient, SignalingClient];
		const first = await da.request('call.invite', { to: [b.handle], media: 'audio' });
		await db.waitFor('call.incoming');
		await db.request('call.accept', { callId: first.callId });
		const second = await dc.request('call.invite', { to: [b.handle], media: 'audio' });
		expect(await db.waitFor('call.incoming', (e) => e.callId === second.callId)).toMatchObject({ waiting: true });
		await db.request('call.accept', { callId: second.callId });
		await da.waitFor('call.ended', (e) => e.callId === first.callId);
	});

	test('bad input on every call request gets an error ack and changes nothing', async () => {
		const caller = await account('caller');
		const callee = await account('callee');
		const mallory = await account('mallory');
		await arrange(caller, callee, 'default', 'contact');
		const callerDevice = await device(node, caller, clients);
		const calleeDevice = await device(node, callee, clients);
		const malloryDevice = await device(node, mallory, clients);
		const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
		await calleeDevice.waitFor('call.incoming');

		for (const payload of [null, 42, 'x', {}, { to: 'bob' }, { to: [] }, { to: ['x'.repeat(100)], media: 'audio' }, { to: ['ok_handle'], media: 'smell' }, { callId: 7 }]) {
			expect(await malloryDevice.requestRaw('call.invite', payload)).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		}
		for (const name of ['call.accept', 'call.decline', 'call.cancel', 'call.hangup', 'call.token']) {
			expect(await malloryDevice.requestRaw(name, { callId: 'no-such-call' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
			// Someone else's call: not addressed to mallory, not mallory's to cancel or hang up.
			expect(await malloryDevice.requestRaw(name, { callId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
			expect(await malloryDevice.requestRaw(name, { callId, extra: true })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		}
		// The caller cannot answer its own call; the callee cannot cancel it.
		expect(await callerDevice.requestRaw('call.accept', { callId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
		expect(await calleeDevice.requestRaw('call.cancel', { callId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
		// Still ringing, and still answerable.
		await expect(calleeDevice.request('call.accept', { callId })).resolves.toMatchObject({ callId });

		// A room token (the account's sub, no login session) cannot act on the account's calls.
		const roomToken = await node.tokens.issue({ sub: callee.id, handle: callee.handle, rooms: ['x'] });
		const roomDevice = await device(node, { ...callee, token: roomToken }, clients);
		for (const name of ['call.decline', 'call.cancel', 'call.hangup', 'call.token']) {
			expect(await roomDevice.requestRaw(name, { callId })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
		}
		// Tokens without an account cannot place calls.
		const guest = await device(node, { ...caller, token: await node.tokens.issue({ sub: 'guest', rooms: ['*'] }) }, clients);
		expect(await guest.requestRaw('call.invite', { to: [callee.handle], media: 'audio' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
	});
});

describe('call limits and policy', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	afterEach(async () => {
		clients.splice(0).forEach((c) => c.disconnect());
		await node.close();
	});

	test('invites per minute trip rate_limited, then a cool-down refuses even a fresh callee', async () => {
		node = await startTestNode({ media: { workers: 1 }, calls: { invitesPerMinute: 3, unansweredPerDay: 100, coolDownSeconds: 60 } });
		const caller = await signup(node, 'spammer');
		const targets = await Promise.all([1, 2, 3, 4].map((i) => signup(node, `target_${i}`)));
		const callerDevice = await device(node, caller, clients);
		for (const target of targets.slice(0, 3)) {
			expect(await callerDevice.requestRaw('call.invite', { to: [target.handle], media: 'audio' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
		}
		expect(await callerDevice.requestRaw('call.invite', { to: [targets[3]!.handle], media: 'audio' })).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
	});

	test('distinct unanswered callees in a day trip rate_limited', async () => {
		node = await startTestNode({ media: { workers: 1 }, calls: { invitesPerMinute: 100, unansweredPerDay: 2, coolDownSeconds: 60 } });
		const caller = await signup(node, 'cold_caller');
		const callerDevice = await device(node, caller, clients);
		for (const handle of ['nobody_1', 'nobody_2']) {
			expect(await callerDevice.requestRaw('call.invite', { to: [handle], media: 'audio' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
		}
		expect(await callerDevice.requestRaw('call.invite', { to: ['nobody_3'], media: 'audio' })).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
	});

	test('placeRequiresPremium: only premium accounts place calls; everyone may answer', async () => {
		const ADMIN = 'admin-token-for-tests-0123456789abcdef';
		node = await startTestNode({ media: { workers: 1 }, auth: { adminToken: ADMIN }, calls: { placeRequiresPremium: true } });
		const basic = await signup(node, 'basic_user');
		const premium = await signup(node, 'premium_user');
		await api(node, ADMIN, 'PUT', `/api/admin/users/${premium.handle}`, { premium: true });
		await api(node, basic.token, 'PATCH', '/api/me/settings', { calls: { allowFrom: { everyone: true } } });
		await api(node, premium.token, 'PATCH', '/api/me/settings', { calls: { allowFrom: { everyone: true } } });
		const premiumToken = (await api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken: premium.refreshToken })).body.token;
		const basicDevice = await device(node, basic, clients);
		const premiumDevice = await device(node, { ...premium, token: premiumToken }, clients);
		expect(await basicDevice.requestRaw('call.invite', { to: [premium.handle], media: 'audio' })).toMatchObject({ ok: false, error: { code: 'premium_required' } });
		const { callId } = await premiumDevice.request('call.invite', { to: [basic.handle], media: 'audio' });
		await basicDevice.waitFor('call.incoming');
		await expect(basicDevice.request('call.accept', { callId })).resolves.toMatchObject({ callId });
	});
});
