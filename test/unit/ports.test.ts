import { badPort, findFreePorts } from '../helpers/ports';

// The fleets' and servers' ports in tests (test/helpers/ports.ts): a node on a
// port that fetch refuses never answers /readyz, and its fleet never starts.

test('fetch refuses the ports badPort names (the list is the one node\'s fetch keeps)', async () => {
	expect(badPort(4190)).toBe(true);
	expect(badPort(4191)).toBe(false);
	const refused = await fetch('http://127.0.0.1:4190/').then(() => undefined, (error: Error) => error.cause);
	expect(String((refused as Error | undefined)?.message)).toMatch(/bad port/);
});

test('findFreePorts passes over a range with a bad port, even when its random start is there', async () => {
	const worker = process.env.JEST_WORKER_ID;
	process.env.JEST_WORKER_ID = '1';
	// Range 4000-4749 in fours: the 48th base is 4188, whose range holds 4190.
	const random = jest.spyOn(Math, 'random').mockReturnValue(47.5 / Math.floor(750 / 4));
	try {
		const base = await findFreePorts(4);
		expect(base).not.toBe(4188);
		expect([base, base + 1, base + 2, base + 3].some(badPort)).toBe(false);
	} finally {
		random.mockRestore();
		process.env.JEST_WORKER_ID = worker;
	}
});
