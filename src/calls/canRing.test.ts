import { DEFAULT_SETTINGS, type UserSettings } from '../store';
import { canRing, type RingDecision, type Relations } from './canRing';

type Flag = keyof UserSettings['calls']['allowFrom'];
const FLAGS: readonly Flag[] = ['contacts', 'following', 'verified', 'everyone'];

const NONE: Relations = { calleeHasCallerAsContact: false, calleeFollowsCaller: false, calleeBlockedCaller: false, callerBlockedCallee: false };

/**
 * Each kind of caller, and, written out by hand from the rules, which allowFrom
 * flags let that caller ring. This list, not canRing's logic, is the oracle.
 */
const CALLERS: { kind: string; verified: boolean; relations: Relations; admittedBy: Flag[] }[] = [
	{ kind: 'contact', verified: false, relations: { ...NONE, calleeHasCallerAsContact: true }, admittedBy: ['contacts', 'everyone'] },
	{ kind: 'followed', verified: false, relations: { ...NONE, calleeFollowsCaller: true }, admittedBy: ['following', 'everyone'] },
	{ kind: 'verified stranger', verified: true, relations: NONE, admittedBy: ['verified', 'everyone'] },
	{ kind: 'unverified stranger', verified: false, relations: NONE, admittedBy: ['everyone'] },
	{
		kind: 'contact+followed',
		verified: false,
		relations: { ...NONE, calleeHasCallerAsContact: true, calleeFollowsCaller: true },
		admittedBy: ['contacts', 'following', 'everyone'],
	},
];

function settingsWith(enabled: boolean, on: readonly Flag[]): UserSettings {
	return {
		discoverable: true,
		calls: {
			enabled,
			allowFrom: { contacts: on.includes('contacts'), following: on.includes('following'), verified: on.includes('verified'), everyone: on.includes('everyone') },
			silenceOthers: false,
		},
	};
}

type Row = { kind: string; enabled: boolean; on: Flag[]; label: string; expected: RingDecision };

// Every subset of the four flags (16) x every kind of caller (5) x calls on / off (2).
const table: Row[] = [];
for (let mask = 0; mask < 16; mask++) {
	const on = FLAGS.filter((_, bit) => mask & (1 << bit));
	for (const { kind, admittedBy } of CALLERS) {
		for (const enabled of [true, false]) {
			let expected: RingDecision;
			if (!enabled) {
				expected = { allowed: false, reason: 'calls_disabled' };
			} else if (on.some((flag) => admittedBy.includes(flag))) {
				expected = { allowed: true };
			} else {
				expected = { allowed: false, reason: 'not_allowed' };
			}
			table.push({ kind, enabled, on, label: on.join('+') || 'nobody', expected });
		}
	}
}

describe('canRing', () => {
	test('the table covers 16 flag sets x 5 callers x calls on/off', () => {
		expect(table).toHaveLength(160);
		// With calls on, a caller admitted by k of the flags rings in 16 - 2^(4-k) flag sets:
		// contact, followed, verified stranger 12 each; unverified stranger 8; contact+followed 14.
		expect(table.filter((row) => row.expected.allowed)).toHaveLength(12 + 12 + 12 + 8 + 14);
	});

	test.each(table)('$kind, calls enabled $enabled, allowFrom $label -> $expected.allowed', ({ kind, enabled, on, expected }) => {
		const { verified, relations } = CALLERS.find((c) => c.kind === kind)!;
		expect(canRing({ id: 'caller', verified }, { id: 'callee' }, relations, settingsWith(enabled, on))).toEqual(expected);
	});

	test.each([
		{ direction: 'callee blocked caller', block: { calleeBlockedCaller: true } },
		{ direction: 'caller blocked callee', block: { callerBlockedCallee: true } },
	])('a block wins over everyone, contact, following and verified: $direction', ({ block }) => {
		const relations: Relations = { ...NONE, calleeHasCallerAsContact: true, calleeFollowsCaller: true, ...block };
		const caller = { id: 'caller', verified: true };
		expect(canRing(caller, { id: 'callee' }, relations, settingsWith(true, FLAGS))).toEqual({ allowed: false, reason: 'blocked' });
		expect(canRing(caller, { id: 'callee' }, relations, settingsWith(false, FLAGS))).toEqual({ allowed: false, reason: 'blocked' });
	});

	test('nobody rings themselves, even with everyone allowed', () => {
		const relations: Relations = { ...NONE, calleeHasCallerAsContact: true, calleeFollowsCaller: true };
		expect(canRing({ id: 'same', verified: true }, { id: 'same' }, relations, settingsWith(true, FLAGS))).toEqual({ allowed: false, reason: 'self' });
	});

	test('defaults are as specified and frozen all the way down', () => {
		expect(DEFAULT_SETTINGS).toEqual({
			discoverable: true,
			calls: { enabled: true, allowFrom: { contacts: true, following: true, verified: false, everyone: false }, silenceOthers: false },
		});
		expect(Object.isFrozen(DEFAULT_SETTINGS)).toBe(true);
		expect(Object.isFrozen(DEFAULT_SETTINGS.calls)).toBe(true);
		expect(Object.isFrozen(DEFAULT_SETTINGS.calls.allowFrom)).toBe(true);
	});
});
