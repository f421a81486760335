import { choosePlacement, shouldRetire, type PlacedRouter } from './placement';

type Options = { score?: number; peers?: number; closed?: boolean; alive?: boolean };

function router(worker: number, consumers: number, { score = 0, peers = 1, closed = false, alive = true }: Options = {}): PlacedRouter {
	return { closed, consumers, peers, worker: { index: worker, score, alive } };
}

describe('choosePlacement', () => {
	const limit = 10;

	test('the least-loaded router under the limit: worker score first, then consumers', () => {
		const busy = router(0, 2, { score: 5 });
		const idle = router(1, 8, { score: 1 });
		const idler = router(2, 3, { score: 1 });
		expect(choosePlacement([busy, idle, idler], [0, 1, 2], limit)).toEqual({ use: idler });
	});

	test.each([
		['a worker the room does not use', [router(0, 10)], [0, 1], { newRouterExcept: new Set([0]) }],
		['no live router at all', [router(0, 0, { closed: true })], [0], { newRouterExcept: new Set() }],
		['a router on a dead worker does not count as used', [router(0, 0, { alive: false })], [1], { newRouterExcept: new Set() }],
	])('every router at the limit, %s: a new router', (_what, routers, workers, expected) => {
		expect(choosePlacement(routers, workers, limit)).toEqual(expected);
	});

	test('every router at the limit and every worker used: the router with the fewest consumers', () => {
		const full = router(0, 14);
		const fuller = router(1, 20, { score: -1 });
		const least = router(2, 12, { score: 9 });
		expect(choosePlacement([full, fuller, least], [0, 1, 2], limit)).toEqual({ use: least });
	});

	test('a limit of 0 puts every peer on a router of its own while workers last', () => {
		expect(choosePlacement([router(0, 0)], [0, 1], 0)).toEqual({ newRouterExcept: new Set([0]) });
	});
});

describe('shouldRetire', () => {
	const a = router(0, 0, { peers: 0 });
	const b = router(1, 0, { peers: 0 });

	test.each([
		['no peer left, not the speaker router, not the last', a, { speakerRouter: b, routers: 2 }, true],
		['a peer left on it', router(0, 0, { peers: 1 }), { speakerRouter: b, routers: 2 }, false],
		['the speaker router', a, { speakerRouter: a, routers: 2 }, false],
		['the room\'s last router', a, { speakerRouter: undefined, routers: 1 }, false],
		['already closed', router(0, 0, { peers: 0, closed: true }), { speakerRouter: b, routers: 2 }, false],
	])('%s', (_what, subject, room, expected) => {
		expect(shouldRetire(subject, room)).toBe(expected);
	});
});
