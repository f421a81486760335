/** What placement reads of one of a room's routers. */
export type PlacedRouter = {
	readonly closed: boolean;
	/** Consumers on the router's transports. */
	readonly consumers: number;
	/** Peers of the room assigned to the router. */
	readonly peers: number;
	readonly worker: { readonly index: number; readonly score: number; readonly alive: boolean };
};

/** Use one of the room's routers, or make a new one on a worker the room does not use yet. */
export type Placement<R> = { use: R } | { newRouterExcept: ReadonlySet<number> };

/**
 * Where a joining peer goes: the least-loaded of the room's live routers
 * still under `consumerLimit` consumers; else a new router on a worker the
 * room does not use yet (`workers` are the indexes of the pool's live
 * workers); else, every worker used, the room's router with the fewest
 * consumers.
 */
export function choosePlacement<R extends PlacedRouter>(routers: Iterable<R>, workers: readonly number[], consumerLimit: number): Placement<R> {
	const live = [...routers].filter((r) => !r.closed && r.worker.alive);
	const byLoad = (a: R, b: R) => a.worker.score - b.worker.score || a.consumers - b.consumers;
	const under = live.filter((r) => r.consumers < consumerLimit).sort(byLoad)[0];
	if (under) {
		return { use: under };
	}
	const used = new Set(live.map((r) => r.worker.index));
	const spare = workers.some((index) => !used.has(index));
	if (spare || live.length === 0) {
		return { newRouterExcept: used };
	}
	return { use: live.sort((a, b) => a.consumers - b.consumers)[0]! };
}

/**
 * Whether a router a peer just left should close (its pipes with it): once
 * it has no peer, unless it is the one watching for the active speaker or
 * the room's last, which stay until the room closes.
 */
export function shouldRetire<R extends PlacedRouter>(router: R, room: { speakerRouter: R | undefined; routers: number }): boolean {
	return router.peers === 0 && router !== room.speakerRouter && room.routers > 1 && !router.closed;
}
