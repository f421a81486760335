import { canRing, DEFAULT_SETTINGS, type Relations, type UserSettings } from './canRing';

const NONE: Relations = { calleeHasCallerAsContact: false, calleeFollowsCaller: false, calleeBlockedCaller: false, callerBlockedCallee: false };

/** How the caller stands to the callee, and whether the caller is verified. */
const RELATIONS: Record<string, { relations: Relations; verified: boolean }> = {
	contact: { relations: { ...NONE, calleeHasCallerAsContact: true }, verified: false },
	followed: { relations: { ...NONE, calleeFollowsCaller: true }, verified: false },
	'contact and followed': { relations: { ...NONE, calleeHasCallerAsContact: true, calleeFollowsCaller: true }, verified: false },
	'verified stranger': { relations: NONE, verified: true },
	stranger: { relations: NONE, verified: false },
};

const FLAGS = ['contacts', 'following', 'verified', 'everyone'] as const;

function settingsWith(enabled: boolean, allowed: Set<string>): UserSettings {
	return {
		discoverable: true,
		calls: { enabled, allowFrom: Object.fromEntries(FLAGS.map((f) => [f, allowed.has(f)])) as UserSettings['calls']['allowFrom'] },
	};
}

/** The rules, written out once more as plainly as possible. */
function expected(kind: string, enabled: boolean, allowed: Set<string>): boolean {
	if (!enabled) {
		return false;
	}
	return allowed.has('everyone') ||
		(allowed.has('contacts') && kind.includes('contact')) ||
		(allowed.has('following') && kind.includes('followed')) ||
		(allowed.has('verified') && kind === 'verified stranger');
}

// Every combination of the four allowFrom flags, for every relation, with calls on and off.
const table: [string, boolean, string, boolean][] = [];
for (let mask = 0; mask < 16; mask++) {
	const allowed = new Set(FLAGS.filter((_, i) => mask & (1 << i)));
	for (const kind of Object.keys(RELATIONS)) {
		for (const enabled of [true, false]) {
			table.push([kind, enabled, [...allowed].join('+') || 'nobody', expected(kind, enabled, allowed)]);
		}
	}
}

describe('canRing', () => {
	test.each(table)('%s, calls enabled %s, allowFrom %s -> %s', (kind, enabled, allowedText, allowed) => {
		const { relations, verified } = RELATIONS[kind]!;
		const set = new Set(allowedText === 'nobody' ? [] : allowedText.split('+'));
		const decision = canRing({ id: 'caller', verified }, { id: 'callee' }, relations, settingsWith(enabled, set));
		expect(decision.allowed).toBe(allowed);
		if (!decision.allowed) {
			expect(decision.reason).toBe(enabled ? 'not_allowed' : 'calls_disabled');
		}
	});

	test.each([
		['the callee blocked the caller', { calleeBlockedCaller: true }],
		['the caller blocked the callee', { callerBlockedCallee: true }],
	])('a block wins over everyone and contacts: %s', (_what, block) => {
		const relations = { ...NONE, calleeHasCallerAsContact: true, calleeFollowsCaller: true, ...block };
		const everyone = settingsWith(true, new Set(FLAGS));
		expect(canRing({ id: 'a', verified: true }, { id: 'b' }, relations, everyone)).toEqual({ allowed: false, reason: 'blocked' });
		expect(canRing({ id: 'a', verified: true }, { id: 'b' }, relations, settingsWith(false, new Set()))).toEqual({ allowed: false, reason: 'blocked' });
	});

	test('nobody rings themselves', () => {
		expect(canRing({ id: 'a', verified: true }, { id: 'a' }, NONE, settingsWith(true, new Set(['everyone'])))).toEqual({ allowed: false, reason: 'self' });
	});

	test('defaults: contacts and people I follow may ring me, strangers may not', () => {
		expect(canRing({ id: 'a', verified: false }, { id: 'b' }, RELATIONS.contact!.relations, DEFAULT_SETTINGS).allowed).toBe(true);
		expect(canRing({ id: 'a', verified: false }, { id: 'b' }, RELATIONS.followed!.relations, DEFAULT_SETTINGS).allowed).toBe(true);
		expect(canRing({ id: 'a', verified: true }, { id: 'b' }, NONE, DEFAULT_SETTINGS).allowed).toBe(false);
		expect(Object.isFrozen(DEFAULT_SETTINGS.calls.allowFrom)).toBe(true);
	});
});
