import { api, device, signup, type TestAccount } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import type { SignalingClient } from '../helpers/signalingClient';

const PERIODIC = new Set(['consumer.score', 'producer.score', 'room.activeSpeaker']);
/** Long enough for anything an invite sends its caller afterwards to have come. */
const SETTLE_MS = 300;

type History = { callId: string; other: { handle: string; displayName: string }; direction: string; media: string; outcome: string; startedAt: string; durationSeconds: number }[];

// calls.silenceOthers (docs/http-api.md): an invite that allowFrom does not
// allow does not ring but lands in the callee's history as `silenced`, with
// call.silenced to its devices. The caller cannot tell it from any other
// denial: a block, calls off, a callee offline, or one who refuses.
describe('silenced callers', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	let counter = 0;

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000 },
			calls: { invitesPerMinute: 1000, unansweredPerDay: 1000 },
		});
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	const account = (prefix: string): Promise<TestAccount> => signup(node, `${prefix}_${++counter}`);
	const history = async (who: TestAccount): Promise<History> => (await api(node, who.token, 'GET', '/api/me/calls')).body.calls;
	const settings = async (who: TestAccount, calls: Record<string, unknown>) =>
		expect((await api(node, who.token, 'PATCH', '/api/me/settings', { calls })).status).toBe(200);
	/** The events a client got, the periodic ones aside, as names. */
	const names = (client: SignalingClient) => client.events.map((e) => e.name as string).filter((n) => !PERIODIC.has(n));

	/** A callee who silences others: contacts may ring. */
	async function silencingCallee(): Promise<{ callee: TestAccount; calleeDevice: SignalingClient }> {
		const callee = await account('callee');
		await settings(callee, { allowFrom: { contacts: true, following: false, verified: false, everyone: false }, silenceOthers: true });
		return { callee, calleeDevice: await device(node, callee, clients) };
	}

	/** A new caller's invite to `to`: its reply, then what its device heard and its history said, with the call-specific fields out. */
	async function deniedInvite(to: string, arrange: (caller: TestAccount) => Promise<void> = async () => undefined) {
		const caller = await account('caller');
		await arrange(caller);
		const callerDevice = await device(node, caller, clients);
		const reply = await callerDevice.requestRaw('call.invite', { to: [to], media: 'audio' });
		await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
		const rows = (await history(caller)).map(({ callId, startedAt, other, ...row }) => ({ ...row, callId: typeof callId, startedAt: typeof startedAt, other: other.handle === to }));
		return { caller, seen: { reply, events: names(callerDevice), rows } };
	}

	test('the allowed caller rings; the others do not; the one allowFrom does not let ring is silenced, the blocked one appears nowhere; the callers see the same for every denial', async () => {
		const { callee, calleeDevice } = await silencingCallee();
		const friend = await account('friend');
		await api(node, callee.token, 'PUT', `/api/me/contacts/${friend.handle}`);
		const friendDevice = await device(node, friend, clients);
		const rung = await friendDevice.request('call.invite', { to: [callee.handle], media: 'video' });
		expect(rung.invited).toEqual({ [callee.handle]: 'ringing' });
		await calleeDevice.waitFor('call.incoming', (e) => e.callId === rung.callId);
		await friendDevice.request('call.cancel', { callId: rung.callId });
		await calleeDevice.waitFor('call.cancelled', (e) => e.callId === rung.callId);
		const before = names(calleeDevice).length;

		// Each denial, from a caller of its own: silenced, blocked, calls off, offline, refused.
		const silenced = await deniedInvite(callee.handle);
		const blocked = await deniedInvite(callee.handle, async (caller) => {
			expect((await api(node, callee.token, 'PUT', `/api/me/blocks/${caller.handle}`)).status).toBe(204);
		});
		const callsOff = await account('off');
		await settings(callsOff, { enabled: false, silenceOthers: true });
		await device(node, callsOff, clients);
		const off = await deniedInvite(callsOff.handle);
		const away = await account('away');
		await settings(away, { silenceOthers: false, allowFrom: { everyone: true } });
		const offline = await deniedInvite(away.handle);
		const refuser = await account('refuser');
		await device(node, refuser, clients);
		const refused = await deniedInvite(refuser.handle);

		const cases = { silenced, blocked, off, offline, refused };
		const [first] = Object.values(cases);
		expect(first!.seen.reply).toMatchObject({ ok: false, error: { code: 'unavailable' } });
		expect(first!.seen.rows).toEqual([{ other: true, direction: 'outgoing', media: 'audio', outcome: 'unavailable', durationSeconds: 0, callId: 'string', startedAt: 'string' }]);
		for (const [name, { seen }] of Object.entries(cases)) {
			expect([name, seen.reply]).toEqual([name, first!.seen.reply]);
			expect([name, seen.events]).toEqual([name, first!.seen.events]);
			expect([name, seen.rows]).toEqual([name, first!.seen.rows]);
		}

		// The callee: nothing rang; the silenced call is listed, to call back; the blocked one nowhere.
		const event = await calleeDevice.waitFor('call.silenced');
		expect(event).toEqual({ callId: expect.any(String), from: { handle: silenced.caller.handle, displayName: silenced.caller.handle, verified: false }, media: 'audio' });
		expect(names(calleeDevice).slice(before)).toEqual(['call.silenced']);
		const rows = await history(callee);
		expect(rows.map((r) => [r.other.handle, r.direction, r.outcome])).toEqual([
			[silenced.caller.handle, 'incoming', 'silenced'],
			[friend.handle, 'incoming', 'missed'],
		]);
		expect(rows[0]!.callId).toBe(event.callId);
		expect(JSON.stringify(rows)).not.toContain(blocked.caller.handle);
		// Calls off: no silenced row either.
		expect(await history(callsOff)).toEqual([]);
	});

	test('a settings change or a block while an invite rings: ringing stops, and the history says what the new settings say', async () => {
		const { callee, calleeDevice } = await silencingCallee();
		const [ada, bob] = [await account('ada'), await account('bob')];
		// Ada may ring as a contact; Bob as someone the callee follows.
		await settings(callee, { allowFrom: { contacts: true, following: true } });
		await api(node, callee.token, 'PUT', `/api/me/contacts/${ada.handle}`);
		await api(node, callee.token, 'PUT', `/api/me/follows/${bob.handle}`);
		const [adaDevice, bobDevice] = [await device(node, ada, clients), await device(node, bob, clients)];
		const adaCall = await adaDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
		const bobCall = await bobDevice.request('call.invite', { to: [callee.handle], media: 'video' });
		for (const { callId } of [adaCall, bobCall]) {
			await calleeDevice.waitFor('call.incoming', (e) => e.callId === callId);
		}

		// Contacts may ring no more: Ada's call is silenced, as a new one from her would be. Bob is blocked: gone.
		await settings(callee, { allowFrom: { contacts: false } });
		expect(await calleeDevice.waitFor('call.silenced', (e) => e.callId === adaCall.callId)).toMatchObject({ from: { handle: ada.handle }, media: 'audio' });
		expect(await calleeDevice.waitFor('call.cancelled', (e) => e.callId === adaCall.callId)).toEqual({ callId: adaCall.callId });
		expect((await api(node, callee.token, 'PUT', `/api/me/blocks/${bob.handle}`)).status).toBe(204);
		await calleeDevice.waitFor('call.cancelled', (e) => e.callId === bobCall.callId);
		// The callers hear nothing of it: their calls ring on, until they give up.
		await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
		for (const [d, { callId }] of [[adaDevice, adaCall], [bobDevice, bobCall]] as const) {
			expect(names(d).filter((n) => n !== 'call.ringing')).toEqual([]);
			await d.request('call.cancel', { callId });
		}
		await pollUntil('the callers\' rows', async () => (await history(ada)).length === 1 && (await history(bob)).length === 1);
		expect((await history(ada))[0]).toMatchObject({ outcome: 'cancelled' });
		const rows = await history(callee);
		expect(rows.map((r) => [r.other.handle, r.outcome])).toEqual([[ada.handle, 'silenced']]);
	});
});
