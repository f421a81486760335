import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../test/helpers/fakeClock';
import { testConfig } from '../../test/helpers/config';
import { testLogger } from '../../test/helpers/logger';
import { TokenService, type Claims } from '../auth';
import type { CallsConfig } from '../config';
import { SqliteStore, type User } from '../store';
import { CallService } from './CallService';
import type { CallServiceAccessEvents, InviteOutcome } from './events';
import type { CallNotificationName, CallNotifications } from './notifications';
import { LocalPresence, type Device } from './Presence';

type Notification = { [N in CallNotificationName]: { name: N; data: CallNotifications[N] } }[CallNotificationName];

/** A device that keeps what it was told. */
type FakeDevice = Device & { readonly seen: Notification[]; names(): CallNotificationName[] };

const RING_MS = 30_000;

describe('CallService with a fake clock', () => {
	let dir: string;
	let store: SqliteStore;
	let tokens: TokenService;
	let clock: FakeClock;
	let presence: LocalPresence;
	let calls!: CallService;
	let logLines: () => Record<string, unknown>[];
	let outcomes: InviteOutcome[];
	let started: string[];
	let ended: string[];
	let removed: CallServiceAccessEvents['partyRemoved'][0][];

	function start(config: Partial<CallsConfig> = {}): void {
		if (calls) {
			calls.close();
		}
		const { logger, lines } = testLogger('debug');
		logLines = lines;
		presence = new LocalPresence();
		calls = new CallService({ store, presence, tokens, config: testConfig({ calls: { ringTimeoutSeconds: RING_MS / 1000, ...config } }).calls, logger, clock });
		outcomes = [];
		started = [];
		ended = [];
		removed = [];
		calls.observer.on('outcome', (outcome) => outcomes.push(outcome));
		calls.observer.on('callStarted', (callId) => started.push(callId));
		calls.observer.on('callEnded', (callId) => ended.push(callId));
		calls.events.on('partyRemoved', (removal) => removed.push(removal));
	}

	beforeAll(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-calls-'));
		store = SqliteStore.open(path.join(dir, 'calls.db'));
		tokens = await TokenService.create(testConfig().auth, { dev: true });
	});
	beforeEach(() => {
		clock = new FakeClock(Date.UTC(2030, 0, 1));
		start();
	});
	afterEach(() => calls.close());
	afterAll(async () => {
		await store.close();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	let counter = 0;
	/** An account with a login session; `callers` may ring it (it has them as contacts). */
	async function account(prefix: string, callers: User[] = []): Promise<{ user: User; claims: Claims }> {
		const user = await store.createUser({ handle: `${prefix}_${++counter}`, displayName: `${prefix} ${counter}`, passwordHash: 'x' });
		for (const caller of callers) {
			await store.setRelation('contact', user.id, caller.handle, true);
		}
		return { user, claims: { sub: user.id, handle: user.handle, sid: randomUUID(), verified: false, premium: false, loadtest: false, exp: 0 } };
	}

	function device(user: User): FakeDevice {
		const seen: Notification[] = [];
		const d: FakeDevice = {
			id: randomUUID(),
			seen,
			notify: (name, data) => seen.push({ name, data } as Notification),
			names: () => seen.map((n) => n.name),
		};
		presence.add(user.id, d);
		return d;
	}

	/** A caller and `n` callees, each online on two devices, and an invite to all of them. */
	async function ringing(n = 1) {
		const caller = await account('caller');
		const callerDevice = device(caller.user);
		const callees = [];
		for (let i = 0; i < n; i++) {
			const callee = await account('callee', [caller.user]);
			callees.push({ ...callee, devices: [device(callee.user), device(callee.user)] });
		}
		const { callId, invited } = await calls.invite(caller.claims, callerDevice, { to: callees.map((c) => c.user.handle), media: 'audio' });
		expect(Object.values(invited)).toEqual(callees.map(() => 'ringing'));
		return { caller, callerDevice, callees, callId };
	}

	async function history(user: User): Promise<[string, string][]> {
		return (await store.callHistory(user.id, { limit: 10 })).map((row) => [row.direction, row.outcome]);
	}

	function messages(): string[] {
		return logLines().map((line) => line.message as string);
	}

	test('an invite rings every device of the callee until the ring timeout, then is missed', async () => {
		const { caller, callerDevice, callees: [callee], callId } = await ringing();
		for (const d of callee!.devices) {
			expect(d.seen).toEqual([{ name: 'incoming', data: { callId, from: { handle: caller.user.handle, displayName: caller.user.displayName, verified: false }, media: 'audio', waiting: false, e2ee: true } }]);
		}
		expect(callerDevice.seen).toEqual([{ name: 'ringing', data: { callId, handle: callee!.user.handle } }]);

		await clock.advance(RING_MS - 1);
		expect(callerDevice.names()).toEqual(['ringing']);
		expect(calls.activeCalls).toBe(1);

		await clock.advance(1);
		for (const d of callee!.devices) {
			expect(d.names()).toEqual(['incoming', 'missed']);
		}
		expect(callerDevice.seen.slice(1)).toEqual([
			{ name: 'noAnswer', data: { callId, handle: callee!.user.handle } },
			{ name: 'ended', data: { callId, reason: 'over' } },
		]);
		expect(calls.activeCalls).toBe(0);
		expect(clock.pending).toBe(0);
		expect(outcomes).toEqual(['no_answer']);
		expect(await history(caller.user)).toEqual([['outgoing', 'no_answer']]);
		expect(await history(callee!.user)).toEqual([['incoming', 'missed']]);
		expect(started).toEqual([]);
		expect(ended).toEqual([]);
		expect(messages().filter((m) => m.includes('->'))).toEqual(['call leg ringing -> no_answer', 'call ringing -> ended']);
	});

	test('cancel stops every ringing callee, and no timeout fires afterwards', async () => {
		const { caller, callerDevice, callees, callId } = await ringing(2);
		await clock.advance(RING_MS / 2);
		await calls.cancel(caller.claims, callId);
		expect(clock.pending).toBe(0);
		for (const callee of callees) {
			for (const d of callee.devices) {
				expect(d.seen.at(-1)).toEqual({ name: 'cancelled', data: { callId } });
			}
			expect(await history(callee.user)).toEqual([['incoming', 'missed']]);
		}
		expect(callerDevice.names()).toEqual(['ringing', 'ringing', 'ended']);
		await clock.advance(RING_MS);
		expect(callerDevice.names()).toEqual(['ringing', 'ringing', 'ended']);
		expect(outcomes).toEqual(['cancelled', 'cancelled']);
		expect(await history(caller.user)).toEqual([['outgoing', 'cancelled'], ['outgoing', 'cancelled']]);
		// Nobody is left to cancel.
		await expect(calls.cancel(caller.claims, callId)).rejects.toMatchObject({ code: 'not_found' });
	});

	test('a decline on one device ends the call on the callee\'s others and tells the caller', async () => {
		const { caller, callerDevice, callees: [callee], callId } = await ringing();
		const [phone, laptop] = callee!.devices as [FakeDevice, FakeDevice];
		await calls.decline(callee!.claims, phone, callId);
		expect(phone.names()).toEqual(['incoming']);
		expect(laptop.seen.at(-1)).toEqual({ name: 'ended', data: { callId, reason: 'declinedElsewhere' } });
		expect(callerDevice.seen.slice(1)).toEqual([
			{ name: 'declined', data: { callId, handle: callee!.user.handle } },
			{ name: 'ended', data: { callId, reason: 'over' } },
		]);
		expect(await history(caller.user)).toEqual([['outgoing', 'declined']]);
		expect(await history(callee!.user)).toEqual([['incoming', 'declined']]);
		expect(clock.pending).toBe(0);
		await expect(calls.decline(callee!.claims, laptop, callId)).rejects.toMatchObject({ code: 'not_found' });
	});

	test('accept on one device: the others are told call.answeredElsewhere, both sides get the room', async () => {
		const { caller, callerDevice, callees: [callee], callId } = await ringing();
		const [phone, laptop] = callee!.devices as [FakeDevice, FakeDevice];
		await clock.advance(1000);
		const accepted = await calls.accept(callee!.claims, phone, callId);
		expect(accepted.roomId).toBe(`call-${callId}`);
		expect(phone.names()).toEqual(['incoming']);
		expect(laptop.seen.at(-1)).toEqual({ name: 'answeredElsewhere', data: { callId } });
		const toCaller = callerDevice.seen.at(-1);
		expect(toCaller).toMatchObject({ name: 'accepted', data: { callId, handle: callee!.user.handle, roomId: accepted.roomId } });
		expect(await tokens.verify(accepted.token)).toMatchObject({ sub: callee!.user.id, rooms: [accepted.roomId], psid: callee!.claims.sid });
		expect(await tokens.verify((toCaller!.data as { token: string }).token)).toMatchObject({ sub: caller.user.id, rooms: [accepted.roomId], psid: caller.claims.sid });
		expect(await calls.mayJoinRoom({ ...callee!.claims, rooms: [accepted.roomId] }, accepted.roomId)).toEqual({ identity: undefined });
		expect(started).toEqual([callId]);
		expect(outcomes).toEqual(['answered']);
		// The ring timer is gone with the ringing: the call goes on past it.
		expect(clock.pending).toBe(0);
		await clock.advance(RING_MS * 2);
		expect(calls.activeCalls).toBe(1);
		// Answered is answered: not again, not on another device, and no decline after it.
		await expect(calls.accept(callee!.claims, laptop, callId)).rejects.toMatchObject({ code: 'invalid_state', message: 'the call is accepted, it cannot become accepted' });
		await expect(calls.decline(callee!.claims, laptop, callId)).rejects.toMatchObject({ code: 'invalid_state' });
		expect(messages().filter((m) => m.includes('->'))).toEqual(['call leg ringing -> accepted', 'call ringing -> active']);
	});

	test('a call with two callees becomes active once: one ringing -> active log, one callStarted', async () => {
		const { caller, callees: [a, b], callId } = await ringing(2);
		await calls.accept(a!.claims, a!.devices[0]!, callId);
		await calls.accept(b!.claims, b!.devices[0]!, callId);
		expect(messages().filter((m) => m === 'call ringing -> active')).toHaveLength(1);
		expect(started).toEqual([callId]);
		await calls.hangup(caller.claims, callId);
		expect(ended).toEqual([callId]);
		expect(messages().filter((m) => m.startsWith('call ') && m.includes('->') && !m.startsWith('call leg'))).toEqual(['call ringing -> active', 'call active -> ended']);
	});

	test('the caller hangs up: every party is out of the room, history has how long it lasted', async () => {
		const { caller, callerDevice, callees: [callee], callId } = await ringing();
		const { roomId } = await calls.accept(callee!.claims, callee!.devices[0]!, callId);
		await clock.advance(62_000);
		await calls.hangup(caller.claims, callId);
		expect(removed).toEqual([
			{ callId, roomId, userId: caller.user.id, reason: 'hangup' },
			{ callId, roomId, userId: callee!.user.id, reason: 'callEnded' },
		]);
		for (const d of callee!.devices) {
			expect(d.seen.at(-1)).toEqual({ name: 'ended', data: { callId, reason: 'hangup' } });
		}
		expect(callerDevice.seen.at(-1)).toEqual({ name: 'ended', data: { callId, reason: 'hangup' } });
		const [row] = await store.callHistory(caller.user.id, { limit: 1 });
		expect(row).toMatchObject({ outcome: 'answered', durationMs: 62_000, startedAt: Date.UTC(2030, 0, 1) });
		expect(await history(callee!.user)).toEqual([['incoming', 'answered']]);
		expect(ended).toEqual([callId]);
		expect(await calls.mayJoinRoom({ ...caller.claims, rooms: [roomId] }, roomId)).toBeUndefined();
		await expect(calls.token(caller.claims, callId)).rejects.toMatchObject({ code: 'not_found' });
		await expect(calls.hangup(caller.claims, callId)).rejects.toMatchObject({ code: 'not_found' });
	});

	test('a callee hangs up: the caller is told call.left, and the call ends when nobody is left', async () => {
		const { caller, callerDevice, callees: [a, b], callId } = await ringing(2);
		const { roomId } = await calls.accept(a!.claims, a!.devices[0]!, callId);
		await calls.hangup(a!.claims, callId);
		expect(removed).toEqual([{ callId, roomId, userId: a!.user.id, reason: 'hangup' }]);
		expect(callerDevice.seen.at(-1)).toEqual({ name: 'left', data: { callId, handle: a!.user.handle } });
		// b still rings: the call goes on until b's ring times out.
		expect(calls.activeCalls).toBe(1);
		await clock.advance(RING_MS);
		expect(callerDevice.names().slice(-3)).toEqual(['left', 'noAnswer', 'ended']);
		expect(removed.at(-1)).toEqual({ callId, roomId, userId: caller.user.id, reason: 'callEnded' });
		expect(await history(a!.user)).toEqual([['incoming', 'answered']]);
		expect(await history(b!.user)).toEqual([['incoming', 'missed']]);
		expect(ended).toEqual([callId]);
	});

	test('the caller\'s device going away cancels its ringing call, not an active one', async () => {
		const first = await ringing();
		await calls.deviceGone(first.caller.claims, first.callerDevice);
		expect(first.callees[0]!.devices[0]!.seen.at(-1)).toEqual({ name: 'cancelled', data: { callId: first.callId } });
		expect(calls.activeCalls).toBe(0);

		const second = await ringing();
		await calls.accept(second.callees[0]!.claims, second.callees[0]!.devices[0]!, second.callId);
		await calls.deviceGone(second.caller.claims, second.callerDevice);
		expect(calls.activeCalls).toBe(1);
	});

	test('call waiting: a callee in a call rings with waiting set, and accepting hangs up the other call', async () => {
		const first = await ringing();
		const callee = first.callees[0]!;
		await calls.accept(callee.claims, callee.devices[0]!, first.callId);
		const other = await account('other');
		await store.setRelation('contact', callee.user.id, other.user.handle, true);
		const otherDevice = device(other.user);
		const { callId } = await calls.invite(other.claims, otherDevice, { to: [callee.user.handle] });
		expect(callee.devices[0]!.seen.at(-1)).toMatchObject({ name: 'incoming', data: { callId, waiting: true, media: 'video' } });
		await calls.accept(callee.claims, callee.devices[0]!, callId);
		expect(first.callerDevice.names().slice(-2)).toEqual(['left', 'ended']);
		expect(calls.activeCalls).toBe(1);
	});

	test('a block while it rings stops it on the callee side only; the caller sees no answer at the timeout', async () => {
		const { caller, callerDevice, callees: [callee], callId } = await ringing();
		await store.setRelation('block', callee!.user.id, caller.user.handle, true);
		await calls.recheck(callee!.user.id);
		for (const d of callee!.devices) {
			expect(d.names()).toEqual(['incoming', 'cancelled']);
		}
		expect(callerDevice.names()).toEqual(['ringing']);
		await expect(calls.accept(callee!.claims, callee!.devices[0]!, callId)).rejects.toMatchObject({ code: 'invalid_state', message: 'the call is over' });
		await expect(calls.decline(callee!.claims, callee!.devices[0]!, callId)).rejects.toMatchObject({ code: 'invalid_state', message: 'the call is over' });
		await clock.advance(RING_MS);
		expect(callerDevice.names()).toEqual(['ringing', 'noAnswer', 'ended']);
		// No call.missed for a ring the callee no longer saw.
		for (const d of callee!.devices) {
			expect(d.names()).toEqual(['incoming', 'cancelled']);
		}
		expect(await history(caller.user)).toEqual([['outgoing', 'no_answer']]);
	});

	test('invites a minute: crossing the limit refuses invites for the cool-down, then they ring again', async () => {
		start({ invitesPerMinute: 2, coolDownSeconds: 600 });
		const caller = await account('caller');
		const callerDevice = device(caller.user);
		const callees: { user: User }[] = [];
		for (let i = 0; i < 3; i++) {
			const callee = await account('callee', [caller.user]);
			device(callee.user);
			callees.push(callee);
		}
		const invite = (i: number) => calls.invite(caller.claims, callerDevice, { to: [callees[i]!.user.handle] });
		await invite(0);
		await invite(1);
		await expect(invite(2)).rejects.toMatchObject({ code: 'rate_limited' });
		// The minute has passed, but the cool-down has not.
		await clock.advance(60_000);
		await expect(invite(2)).rejects.toMatchObject({ code: 'rate_limited' });
		await clock.advance(600_000 - 60_000);
		await expect(invite(2)).resolves.toMatchObject({ invited: { [callees[2]!.user.handle]: 'ringing' } });
		expect(outcomes.filter((o) => o === 'rate_limited')).toHaveLength(2);
	});

	test('unanswered callees a day: distinct callees who did not answer count, for 24 h', async () => {
		start({ unansweredPerDay: 2, invitesPerMinute: 100, coolDownSeconds: 60 });
		const caller = await account('caller');
		const callerDevice = device(caller.user);
		// Two distinct callees miss rings (one of them twice).
		const missing = [await account('missing', [caller.user]), await account('missing', [caller.user])];
		missing.forEach((m) => device(m.user));
		for (const m of [missing[0]!, missing[0]!, missing[1]!]) {
			await calls.invite(caller.claims, callerDevice, { to: [m.user.handle] });
			await clock.advance(RING_MS);
		}
		const answering = await account('answering', [caller.user]);
		device(answering.user);
		await expect(calls.invite(caller.claims, callerDevice, { to: [answering.user.handle] })).rejects.toMatchObject({ code: 'rate_limited' });
		await clock.advance(24 * 3600 * 1000);
		await expect(calls.invite(caller.claims, callerDevice, { to: [answering.user.handle] })).resolves.toMatchObject({ invited: { [answering.user.handle]: 'ringing' } });
	});

	test('refusals: no ring, no state change', async () => {
		const { caller, callerDevice, callees: [callee], callId } = await ringing();
		const stranger = await account('stranger');
		device(stranger.user);
		// Not rung: unavailable, with a row for the caller only.
		await expect(calls.invite(caller.claims, callerDevice, { to: [stranger.user.handle] })).rejects.toMatchObject({ code: 'unavailable' });
		expect(await history(stranger.user)).toEqual([]);
		expect(await history(caller.user)).toEqual([['outgoing', 'unavailable']]);
		// Already in the call: unavailable too.
		await expect(calls.invite(caller.claims, callerDevice, { to: [callee!.user.handle], callId })).rejects.toMatchObject({ code: 'unavailable' });
		// A ringing callee is no party: it cannot hang up or get a token; the caller cannot answer.
		await expect(calls.hangup(callee!.claims, callId)).rejects.toMatchObject({ code: 'not_found' });
		await expect(calls.token(callee!.claims, callId)).rejects.toMatchObject({ code: 'not_found' });
		await expect(calls.accept(caller.claims, callerDevice, callId)).rejects.toMatchObject({ code: 'not_found' });
		// A room token (no login session) acts on no call.
		await expect(calls.cancel({ ...caller.claims, sid: undefined }, callId)).rejects.toMatchObject({ code: 'unauthorized' });
		calls.drain();
		await expect(calls.invite(caller.claims, callerDevice, { to: [callee!.user.handle] })).rejects.toMatchObject({ code: 'draining' });
		expect(callee!.devices[0]!.names()).toEqual(['incoming']);
		expect(calls.activeCalls).toBe(1);
	});

	test('close() stops every ring timer', async () => {
		await ringing(2);
		expect(clock.pending).toBe(2);
		calls.close();
		expect(clock.pending).toBe(0);
		expect(calls.activeCalls).toBe(0);
	});
});
